"""Feeds and article URLs: fetched into the articles folder, then indexed by the normal incremental reindex.

A real HTTP server on 127.0.0.1 (random port) serves RSS and Atom feeds and article pages, with ETag and
Last-Modified support. No test connects anywhere but 127.0.0.1: `no_outside_connections` makes any other
connection attempt fail loudly, and the refusal tests check that nothing was even attempted.
"""

from __future__ import annotations

import hashlib
import ipaddress
import itertools
import json
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from index.engine import Engine
from index.ingest.articles import load_file
from index.sources.extract import decode
from index.sources.feeds import (
    STATE_FILE,
    FetchPolicy,
    SourceStatus,
    UnsafeURL,
    canonical_url,
    check_url,
    fetch_page,
    refresh_feeds,
)
from index.sources.http import address_class
from index.sources.urls import clean_url
from tests.fakes import HashingEmbedder

# --- articles (invented for these tests) -----------------------------------------------------------------

BEES = [
    "More than forty beekeepers set up their stalls along the harbour on Saturday morning, selling clover "
    "honey, beeswax candles and jars of heather comb to a crowd the organisers put at six thousand.",
    "The association's chair, Ruth Okafor, said the spring had been kind to the colonies after two wet "
    "years, and that several members had doubled their hives since the last market.",
    "Children queued for the observation hive, a glass-sided box in which visitors could watch the workers "
    "and try to spot the queen, marked with a dab of blue paint.",
]
BEES_EDITED = [
    "More than forty beekeepers set up their stalls along the harbour on Saturday morning, selling lavender "
    "honey, beeswax candles and jars of heather comb to a crowd the organisers put at five thousand.",
    BEES[1],
    "A correction was added: the observation hive belonged to the school garden club, whose pupils "
    "explained the waggle dance to anyone who would listen.",
]
TRAM = [
    "The council approved the extension of the number four tram line to the new hospital on Tuesday, "
    "ending a debate that had run through three budget cycles.",
    "Engineers expect the two kilometres of track to be laid over eighteen months, with the depot on "
    "Quarry Road enlarged to house six additional carriages.",
    "Shopkeepers on Mill Street, where the rails will run, asked for compensation during the works; the "
    "mayor promised a fund and a weekly meeting with the contractors.",
]
LIBRARY = [
    "The central library will stay open until ten in the evening on Thursdays from next month, a trial "
    "that the head librarian hopes will draw students and shift workers.",
    "Volunteers from the chess club and the local history society have offered to host evening sessions "
    "in the reading rooms on the upper floor.",
    "If visits rise by a fifth over the winter, the late opening will be extended to Mondays, the "
    "culture committee said.",
]
LIGHTHOUSE = [
    "Restoration of the old lighthouse on Gull Point has uncovered the keeper's logbooks from the 1890s, "
    "sealed in a tin chest beneath the lamp room floor.",
    "The entries record storms, shipwrecks and the daily ration of paraffin, written in a careful hand by "
    "a keeper named Elias Marr, who served on the point for twenty-two years.",
    "The logbooks will be shown at the maritime museum once conservators have dried and flattened the "
    "pages, which suffered from a century of damp sea air.",
]
FERRY = (
    "The island ferry will run a reduced winter timetable from November, with two crossings a day instead "
    "of five, the operator announced after a season of storms damaged the landing stage at Kells Quay. "
    "Islanders said the change would make commuting to the mainland hospital and college impossible, and "
    "the parish council has asked for an extra evening sailing on weekdays."
)


def page(title: str, paragraphs: list[str], *, canonical: str | None = None, date: str | None = None,
         site: str = "Marlow Bay Courier") -> bytes:  # fmt: skip
    head = [f"<title>{escape(title)} | {site}</title>", '<meta charset="utf-8">']
    if canonical:
        head.append(f'<link rel="canonical" href="{escape(canonical)}">')
    if date:
        head.append(f'<meta property="article:published_time" content="{date}">')
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="en"><head>{"".join(head)}</head><body>'
        f'<nav><a href="/">Home</a> <a href="/sport">Sport</a> <a href="/weather">Weather</a></nav>'
        f"<article><h1>{escape(title)}</h1>{body}</article>"
        f"<footer>Marlow Bay Courier, 3 Quay Street</footer></body></html>"
    ).encode()


def rss(title: str, items: list[dict]) -> bytes:
    out = [f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
           "<link>http://example.invalid/</link><description>Local news</description>"]  # fmt: skip
    for it in items:
        out.append(
            f"<item><title>{escape(it['title'])}</title><link>{escape(it['link'])}</link>"
            f"<pubDate>{it.get('date', 'Wed, 14 May 2025 08:00:00 GMT')}</pubDate>"
            f"<description>{escape(it.get('summary', 'A short teaser.'))}</description></item>"
        )
    out.append("</channel></rss>")
    return "".join(out).encode()


