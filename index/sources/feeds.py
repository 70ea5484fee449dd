"""News sources: RSS/Atom feeds and article URLs, fetched into the articles folder as `.txt` files.

Every fetched article becomes `articles_dir/web/<host>/<slug>-<hash of canonical url>.txt` (the `.txt` format
of `index.ingest.txt`: a `key: value` header, a blank line, the text), written atomically. The index is then
brought up to date by the normal incremental `Engine.reindex([articles_dir, ...])`, which embeds only new or
changed files: nothing fetched lives only in the index, so it can always be rebuilt offline, and an operator
can read or edit what was ingested.

What was fetched is remembered in `articles_dir/.newsdesk-sources.json` (hidden, so the loader skips it):

    {
      "version": 1,
      "urls": {        # per requested URL (a feed as given, a page as cleaned by canonical_url)
        "<url>": {"kind": "feed" | "page", "etag": ..., "last_modified": ..., "canonical": "<url>" | null,
                  "checked": "<UTC ISO time>"}
      },
      "canonical": {   # canonical article URL -> its file (relative to articles_dir), hash of what was written
        "<url>": {"file": "web/<host>/<name>.txt", "hash": "<sha256 of the file text, 32 hex>"}
      },
      "hashes": {      # hash of the article text -> its file, to find the same story under another URL
        "<content hash>": "web/<host>/<name>.txt"
      }
    }

Conditional requests (If-None-Match / If-Modified-Since) make an unchanged feed or page cost one 304. An
article is written only when what would be written differs from what was last written: edits an operator
made to a file stay until the article itself changes at its source. A feed that suddenly lists no entries
deletes nothing. The HTTP side (SSRF checks, limits, politeness) lives in `index.sources.http`, the state
file, its lock and the article files in `index.sources.state`, charsets and canonical links in
`index.sources.extract`; this module fetches and refreshes.

Every URL that can reach a file, the state or a message (a feed entry's link, a page's rel=canonical or
og:url, the final URL after redirects, a URL given to `fetch_page`) goes through `index.sources.urls.clean_url`: a
link that is not a valid http(s) URL is dropped (logged, and counted as a failed entry), and characters
that could break out of a Markdown link are percent-encoded.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from index.ingest.html import extract_html
from index.ingest.txt import header_value
from index.sources.extract import decode, entry_date, entry_text, feed_content_type, page_canonical
from index.sources.http import (
    FEED_TYPES,
    PAGE_TYPES,
    Fetched,
    Fetcher,
    FetchError,
    FetchPolicy,
    UnsafeURL,
    check_url,
)
from index.sources.state import STATE_FILE, FetchedArticle, SourceState, Writer, locked
from index.sources.urls import canonical_url, clean_link, invalid_link, shown_url
from index.text.normalize import normalize_text

__all__ = [
    "STATE_FILE",
    "FetchError",
    "FetchPolicy",
    "SourceStatus",
    "UnsafeURL",
    "canonical_url",
    "check_url",
    "fetch_page",
    "refresh_feeds",
]

log = logging.getLogger(__name__)

MIN_ENTRY_TEXT = 200  # characters a feed entry's own content needs to stand in for its page
FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9"

@dataclass(frozen=True)
class SourceStatus:
    """What happened to one feed or page in a refresh; `to_dict()` for JSON summaries.

    `status`: "ok", "not_modified" (a 304: nothing written), "error" or "refused" (an unsafe URL, never
    requested). For a feed, the counts are over its entries; `failed` entries (page and entry text both
    unusable) are described in `error` while the feed itself stays "ok".
    """

    url: str
    kind: str  # "feed" or "page"
    status: str  # "ok", "not_modified", "error", "refused"
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    error: str | None = None
    failed: int = 0
    title: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _fetch_article(fetcher: Fetcher, url: str, state: SourceState, articles_dir: Path,
                   entry=None, feed_title: str | None = None) -> FetchedArticle:  # fmt: skip
    """Fetch and extract one page; with a feed `entry`, fall back on the entry's own text."""
    etag, modified = state.validators(url, articles_dir, "page")
    try:
        fetched = fetcher.get(url, accept=PAGE_TYPES, accept_header=PAGE_ACCEPT, etag=etag, last_modified=modified)
        if fetched.not_modified:
            return FetchedArticle(url, "not_modified", fetched)
        html = decode(fetched.body, fetched.charset)
        meta, text = extract_html(html, url=fetched.url)
        text = normalize_text(text)
        canonical = page_canonical(html, fetched.url, fallback=clean_link(url))
        if canonical is None:
            raise FetchError(url, "no valid URL for the page")
        host = urlsplit(fetched.url)
        if str(meta.get("source") or "") in (host.netloc, host.hostname):
            meta["source"] = None  # trafilatura's fallback is the bare host name: a feed title says more
        meta = {**meta, "url": canonical, "source": meta.get("source") or feed_title}
        if entry is not None:
            meta["title"] = meta.get("title") or entry.get("title")
            meta["date"] = meta.get("date") or entry_date(entry)
            if len(text) < MIN_ENTRY_TEXT and len(entry_text(entry)) > len(text):
                return _from_entry(url, entry, feed_title, fetched)
        if not text:
            raise FetchError(fetched.url, "no article text found on the page")
        return FetchedArticle(url, "ok", fetched, canonical, meta, text)
    except (UnsafeURL, FetchError) as exc:
        status, error = ("refused" if isinstance(exc, UnsafeURL) else "error"), str(exc)
    except Exception as exc:  # a library choking on a strange page must not stop the refresh
        log.warning("cannot process %s", url, exc_info=True)
        status, error = "error", f"Cannot process {url}: {exc.__class__.__name__}: {exc}"[:300]
    if entry is not None:
        fallback = _from_entry(url, entry, feed_title, None)
        if fallback.status == "ok":
            log.info("%s; using the feed entry's own text instead", error)
            return fallback
    return FetchedArticle(url, status, error=error)