def atom(title: str, items: list[dict]) -> bytes:
    out = ['<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
           f"<title>{escape(title)}</title><id>urn:newsdesk:test:{escape(title)}</id>"
           "<updated>2025-05-15T09:00:00Z</updated>"]  # fmt: skip
    for n, it in enumerate(items):
        out.append(
            f"<entry><title>{escape(it['title'])}</title><link href=\"{escape(it['link'])}\"/>"
            f"<id>urn:newsdesk:test:{n}</id><updated>{it.get('updated', '2025-05-15T09:00:00Z')}</updated>"
            f"<summary>{escape(it.get('summary', 'A short teaser.'))}</summary></entry>"
        )
    out.append("</feed>")
    return "".join(out).encode()


# --- the test server -------------------------------------------------------------------------------------


@dataclass
class Resource:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0
    chunked: bool = False
    headers: dict = field(default_factory=dict)


class Site:
    """Routes (by path, query ignored) that a test can change at any time; counts requests per path."""

    def __init__(self) -> None:
        self.routes: dict[str, Resource] = {}
        self.hits: Counter = Counter()
        self.log: list[tuple[float, str, dict]] = []  # (time, target, headers)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.port = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def put(self, path: str, body: bytes = b"", content_type: str = "text/html; charset=utf-8", *,
            etag: bool = True, last_modified: bool = False, **kw) -> Resource:  # fmt: skip
        tag = f'"{hashlib.sha1(body).hexdigest()[:12]}"' if etag else None
        stamp = formatdate(time.time(), usegmt=True) if last_modified else None
        res = Resource(body, content_type, etag=tag, last_modified=stamp, **kw)
        self.routes[path] = res
        return res

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.routes[path] = Resource(status=status, headers={"Location": location})

    def total(self) -> int:
        return sum(self.hits.values())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ThreadingHTTPServer

    def log_message(self, *args) -> None:  # keep the test output quiet
        pass

    def do_GET(self) -> None:
        site: Site = self.server.site  # type: ignore[attr-defined]
        path = self.path.split("?", 1)[0]
        with site.lock:
            site.hits[path] += 1
            site.log.append((time.monotonic(), self.path, {k.lower(): v for k, v in self.headers.items()}))
        res = site.routes.get(path)
        try:
            if res is None:
                self._send(404, b"not here", "text/plain")
                return
            if res.delay:
                site.stop.wait(res.delay)
            if res.etag and self.headers.get("If-None-Match") == res.etag:
                self._send(304, b"", None, res)
                return
            if res.last_modified and self.headers.get("If-Modified-Since") == res.last_modified:
                self._send(304, b"", None, res)
                return
            self._send(res.status, res.body, res.content_type, res)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _send(self, status: int, body: bytes, ctype: str | None, res: Resource | None = None) -> None:
        self.send_response(status)
        if ctype and status != 304:
            self.send_header("Content-Type", ctype)
        if res is not None:
            if res.etag:
                self.send_header("ETag", res.etag)
            if res.last_modified:
                self.send_header("Last-Modified", res.last_modified)
            for k, v in res.headers.items():
                self.send_header(k, v)
        if status == 304:
            self.end_headers()
            return
        if res is not None and res.chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 1024):
                part = body[i : i + 1024]
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def site():
    s = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.site = s  # type: ignore[attr-defined]
    s.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield s
    s.stop.set()
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def no_outside_connections(monkeypatch):
    """Record every outgoing connection; anything but 127.0.0.1 fails instead of leaving the machine."""
    attempts: list[str] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def check(address) -> None:
        host = address[0] if isinstance(address, tuple) else str(address)
        attempts.append(str(host))
        if host != "127.0.0.1":
            raise ConnectionRefusedError(f"test guard: connection to {host} blocked")

    def connect(self, address):
        check(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        check(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return attempts


POLICY = FetchPolicy(allow_hosts=("127.0.0.1",), per_host_delay=0.0, timeout=2.0)


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def article_files(folder: Path) -> dict[str, bytes]:
    return {k: v for k, v in files(folder).items() if k.startswith("web/") and k.endswith(".txt")}


def serve_local_news(site: Site) -> tuple[str, str]:
    """An RSS feed (bees, tram, library) and an Atom feed (lighthouse, ferry); returns their URLs."""
    site.put("/articles/bees", page("Beekeepers crowd the harbour market", BEES,
                                    canonical=site.url("/articles/bees"), date="2025-05-14T08:00:00Z"))  # fmt: skip
    site.put("/articles/tram", page("Tram line four to reach the hospital", TRAM), last_modified=True, etag=False)
    site.put("/articles/library", page("Library to open late on Thursdays", LIBRARY))
    site.put("/articles/lighthouse", page("Keeper's logbooks found in lighthouse", LIGHTHOUSE))
    site.put("/articles/ferry", page("Ferry timetable cut for winter", [FERRY]))
    site.put("/feeds/local.rss", rss("Marlow Bay Courier", [
        {"title": "Beekeepers crowd the harbour market", "link": site.url("/articles/bees?utm_source=rss")},
        {"title": "Tram line four to reach the hospital", "link": site.url("/articles/tram")},
        {"title": "Library to open late on Thursdays", "link": "/articles/library"},  # relative link
    ]), "application/rss+xml")  # fmt: skip
    site.put("/feeds/coast.atom", atom("Coast Weekly", [
        {"title": "Keeper's logbooks found in lighthouse", "link": site.url("/articles/lighthouse")},
        {"title": "Ferry timetable cut for winter", "link": site.url("/articles/ferry#comments")},
    ]), "application/atom+xml; charset=utf-8")  # fmt: skip
    return site.url("/feeds/local.rss"), site.url("/feeds/coast.atom")


def passages_with(engine: Engine, word: str) -> list[str]:
    return [h.passage.text for h in engine.search(word, k=20) if word in h.passage.text.lower()]


# --- feeds into the index --------------------------------------------------------------------------------


def test_new_items_are_written_indexed_then_304(site, tmp_path):
    local, coast = serve_local_news(site)
    articles = tmp_path / "articles"
    statuses = refresh_feeds([local, coast], articles, POLICY)

    assert [(s.url, s.kind, s.status, s.new, s.error) for s in statuses] == [
        (local, "feed", "ok", 3, None), (coast, "feed", "ok", 2, None)]  # fmt: skip
    assert statuses[0].title == "Marlow Bay Courier"
    assert json.loads(json.dumps([s.to_dict() for s in statuses]))[1]["new"] == 2
    written = article_files(articles)
    assert len(written) == 5
    assert all(k.startswith("web/127.0.0.1/") for k in written)
    assert any("/bees-" in k for k in written)

    # The file is a plain .txt article with its header; tracking parameters and fragments are gone.
    bees = next(articles / k for k in written if "/bees-" in k)
    [art], _ = load_file(bees)
    assert art.title == "Beekeepers crowd the harbour market"
    assert art.url == site.url("/articles/bees")
    assert art.date == "2025-05-14"
    assert "clover honey" in art.text
    ferry = next(articles / k for k in written if "/ferry-" in k)
    [ferry_art], _ = load_file(ferry)
    assert ferry_art.url == site.url("/articles/ferry")
    assert ferry_art.source == "Coast Weekly"  # no site name on the page: the feed's title
    assert ferry_art.date == "2025-05-15"  # no date on the page: the entry's

    # State is hidden (the loader skips it) and holds the validators.
    state = json.loads((articles / STATE_FILE).read_text())
    assert state["urls"][local]["etag"] and state["urls"][site.url("/articles/tram")]["last_modified"]
    assert state["canonical"][site.url("/articles/bees")]["file"] in written

    embedder = HashingEmbedder()
    engine = Engine(tmp_path / "idx", embedder)
    summary = engine.reindex([articles])
    assert (summary.added, summary.failed) == (5, ())
    hits = engine.search("beekeepers clover honey harbour market", k=3)
    assert hits[0].article.url == site.url("/articles/bees")
    assert engine.search("keeper logbooks lighthouse paraffin", k=1)[0].article.url == site.url("/articles/lighthouse")

    # Second refresh: one 304 per feed, no page requested, nothing written, nothing embedded.
    before_files, before_hits, before_encoded = files(articles), dict(site.hits), embedder.documents_encoded
    del before_files[STATE_FILE]  # its "checked" times move on
    again = refresh_feeds([local, coast], articles, POLICY)
    assert [s.status for s in again] == ["not_modified", "not_modified"]
    assert site.hits - Counter(before_hits) == Counter({"/feeds/local.rss": 1, "/feeds/coast.atom": 1})
    assert {k: v for k, v in files(articles).items() if k != STATE_FILE} == before_files
    summary = engine.reindex([articles])
    assert (summary.added, summary.updated, summary.unchanged, summary.passages_embedded) == (0, 0, 5, 0)
    assert embedder.documents_encoded == before_encoded


def test_edited_article_is_reembedded_and_old_text_gone(site, tmp_path):
    local, coast = serve_local_news(site)
    articles = tmp_path / "articles"
    refresh_feeds([local, coast], articles, POLICY)
    embedder = HashingEmbedder()
    engine = Engine(tmp_path / "idx", embedder)
    engine.reindex([articles])
    assert passages_with(engine, "clover")

    # The publisher corrects the story: the page (new ETag) and the feed (new ETag) change.
    site.put("/articles/bees", page("Beekeepers crowd the harbour market", BEES_EDITED,
                                    canonical=site.url("/articles/bees"), date="2025-05-14T08:00:00Z"))  # fmt: skip
    site.put("/feeds/local.rss", rss("Marlow Bay Courier", [
        {"title": "Beekeepers crowd the harbour market", "link": site.url("/articles/bees?utm_source=rss"),
         "date": "Thu, 15 May 2025 10:00:00 GMT"},
        {"title": "Tram line four to reach the hospital", "link": site.url("/articles/tram")},
        {"title": "Library to open late on Thursdays", "link": "/articles/library"},
    ]), "application/rss+xml")  # fmt: skip
    hits_before = dict(site.hits)
    statuses = refresh_feeds([local, coast], articles, POLICY)
    assert (statuses[0].status, statuses[0].new, statuses[0].updated, statuses[0].unchanged) == ("ok", 0, 1, 2)
    assert statuses[1].status == "not_modified"
    # Tram (Last-Modified) and library (ETag) were asked conditionally and answered 304.
    tram_req = [h for _, t, h in site.log if t == "/articles/tram"][-1]
    lib_req = [h for _, t, h in site.log if t == "/articles/library"][-1]
    assert "if-modified-since" in tram_req and "if-none-match" in lib_req
    assert site.hits["/articles/bees"] - hits_before["/articles/bees"] == 1
    assert len(article_files(articles)) == 5

    encoded = embedder.documents_encoded
    summary = engine.reindex([articles])
    assert (summary.added, summary.updated, summary.removed) == (0, 1, 0)
    assert summary.passages_embedded > 0 and embedder.documents_encoded > encoded
    assert engine.stats().articles == 5
    assert passages_with(engine, "clover") == []
    assert passages_with(engine, "lavender")


def test_same_article_under_other_urls_is_written_once(site, tmp_path):
    local, _coast = serve_local_news(site)
    # A second feed lists the bees story plainly, through a mirror whose rel=canonical points back, and as a
    # wire copy with the same text under its own URL; plus one story of its own.
    site.put("/mirror/bees", page("Beekeepers crowd the harbour market", BEES, canonical="/articles/bees"))
    site.put("/wire/harbour-honey", page("Harbour honey market draws thousands", BEES, site="Wire Service"))
    site.put("/feeds/wire.atom", atom("Wire Service", [
        {"title": "Beekeepers crowd the harbour market", "link": site.url("/articles/bees?fbclid=abc&ref=home")},
        {"title": "Beekeepers crowd the harbour market", "link": site.url("/mirror/bees")},
        {"title": "Harbour honey market draws thousands", "link": site.url("/wire/harbour-honey")},
        {"title": "Keeper's logbooks found in lighthouse", "link": site.url("/articles/lighthouse")},
    ]), "application/atom+xml")  # fmt: skip
    articles = tmp_path / "articles"
    first, wire = refresh_feeds([local, site.url("/feeds/wire.atom")], articles, POLICY)

    assert (first.new, first.duplicates) == (3, 0)
    assert (wire.status, wire.new, wire.duplicates, wire.failed) == ("ok", 1, 3, 0)
    assert site.hits["/articles/bees"] == 1  # one request for the link in both feeds
    assert sum("/bees-" in k or "harbour-honey" in k for k in article_files(articles)) == 1
    assert len(article_files(articles)) == 4

    engine = Engine(tmp_path / "idx", HashingEmbedder())
    summary = engine.reindex([articles])
    assert summary.added == 4
    hits = engine.search("beekeepers clover honey", k=5)
    assert sum(h.article.url == site.url("/articles/bees") for h in hits) == 1
    assert all("harbour-honey" not in (h.article.url or "") for h in hits)


def test_failing_sources_are_reported_and_the_rest_succeed(site, tmp_path):
    local, coast = serve_local_news(site)
    long_teaser = " ".join(LIGHTHOUSE)  # over 200 characters: it can stand in for a missing page
    site.put("/feeds/mixed.rss", rss("Harbour Notes", [
        {"title": "Library to open late on Thursdays", "link": site.url("/articles/library")},
        {"title": "Logbooks found", "link": site.url("/gone/logbooks"), "summary": long_teaser},
        {"title": "A story that vanished", "link": site.url("/gone/short"), "summary": "Too short."},
        {"title": "Internal", "link": "http://169.254.169.254/latest/meta-data/", "summary": "Nope."},
    ]), "application/rss+xml")  # fmt: skip
    site.put("/feeds/slow.rss", rss("Slow", []), "application/rss+xml", delay=5)
    site.put("/feeds/broken.rss", b'<?xml version="1.0"?><rss version="2.0"><channel><title>Bro', "application/rss+xml")
    site.put("/feeds/words.xml", b"Not a feed, only words.", "application/xml")
    site.put("/feeds/page.html", page("A page, not a feed", TRAM))
    urls = [site.url(p) for p in ("/feeds/missing.rss", "/feeds/slow.rss", "/feeds/broken.rss",
                                  "/feeds/words.xml", "/feeds/page.html", "/feeds/mixed.rss")]  # fmt: skip
    policy = FetchPolicy(allow_hosts=("127.0.0.1",), per_host_delay=0.0, timeout=0.5)
    started = time.monotonic()
    statuses = refresh_feeds([*urls, local, coast], tmp_path / "articles", policy)
    assert time.monotonic() - started < 5
    by = {s.url: s for s in statuses}

    assert by[urls[0]].status == "error" and "HTTP 404" in by[urls[0]].error
    assert by[urls[1]].status == "error" and "timed out" in by[urls[1]].error
    assert by[urls[2]].status == "error" and "malformed feed" in by[urls[2]].error
    assert by[urls[3]].status == "error" and "feed" in by[urls[3]].error
    assert by[urls[4]].status == "error" and "content type text/html" in by[urls[4]].error
    mixed = by[urls[5]]
    # library: new; logbooks: its page is a 404 but the entry's own text is long enough; the short one and
    # the metadata address fail, and are described.
    assert (mixed.status, mixed.new, mixed.failed) == ("ok", 2, 2)
    assert "2 of 4 entries failed" in mixed.error and "/gone/short" in mixed.error
    assert (by[local].status, by[local].new, by[local].duplicates) == ("ok", 2, 1)  # library came first
    assert (by[coast].status, by[coast].new) == ("ok", 2)
    written = article_files(tmp_path / "articles")
    [logbooks] = [tmp_path / "articles" / k for k in written if "logbooks" in k]
    [art], _ = load_file(logbooks)
    assert art.title == "Logbooks found" and art.source == "Harbour Notes" and "Elias Marr" in art.text

    # The feed with failures keeps no validators: the next refresh reads it again and retries them.
    again = refresh_feeds([urls[5]], tmp_path / "articles", policy)
    assert again[0].status == "ok" and again[0].failed == 2 and site.hits["/feeds/mixed.rss"] == 2


def test_an_empty_feed_deletes_nothing(site, tmp_path):
    local, _ = serve_local_news(site)
    articles = tmp_path / "articles"
    refresh_feeds([local], articles, POLICY)
    before = article_files(articles)
    site.put("/feeds/local.rss", rss("Marlow Bay Courier", []), "application/rss+xml")
    [status] = refresh_feeds([local], articles, POLICY)
    assert (status.status, status.new, status.updated, status.unchanged, status.error) == ("ok", 0, 0, 0, None)
    assert article_files(articles) == before


# --- single pages ----------------------------------------------------------------------------------------


def test_fetch_page_then_304_then_update(site, tmp_path):
    serve_local_news(site)
    articles = tmp_path / "articles"
    path, status = fetch_page(site.url("/articles/library?utm_campaign=x#top"), articles, POLICY)
    assert (status.kind, status.status, status.new, status.title) == ("page", "ok", 1, "Library to open late on Thursdays")
    assert path is not None and path.is_file() and path.parent == articles / "web" / "127.0.0.1"
    [art], _ = load_file(path)
    assert art.url == site.url("/articles/library") and art.source == f"127.0.0.1:{site.port}"  # the loader's default
    text = path.read_bytes()

    again_path, again = fetch_page(site.url("/articles/library"), articles, POLICY)
    assert (again.status, again.unchanged, again_path) == ("not_modified", 1, path)
    assert path.read_bytes() == text and site.hits["/articles/library"] == 2

    site.put("/articles/library", page("Library to open late on Thursdays", [*LIBRARY[:2], "The trial was extended."]))
    new_path, updated = fetch_page(site.url("/articles/library"), articles, POLICY)
    assert (updated.status, updated.updated, new_path) == ("ok", 1, path)
    assert b"The trial was extended." in path.read_bytes()

    # The same text under another URL is a duplicate: the existing file is returned, nothing written.
    site.put("/copy/library", page("Late library", [*LIBRARY[:2], "The trial was extended."]))
    dup_path, dup = fetch_page(site.url("/copy/library"), articles, POLICY)
    assert (dup.status, dup.duplicates, dup_path) == ("ok", 1, path)
    assert len(article_files(articles)) == 1


def test_operator_edits_survive_an_unchanged_page(site, tmp_path):
    site.put("/articles/tram", page("Tram line four to reach the hospital", TRAM), etag=False)  # no validators
    articles = tmp_path / "articles"
    path, _ = fetch_page(site.url("/articles/tram"), articles, POLICY)
    path.write_text(path.read_text().replace("eighteen months", "eighteen months (operator note)"))
    _, status = fetch_page(site.url("/articles/tram"), articles, POLICY)
    assert (status.status, status.unchanged) == ("ok", 1)
    assert "operator note" in path.read_text()


def test_redirects_are_followed_and_checked(site, tmp_path, no_outside_connections):
    serve_local_news(site)
    site.redirect("/go/bees", "/articles/bees", 301)
    site.redirect("/go/inside", "http://10.0.0.1/admin")
    site.redirect("/loop", "/loop")
    articles = tmp_path / "articles"
    path, status = fetch_page(site.url("/go/bees"), articles, POLICY)
    assert status.status == "ok" and path is not None
    [art], _ = load_file(path)
    assert art.url == site.url("/articles/bees")

    _, inside = fetch_page(site.url("/go/inside"), articles, POLICY)
    assert inside.status == "refused" and "10.0.0.1" in inside.error and "private" in inside.error
    _, loop = fetch_page(site.url("/loop"), articles, POLICY)
    assert loop.status == "error" and "more than 5 redirects" in loop.error
    assert site.hits["/loop"] == 6
    assert set(no_outside_connections) == {"127.0.0.1"}


def test_size_limit_is_enforced_while_reading(site, tmp_path):
    big = page("A very long story", [" ".join(TRAM)] * 40)
    site.put("/big/declared", big)
    site.put("/big/chunked", big, chunked=True)
    policy = FetchPolicy(allow_hosts=("127.0.0.1",), per_host_delay=0.0, max_bytes=4000)
    for path in ("/big/declared", "/big/chunked"):
        out, status = fetch_page(site.url(path), tmp_path / "articles", policy)
        assert out is None and status.status == "error" and "too large" in status.error
    assert not article_files(tmp_path / "articles")


def test_per_host_delay_and_user_agent(site, tmp_path):
    local, _ = serve_local_news(site)
    # Four workers could send the three article requests at once: only the pacer spaces them.
    policy = FetchPolicy(allow_hosts=("127.0.0.1",), per_host_delay=0.25, concurrency=4)
    refresh_feeds([local], tmp_path / "articles", policy)
    times = sorted(t for t, _, _ in site.log)
    assert len(times) == 4
    # The pacer promises 0.25 s between the starts of two requests to one host; the server sees them
    # arrive up to a few tens of milliseconds off (connection setup, thread scheduling).
    slack = 0.05
    assert times[-1] - times[0] >= 3 * 0.25 - slack
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.25 - slack
    assert all(h["user-agent"].startswith("NewsdeskBot/") for _, _, h in site.log)


# --- safety ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "words"), [
    ("http://10.0.0.1/", "private"),
    ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
    ("http://[fd00:ec2::254]/", "cloud metadata"),
    ("http://[::1]/", "loopback"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::ffff:192.168.1.1]/", "private"),
    ("file:///etc/passwd", "only http and https"),
    ("ftp://127.0.0.1/pub/", "only http and https"),
    ("gopher://127.0.0.1:70/", "only http and https"),
])  # fmt: skip
def test_unsafe_urls_are_refused_before_any_connection(url, words, tmp_path, no_outside_connections):
    path, status = fetch_page(url, tmp_path / "articles", POLICY)
    assert (path, status.status) == (None, "refused")
    assert words in status.error
    [feed] = refresh_feeds([url], tmp_path / "articles", POLICY)
    assert feed.status == "refused" and words in feed.error
    with pytest.raises(UnsafeURL):
        check_url(url, POLICY)
    assert no_outside_connections == []
    assert not article_files(tmp_path / "articles")


def test_localhost_needs_allow_hosts(site, tmp_path, no_outside_connections):
    serve_local_news(site)
    url = f"http://localhost:{site.port}/articles/bees"
    _, status = fetch_page(url, tmp_path / "articles", POLICY)  # 127.0.0.1 allowed, "localhost" is not
    assert status.status == "refused" and "localhost resolves to" in status.error and "loopback" in status.error
    assert no_outside_connections == [] and site.total() == 0
    # allow_hosts is an exact, case-insensitive host match.
    policy = FetchPolicy(allow_hosts=("LOCALHOST",), per_host_delay=0.0)
    first = socket.getaddrinfo("localhost", site.port, type=socket.SOCK_STREAM)[0][4][0]
    if first != "127.0.0.1":  # the site listens on 127.0.0.1 only
        pytest.skip(f"localhost resolves to {first} first here, not 127.0.0.1: the allowed fetch is not tried")
    _, ok = fetch_page(url, tmp_path / "articles", policy)
    assert ok.status == "ok" and site.total() == 1


def test_a_feed_cannot_send_us_inside(site, tmp_path, no_outside_connections):
    site.put("/feeds/sneaky.rss", rss("Sneaky", [
        {"title": "Metadata", "link": "http://169.254.169.254/latest/meta-data/iam/"},
        {"title": "Router", "link": "http://192.168.0.1/"},
        {"title": "Files", "link": "file:///etc/passwd"},
    ]), "application/rss+xml")  # fmt: skip
    [status] = refresh_feeds([site.url("/feeds/sneaky.rss")], tmp_path / "articles", POLICY)
    assert (status.status, status.new, status.failed) == ("ok", 0, 3)
    assert "Refused http://169.254.169.254/latest/meta-data/iam/" in status.error
    assert set(no_outside_connections) == {"127.0.0.1"}
    # Refusals are final: the feed keeps its validators and costs a 304 next time.
    [again] = refresh_feeds([site.url("/feeds/sneaky.rss")], tmp_path / "articles", POLICY)
    assert again.status == "not_modified"