def _from_entry(url: str, entry, feed_title: str | None, fetched: Fetched | None) -> FetchedArticle:
    text = entry_text(entry)
    if len(text) < MIN_ENTRY_TEXT:
        return FetchedArticle(url, "error", error=f"Cannot use {url}: the feed entry has too little text")
    meta = {"title": entry.get("title"), "date": entry_date(entry), "url": url, "source": feed_title,
            "author": entry.get("author")}  # fmt: skip
    return FetchedArticle(url, "ok", fetched, url, meta, text, from_entry=True)


def _count(counts: dict, outcome: str) -> None:
    key = {"duplicate": "duplicates"}.get(outcome, outcome)
    counts[key] = counts.get(key, 0) + 1


# --- public API ------------------------------------------------------------------------------------------


def fetch_page(url: str, articles_dir: Path, policy: FetchPolicy = FetchPolicy()) -> tuple[Path | None, SourceStatus]:  # noqa: B008
    """Fetch one article page into the articles folder; return its file (None on failure) and a status.

    A page fetched before is requested conditionally: unchanged, it costs a 304 and writes nothing
    (status "not_modified"). The same article already stored under another URL is reported as a duplicate
    and the existing file returned. Never raises for network problems: they are in the status.
    """
    articles_dir = Path(articles_dir)
    requested = clean_link(url)
    if requested is None:
        return None, SourceStatus(url, "page", "refused", error=f"Refused {shown_url(url)}: {invalid_link(url)}.")
    with Fetcher(policy) as fetcher:
        art = _fetch_article(fetcher, requested, SourceState.load(articles_dir), articles_dir)
    if art.status in ("error", "refused"):
        return None, SourceStatus(url, "page", art.status, error=art.error)
    with locked(articles_dir):
        state = SourceState.load(articles_dir)
        outcome, path = Writer(articles_dir, state).commit(art)
        state.save(articles_dir)
    counts: dict = {}
    _count(counts, outcome)
    title = art.meta.get("title") or None
    status = "not_modified" if art.status == "not_modified" else "ok"
    return path, SourceStatus(url, "page", status, title=title, **counts)


@dataclass
class _FeedRun:
    url: str
    status: str = "ok"
    error: str | None = None
    fetched: Fetched | None = None
    title: str | None = None
    entries: list = field(default_factory=list)  # (cleaned link, entry, None) or (None, entry, refusal)