def test_resolved_address_is_checked_and_pinned(site, tmp_path, monkeypatch, no_outside_connections):
    """DNS rebinding: the address checked is the one connected to, whatever the name resolves to later."""
    site.put("/articles/tram", page("Tram line four to reach the hospital", TRAM))
    real = socket.getaddrinfo
    answers = {"rebind.test": ["127.0.0.1", "10.9.8.7"], "mixed.test": None}
    lookups: Counter = Counter()

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host == "rebind.test":
            lookups[host] += 1
            ip = answers[host][min(lookups[host], 2) - 1]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]
        if host == "mixed.test":  # one public and one private answer: refused
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
                    (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.1.20", port))]  # fmt: skip
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    _, mixed = fetch_page(f"http://mixed.test:{site.port}/articles/tram", tmp_path / "a", POLICY)
    assert mixed.status == "refused" and "192.168.1.20" in mixed.error and "private" in mixed.error

    policy = FetchPolicy(allow_hosts=("rebind.test",), per_host_delay=0.0)
    path, status = fetch_page(f"http://rebind.test:{site.port}/articles/tram", tmp_path / "a", policy)
    assert status.status == "ok" and path is not None and path.parent.name == "rebind.test"
    assert lookups["rebind.test"] == 1  # resolved once, by the check; the connection used that address
    assert site.log[-1][2]["host"] == f"rebind.test:{site.port}"
    assert set(no_outside_connections) == {"127.0.0.1"}


@pytest.mark.parametrize(("ip", "kind"), [
    ("8.8.8.8", None), ("2606:4700:4700::1111", None), ("127.0.0.2", "loopback"), ("10.1.2.3", "private"),
    ("172.16.0.1", "private"), ("192.168.1.1", "private"), ("fc00::1", "private"), ("169.254.1.1", "link-local"),
    ("fe80::1", "link-local"), ("224.0.0.1", "multicast"), ("ff02::1", "multicast"), ("0.0.0.0", "unspecified"),
    ("::", "unspecified"), ("240.0.0.1", "reserved"), ("169.254.169.254", "cloud metadata"),
    ("fd00:ec2::254", "cloud metadata"), ("::ffff:127.0.0.1", "loopback"),
    ("100.64.0.1", "non-public (shared or special-purpose)"),
])  # fmt: skip
def test_address_classes(ip, kind):
    assert address_class(ipaddress.ip_address(ip)) == kind


def test_canonical_url():
    assert canonical_url("HTTPS://News.Example.COM:443/a/b?utm_source=x&id=7&fbclid=1&UTM_Medium=y#part") == (
        "https://news.example.com/a/b?id=7")
    assert canonical_url("http://example.com?ref=home&gclid=1&mc_cid=2&mc_eid=3&igshid=4") == "http://example.com/"
    assert canonical_url("http://example.com:8080/x?q=a%20b&page=2") == "http://example.com:8080/x?q=a%20b&page=2"


def test_source_status_to_dict():
    status = SourceStatus("http://example.com/feed", "feed", "ok", new=2, duplicates=1)
    assert status.to_dict() == {"url": "http://example.com/feed", "kind": "feed", "status": "ok", "new": 2,
                                "updated": 0, "unchanged": 0, "duplicates": 1, "error": None, "failed": 0,
                                "title": None}  # fmt: skip


# --- issue 10: mislabelled UTF-8, links that are not valid URLs ---------------------------------------------

CAFE = ("Le café du port de Montréal rouvre après trois ans de travaux : « une renaissance », a déclaré sa "
        "gérante, Zoé Lefèvre, devant une foule venue goûter la crème brûlée et le thé à la menthe. "
        "Les habitués saluent un décor fidèle à l’original, jusqu’au comptoir en zinc — et aux prix d’antan.")  # fmt: skip


@pytest.mark.parametrize(("body", "charset", "text"), [
    (CAFE.encode("utf-8"), "iso-8859-1", CAFE),  # the issue: UTF-8 labelled Latin-1
    (CAFE.encode("utf-8"), "ISO_8859-15", CAFE),
    (CAFE.encode("utf-8"), "windows-1252", CAFE),
    (CAFE.encode("utf-8"), "latin1", CAFE),
    (CAFE.encode("utf-8"), "us-ascii", CAFE),
    ("Дума приняла закон".encode(), "koi8-r", "Дума приняла закон"),
    ("Дума приняла закон".encode(), "windows-1251", "Дума приняла закон"),
    (b'<meta charset="iso-8859-1"><p>' + CAFE.encode() + b"</p>", None,
     f'<meta charset="iso-8859-1"><p>{CAFE}</p>'),  # labelled in the page only
    # really single-byte: not valid UTF-8, so the label is right
    ("Le café, la crème".encode("latin-1"), "iso-8859-1", "Le café, la crème"),
    ("“Quotes” – €5".encode("cp1252"), "windows-1252", "“Quotes” – €5"),
    ("Дума".encode("koi8-r"), "koi8-r", "Дума"),
    # plain ASCII: both agree
    (b"plain words", "iso-8859-1", "plain words"),
    # a multi-byte label is kept even where the bytes happen to be valid UTF-8 too
    ("日本語のニュース".encode("shift_jis"), "shift_jis", "日本語のニュース"),
    ("é".encode(), "shift_jis", "é".encode().decode("shift_jis")),
])  # fmt: skip
def test_utf8_is_preferred_over_a_single_byte_label(body, charset, text):
    assert decode(body, charset) == text


def test_mislabelled_utf8_pages_and_feeds_are_stored_without_mojibake(site, tmp_path):
    html = page("Le café rouvre", [CAFE]).replace(b'<meta charset="utf-8">', b'<meta charset="iso-8859-1">')
    site.put("/articles/cafe", html, "text/html; charset=ISO-8859-1")
    path, status = fetch_page(site.url("/articles/cafe"), tmp_path / "articles", POLICY)
    assert status.status == "ok" and path is not None
    stored = path.read_text(encoding="utf-8")
    assert "Montréal" in stored and "crème brûlée" in stored and "Ã" not in stored

    # A feed whose HTTP header and XML declaration both say windows-1252, in UTF-8 (feedparser itself only
    # repairs UTF-8 read as ISO-8859-1, and not where a windows-1252 character such as "€" appears). The
    # entry stands in for its missing page: its title, text and the feed title are what gets stored.
    feed = rss("Gazette de Montréal", [{"title": "Le café rouvre — enfin", "link": site.url("/gone/cafe"),
                                         "summary": CAFE}])  # fmt: skip
    feed = feed.replace(b'encoding="utf-8"', b'encoding="windows-1252"')
    site.put("/feeds/gazette.rss", feed, "application/rss+xml; charset=windows-1252")
    [fs] = refresh_feeds([site.url("/feeds/gazette.rss")], tmp_path / "feeds", POLICY)
    assert (fs.status, fs.new, fs.title) == ("ok", 1, "Gazette de Montréal")
    [entry_file] = [tmp_path / "feeds" / k for k in article_files(tmp_path / "feeds")]
    [art], _ = load_file(entry_file)
    assert art.title == "Le café rouvre — enfin" and art.source == "Gazette de Montréal"
    assert "Zoé Lefèvre" in art.text and "Ã" not in entry_file.read_text(encoding="utf-8")


MARKDOWN_CHARS = set("()[]<>\"'`|*_~\\ ")


def test_feed_links_that_are_not_valid_urls_are_dropped_and_the_rest_made_safe(site, tmp_path, monkeypatch,
                                                                               caplog, no_outside_connections):  # fmt: skip
    real = socket.getaddrinfo

    def local_only(host, port, *args, **kwargs):  # no DNS query leaves the machine, whatever the code does
        if host not in ("127.0.0.1", "localhost"):
            raise socket.gaierror(socket.EAI_NONAME, "test guard: no DNS")
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_only)
    md = "/articles/md)[x](https://evil.test/steal"
    site.put("/articles/md%29%5Bx%5D%28https://evil.test/steal", page("Tram line four to reach the hospital", TRAM))
    site.put("/articles/canon", page("Library to open late on Thursdays", LIBRARY,
                                     canonical=site.url("/articles/canon>)[FAKE](https://evil.test/")))  # fmt: skip
    site.redirect("/go/lighthouse", "/articles/lighthouse)[x](https://evil.test/)")
    site.put("/articles/lighthouse)[x](https://evil.test/)", page("Keeper's logbooks", LIGHTHOUSE))  # as sent
    bad = [
        "https://ok.test/a&gt;)[FAKE LINK](https://evil.test/steal",  # the example
        "javascript:alert(document.cookie)",
        f"http://ok.test@127.0.0.1:{site.port}/articles/canon",  # user info
        site.url("/articles/bees\nurl: https://evil.test/"),  # a header line smuggled into the file
        site.url("/articles/\u202egnp.exe"),  # bidi override
        "https://exa mple.test/",
    ]
    site.put("/feeds/tricky.rss", rss("Tricky", [
        *({"title": f"Bad {n}", "link": link} for n, link in enumerate(bad)),
        {"title": "Markdown path", "link": site.url(md)},
        {"title": "Markdown canonical", "link": site.url("/articles/canon")},
        {"title": "Markdown redirect", "link": site.url("/go/lighthouse")},
    ]), "application/rss+xml")  # fmt: skip
    with caplog.at_level("WARNING", logger="index.sources.feeds"):
        [status] = refresh_feeds([site.url("/feeds/tricky.rss")], tmp_path / "articles", POLICY)
    assert (status.status, status.new, status.failed) == ("ok", 3, len(bad))
    assert f"{len(bad)} of {len(bad) + 3} entries failed" in status.error
    assert "](" not in status.error and ")[" not in status.error  # nothing clickable in the status either
    dropped = [r.getMessage() for r in caplog.records if "dropping entry" in r.getMessage()]
    assert len(dropped) == len(bad) and all("\n" not in m and "\u202e" not in m for m in dropped)
    assert site.hits["/articles/canon"] == 1  # only through the valid link, never through the user-info one
    assert set(no_outside_connections) == {"127.0.0.1"}

    stored = {}
    for name in article_files(tmp_path / "articles"):
        [art], _ = load_file(tmp_path / "articles" / name)
        stored[art.title.split(" | ")[0]] = art.url
    assert set(stored) == {"Tram line four to reach the hospital", "Library to open late on Thursdays",
                           "Keeper's logbooks"}  # fmt: skip
    for url in stored.values():
        assert not MARKDOWN_CHARS & set(url) and clean_url(url) == url
    assert stored["Tram line four to reach the hospital"] == site.url("/articles/md%29%5Bx%5D%28https://evil.test/steal")
    assert stored["Library to open late on Thursdays"] == site.url("/articles/canon%3E%29%5BFAKE%5D%28https://evil.test/")
    assert stored["Keeper's logbooks"] == site.url("/articles/lighthouse%29%5Bx%5D%28https://evil.test/%29")
    state = json.loads((tmp_path / "articles" / STATE_FILE).read_text())
    assert all(clean_url(u) == u for u in [*state["urls"], *state["canonical"]])


def test_fetch_page_refuses_an_invalid_url_before_any_connection(tmp_path, no_outside_connections):
    for url in ("https://ok.test/a&gt;)[FAKE LINK](https://evil.test/steal", "http://ok.test@127.0.0.1/",
                "https://ok.test/\u202e", "javascript:alert(1)"):  # fmt: skip
        path, status = fetch_page(url, tmp_path / "articles", POLICY)
        assert (path, status.status) == (None, "refused") and "\n" not in status.error
        assert "[FAKE LINK](" not in status.error and "\u202e" not in status.error
    assert no_outside_connections == []