def _fetch_feed(fetcher: Fetcher, url: str, state: SourceState, articles_dir: Path, max_entries: int) -> _FeedRun:
    import feedparser

    run = _FeedRun(url)
    etag, modified = state.validators(url, articles_dir, "feed")
    try:
        fetched = fetcher.get(url, accept=(*FEED_TYPES, ""), accept_header=FEED_ACCEPT, etag=etag,
                              last_modified=modified)  # fmt: skip
    except UnsafeURL as exc:
        run.status, run.error = "refused", str(exc)
        return run
    except FetchError as exc:
        run.status, run.error = "error", str(exc)
        return run
    run.fetched = fetched
    if fetched.not_modified:
        run.status = "not_modified"
        return run
    # Parse the bytes fetched above, as a stream: given a str feedparser would fetch URLs, and given bytes
    # it would try them as a local file name first.
    body, content_type = feed_content_type(fetched.body, fetched.headers.get("content-type", ""))
    try:
        parsed = feedparser.parse(
            io.BytesIO(body), response_headers={"content-type": content_type, "content-location": fetched.url}
        )
    except Exception as exc:
        run.status, run.error = "error", f"Cannot read the feed {url}: {exc.__class__.__name__}: {exc}"[:300]
        return run
    if not any(e.get("link") for e in parsed.entries) and (parsed.bozo or not parsed.version):
        problem = parsed.get("bozo_exception")
        reason = f"malformed feed ({problem})" if problem else "not an RSS or Atom feed"
        run.status, run.error = "error", f"Cannot read the feed {url}: {reason}"[:300]
        return run
    run.title = header_value(parsed.feed.get("title") or "") or None
    for n, entry in enumerate(parsed.entries[:max_entries], 1):
        link = entry.get("link")
        if not link:
            continue
        with contextlib.suppress(ValueError):  # an unparsable link: clean_url refuses it below
            link = urljoin(fetched.url, str(link).strip())
        clean = clean_link(link)
        if clean is None:
            reason = invalid_link(link)
            log.warning("feed %s: dropping entry %d, link %s: %s", shown_url(url), n, shown_url(link), reason)
            run.entries.append((None, entry, f"Refused the link of entry {n} ({shown_url(link)[:80]}): {reason}."))
            continue
        run.entries.append((clean, entry, None))
    return run


def refresh_feeds(feed_urls: Sequence[str], articles_dir: Path, policy: FetchPolicy = FetchPolicy()) -> list[SourceStatus]:  # noqa: B008
    """Fetch every feed and the articles it links to into `articles_dir`; one status per feed, in order.

    Feeds and pages are fetched concurrently (at most `policy.concurrency` at a time, `policy.per_host_delay`
    apart per host). A failing feed or page is reported in its feed's status and never stops the others.
    Afterwards run `engine.reindex([articles_dir, ...])`: it embeds only the files that changed.
    """
    articles_dir = Path(articles_dir)
    urls = list(dict.fromkeys(u.strip() for u in feed_urls if u and u.strip()))
    state = SourceState.load(articles_dir)
    workers = max(1, policy.concurrency)
    with Fetcher(policy) as fetcher, ThreadPoolExecutor(workers, thread_name_prefix="newsdesk-fetch") as pool:
        runs = list(pool.map(lambda u: _fetch_feed(fetcher, u, state, articles_dir, policy.max_entries), urls))
        # One request per distinct page: the same link in two feeds (or with tracking parameters) is
        # fetched once and counted as a duplicate for every feed after the first.
        jobs: dict[str, tuple] = {}
        for run in runs:
            for link, entry, refusal in run.entries:
                if refusal is None:
                    jobs.setdefault(link, (link, entry, run.title))
        results = dict(zip(jobs, pool.map(
            lambda job: _fetch_article(fetcher, job[0], state, articles_dir, job[1], job[2]), jobs.values()
        ), strict=True))  # fmt: skip

    with locked(articles_dir):
        state = SourceState.load(articles_dir)  # again: another refresh or /add may have saved in the meantime
        writer = Writer(articles_dir, state)
        done: set[str] = set()
        statuses = [_commit_feed(run, results, writer, done) for run in runs]
        state.save(articles_dir)
    return statuses


def _commit_feed(run: _FeedRun, results: dict[str, FetchedArticle], writer: Writer, done: set[str]) -> SourceStatus:
    """Write what one feed brought (`done`: the links an earlier feed of this refresh already wrote)."""
    state = writer.state
    if run.status != "ok":
        if run.status == "not_modified":
            state.remember(run.url, "feed", run.fetched)
        return SourceStatus(run.url, "feed", run.status, error=run.error, title=run.title)
    counts: dict = {}
    errors = []
    retry = False
    for link, _entry, refusal in run.entries:
        if refusal is not None:  # not a valid URL: dropped, never fetched (asking again changes nothing)
            errors.append(refusal)
            continue
        if link in done:
            _count(counts, "duplicate")
            continue
        done.add(link)
        art = results[link]
        if art.status in ("error", "refused"):
            errors.append(art.error or f"Cannot fetch {link}")
            retry = retry or art.status == "error"  # a refusal will not change by asking again
            continue
        outcome, _path = writer.commit(art)
        _count(counts, outcome)
    if retry:
        # Forget the feed's validators: the next refresh reads it again and retries what failed
        # (the pages that did arrive then cost a 304 each).
        state.urls.pop(run.url, None)
    else:
        state.remember(run.url, "feed", run.fetched)
    error = None
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        error = f"{len(errors)} of {len(run.entries)} entries failed: {errors[0]}{more}"
    return SourceStatus(run.url, "feed", "ok", error=error, failed=len(errors), title=run.title, **counts)
