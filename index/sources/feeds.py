"""News sources: RSS/Atom feeds and article URLs, fetched into the articles folder as `.txt` files.

Every fetched article becomes `articles_dir/web/<host>/<slug>-<hash of canonical url>.txt` (the `.txt` format
of `index.ingest.articles`: a `key: value` header, a blank line, the text), written atomically. The index is then
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
deletes nothing. The HTTP side (SSRF checks, limits, politeness) lives in `index.sources.http`.

Every URL that can reach a file, the state or a message (a feed entry's link, a page's rel=canonical or
og:url, the final URL after redirects, a URL given to `fetch_page`) goes through `index.sources.urls.clean_url`: a
link that is not a valid http(s) URL is dropped (logged, and counted as a failed entry), and characters
that could break out of a Markdown link are percent-encoded.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import io
import json
import logging
import os
import re
import tempfile
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit

from index.ingest.articles import content_hash, extract_html
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
from index.sources.urls import clean_url
from index.text.normalize import normalize_text

__all__ = [
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

STATE_FILE = ".newsdesk-sources.json"
LOCK_FILE = ".newsdesk-sources.lock"
WEB_DIR = "web"
MIN_ENTRY_TEXT = 200  # characters a feed entry's own content needs to stand in for its page
FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9"

TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid", "igshid",
    "mc_cid", "mc_eid", "mkt_tok", "ref", "ref_src", "ref_url", "_ga", "_gl", "_hsenc", "_hsmi", "cmpid",
    "ocid", "smid", "sr_share", "spm", "share", "s_cid", "at_medium", "at_campaign", "at_custom1",
})  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "ga_")


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


# --- URLs ------------------------------------------------------------------------------------------------


def canonical_url(url: str) -> str:
    """`url` without tracking parameters and fragment, with lower-case scheme and host, no default port."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    kept = []
    for piece in parts.query.split("&"):
        if not piece:
            continue
        key = unquote(piece.split("=", 1)[0]).lower()
        if key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES):
            continue
        kept.append(piece)
    path = parts.path or "/"
    query = "&".join(kept)
    return f"{scheme}://{netloc}{path}{'?' + query if query else ''}"


def _clean_link(url: str) -> str | None:
    """`url` made safe (`clean_url`) and canonical (`canonical_url`), or None when it is not a valid URL."""
    safe = clean_url(url)
    return clean_url(canonical_url(safe)) if safe else None


def _shown(url: str) -> str:
    """A refused URL as it may appear in a log line or a status: one line, short, nothing raw to click."""
    return quote(str(url)[:200], safe="/:?&=#%+,;@!$")


def _invalid_link(url: str) -> str:
    """Why `clean_url` refused `url`, in the words `index.sources.http` uses for a refused scheme."""
    try:
        scheme = urlsplit(str(url).strip()).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme not in ("http", "https"):
        return f"only http and https URLs can be fetched, not {scheme or 'a URL without scheme'}"
    return "not a valid URL (bad host or port, user info, whitespace or control characters)"


def _site(host: str) -> str:
    return host.lower().rstrip(".").removeprefix("www.")


def _same_site(a: str, b: str) -> bool:
    """True for one host, or one a subdomain of the other (amp.example.com and www.example.com)."""
    a, b = _site(urlsplit(a).hostname or ""), _site(urlsplit(b).hostname or "")
    return bool(a and b) and (a == b or a.endswith("." + b) or b.endswith("." + a))


class _HeadLinks(HTMLParser):
    """Collect <link rel=canonical> and <meta property=og:url> from the head of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.canonical: str | None = None
        self.og_url: str | None = None
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "link" and "canonical" in a.get("rel", "").lower().split() and a.get("href"):
            self.canonical = self.canonical or a["href"].strip()
        elif tag == "meta" and a.get("property", a.get("name", "")).lower() == "og:url" and a.get("content"):
            self.og_url = self.og_url or a["content"].strip()
        elif tag == "body":
            self.done = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.done = True


def page_canonical(html: str, final_url: str, fallback: str | None = None) -> str | None:
    """The canonical URL of a page: its rel=canonical or og:url when on the same site, else `final_url`.

    A canonical pointing to another site is ignored: a page must not be able to claim (and overwrite)
    another site's article. Every candidate is cleaned (`_clean_link`); an invalid one is skipped, and when
    `final_url` itself is invalid (a strange redirect), `fallback` (the URL that was requested) is used.
    """
    parser = _HeadLinks()
    with contextlib.suppress(Exception):
        for start in range(0, min(len(html), 500_000), 20_000):
            parser.feed(html[start : start + 20_000])
            if parser.done:
                break
    for candidate in (parser.canonical, parser.og_url):
        if not candidate:
            continue
        url = _clean_link(urljoin(final_url, candidate))
        if url and _same_site(url, final_url):
            return url
    return _clean_link(final_url) or fallback


# --- text ------------------------------------------------------------------------------------------------

_BLOCK_END = re.compile(r"<\s*(?:br\s*/?|/\s*(?:p|div|li|h[1-6]|blockquote|tr|section|article)\s*)>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _html_fragment_text(fragment: str) -> str:
    """Plain text of a small HTML fragment (a feed entry's content), paragraphs kept."""
    return normalize_text(unescape(_TAG.sub(" ", _BLOCK_END.sub("\n\n", fragment))))


_XML_ENCODING = re.compile(rb"""^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9_.:-]+)["']""")
# Every byte value alone, then every high byte followed by "A": a single-byte charset decodes this into one
# character per byte; a multi-byte one (Shift_JIS, GBK, Big5, EUC-*, UTF-16...) pairs some of them up.
_CHARSET_PROBE = bytes(range(256)) + bytes(b for high in range(128, 256) for b in (high, 0x41))


@lru_cache(maxsize=64)
def _single_byte(charset: str) -> bool:
    """True for a charset with one byte per character (ISO-8859-*, windows-125x, KOI8, Mac...) or 7-bit.

    False for UTF-8, for multi-byte charsets and for unknown names.
    """
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        return False
    if name.replace("_", "-").startswith("utf"):
        return False
    try:
        return len(_CHARSET_PROBE.decode(name, errors="replace")) == len(_CHARSET_PROBE)
    except Exception:  # a codec that cannot decode with errors="replace"
        return False


def _mislabelled_utf8(body: bytes, declared: str | None) -> str | None:
    """`body` decoded as UTF-8 when it is UTF-8 labelled as a single-byte charset, else None.

    A page or feed served as ISO-8859-1 or windows-1252 whose bytes are valid UTF-8 (and not plain ASCII,
    where both agree) is UTF-8: text that is really Latin-1 is almost never valid UTF-8 by accident, while
    the mislabel is a common server misconfiguration, which would otherwise be stored as mojibake ("cafÃ©").
    """
    if not declared or body.isascii() or not _single_byte(declared):
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _decode(body: bytes, charset: str | None) -> str:
    candidates = [charset] if charset else []
    if m := _META_CHARSET.search(body[:4096]):
        candidates.append(m.group(1).decode("ascii"))
    for enc in [*candidates, "utf-8"]:
        if (text := _mislabelled_utf8(body, enc)) is not None:
            return text
        try:
            return body.decode(enc)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("cp1252", errors="replace")


def _feed_content_type(body: bytes, content_type: str) -> tuple[bytes, str]:
    """The body and content type to hand feedparser, corrected for UTF-8 declared as a single-byte charset.

    feedparser follows the HTTP charset, else the XML declaration's encoding (RFC 3023). When the one it
    would follow is single-byte but the bytes are UTF-8 (`_mislabelled_utf8`), both say utf-8 instead.
    """
    ctype, _, params = content_type.partition(";")
    http_charset = None
    for part in params.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            http_charset = value.strip().strip("\"'")
    m = _XML_ENCODING.match(body[:1024])
    declared = http_charset or (m.group(1).decode("ascii") if m else None)
    if _mislabelled_utf8(body, declared) is None:
        return body, content_type
    if m:
        body = body[: m.start(1)] + b"utf-8" + body[m.end(1) :]
    return body, f"{ctype.strip() or 'application/xml'}; charset=utf-8"


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def _slug(canonical: str, title: str | None) -> str:
    def clean(s: str) -> str:
        s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii").lower()
        return re.sub(r"[^a-z0-9]+", "-", s).strip("-")[:60].strip("-")

    segment = unquote(urlsplit(canonical).path.rstrip("/").rsplit("/", 1)[-1])
    segment = re.sub(r"\.(?:s?html?|php|aspx?|jsp)$", "", segment, flags=re.IGNORECASE)
    slug = clean(segment)
    if sum(c.isalpha() for c in slug) < 3:
        slug = clean(title or "") or slug
    return slug or "article"


def article_path(canonical: str, title: str | None = None) -> str:
    """The file (relative to the articles folder) for an article: web/<host>/<slug>-<url hash>.txt."""
    host = (urlsplit(canonical).hostname or "unknown").lower()
    host = re.sub(r"[^a-z0-9.-]+", "_", host).strip(".") or "unknown"
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:10]
    return f"{WEB_DIR}/{host}/{_slug(canonical, title)}-{digest}.txt"


def render_article(meta: dict, text: str) -> str:
    """The `.txt` article file: header lines, a blank line, the text (paragraphs separated by blank lines)."""
    lines = []
    for key in ("title", "date", "url", "source", "author", "lang"):
        value = meta.get(key)
        if value:
            lines.append(f"{key}: {_one_line(value)}")
    return "\n".join(lines) + "\n\n" + normalize_text(text) + "\n"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


# --- files and state -------------------------------------------------------------------------------------


def _atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` via a hidden temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


_DIR_LOCKS: dict[str, threading.Lock] = {}
_DIR_LOCKS_GUARD = threading.Lock()


@contextlib.contextmanager
def _locked(articles_dir: Path) -> Iterator[None]:
    """Serialize state updates for one articles folder: across threads, and across processes where possible."""
    key = str(articles_dir.resolve())
    with _DIR_LOCKS_GUARD:
        lock = _DIR_LOCKS.setdefault(key, threading.Lock())
    with lock:
        articles_dir.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # Windows: the in-process lock only
            yield
            return
        with open(articles_dir / LOCK_FILE, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class _State:
    urls: dict[str, dict] = field(default_factory=dict)
    canonical: dict[str, dict] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, articles_dir: Path) -> _State:
        path = articles_dir / STATE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable %s (%s): every source will be fetched again", path, exc)
            return cls()
        if not isinstance(data, dict):
            return cls()
        return cls(
            urls=dict(data.get("urls") or {}),
            canonical=dict(data.get("canonical") or {}),
            hashes=dict(data.get("hashes") or {}),
        )

    def save(self, articles_dir: Path) -> None:
        data = {"version": 1, "urls": self.urls, "canonical": self.canonical, "hashes": self.hashes}
        _atomic_write(articles_dir / STATE_FILE, json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False))

    def validators(self, url: str, articles_dir: Path, kind: str) -> tuple[str | None, str | None]:
        """ETag and Last-Modified to send for `url`; none for a page whose file is gone (fetch it again)."""
        entry = self.urls.get(url)
        if not entry:
            return None, None
        if kind == "page":
            art = self.canonical.get(entry.get("canonical") or "")
            if not art or not (articles_dir / art["file"]).is_file():
                return None, None
        return entry.get("etag"), entry.get("last_modified")

    def remember(self, url: str, kind: str, fetched: Fetched | None, canonical: str | None = None) -> None:
        old = self.urls.get(url, {})
        # A 304 may omit the validators: the ones that earned it stay valid.
        keep = old if fetched is not None and fetched.not_modified else {}
        self.urls[url] = {
            "kind": kind,
            "etag": (fetched.etag if fetched else None) or keep.get("etag"),
            "last_modified": (fetched.last_modified if fetched else None) or keep.get("last_modified"),
            "canonical": canonical if canonical is not None else old.get("canonical"),
            "checked": _now(),
        }


# --- fetching one article --------------------------------------------------------------------------------


@dataclass
class _Article:
    """An article ready to be written (or a 304 / a failure), not yet compared with the folder."""

    requested: str  # the cleaned URL that was requested
    status: str  # "ok", "not_modified", "error", "refused"
    fetched: Fetched | None = None
    canonical: str | None = None
    meta: dict = field(default_factory=dict)
    text: str = ""
    error: str | None = None
    from_entry: bool = False


def _entry_text(entry) -> str:
    """The longest text a feed entry carries itself (content, else summary), as plain text."""
    best = ""
    for item in entry.get("content") or []:
        value = item.get("value") or ""
        text = _html_fragment_text(value) if "html" in (item.get("type") or "html") else normalize_text(value)
        best = text if len(text) > len(best) else best
    summary = entry.get("summary") or ""
    text = _html_fragment_text(summary)
    return text if len(text) > len(best) else best


def _entry_date(entry) -> str | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        t = entry.get(key)
        if t:
            return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"
    return None


def _fetch_article(fetcher: Fetcher, url: str, state: _State, articles_dir: Path,
                   entry=None, feed_title: str | None = None) -> _Article:  # fmt: skip
    """Fetch and extract one page; with a feed `entry`, fall back on the entry's own text."""
    etag, modified = state.validators(url, articles_dir, "page")
    try:
        fetched = fetcher.get(url, accept=PAGE_TYPES, accept_header=PAGE_ACCEPT, etag=etag, last_modified=modified)
        if fetched.not_modified:
            return _Article(url, "not_modified", fetched)
        html = _decode(fetched.body, fetched.charset)
        meta, text = extract_html(html, url=fetched.url)
        text = normalize_text(text)
        canonical = page_canonical(html, fetched.url, fallback=_clean_link(url))
        if canonical is None:
            raise FetchError(url, "no valid URL for the page")
        host = urlsplit(fetched.url)
        if str(meta.get("source") or "") in (host.netloc, host.hostname):
            meta["source"] = None  # trafilatura's fallback is the bare host name: a feed title says more
        meta = {**meta, "url": canonical, "source": meta.get("source") or feed_title}
        if entry is not None:
            meta["title"] = meta.get("title") or entry.get("title")
            meta["date"] = meta.get("date") or _entry_date(entry)
            if len(text) < MIN_ENTRY_TEXT and len(_entry_text(entry)) > len(text):
                return _from_entry(url, entry, feed_title, fetched)
        if not text:
            raise FetchError(fetched.url, "no article text found on the page")
        return _Article(url, "ok", fetched, canonical, meta, text)
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
    return _Article(url, status, error=error)


def _from_entry(url: str, entry, feed_title: str | None, fetched: Fetched | None) -> _Article:
    text = _entry_text(entry)
    if len(text) < MIN_ENTRY_TEXT:
        return _Article(url, "error", error=f"Cannot use {url}: the feed entry has too little text")
    meta = {"title": entry.get("title"), "date": _entry_date(entry), "url": url, "source": feed_title,
            "author": entry.get("author")}  # fmt: skip
    return _Article(url, "ok", fetched, url, meta, text, from_entry=True)


# --- writing ---------------------------------------------------------------------------------------------


class _Writer:
    """Compares fetched articles with the folder and state; writes what is new or changed. Holds the lock."""

    def __init__(self, articles_dir: Path, state: _State):
        self.dir = articles_dir
        self.state = state
        self.seen: set[str] = set()  # canonical URLs handled in this run

    def commit(self, art: _Article) -> tuple[str, Path | None]:
        """Outcome ("new", "updated", "unchanged", "duplicate") and the article's file."""
        state = self.state
        if art.status == "not_modified":
            state.remember(art.requested, "page", art.fetched)
            canonical = state.urls[art.requested].get("canonical")
            entry = state.canonical.get(canonical or "")
            path = self.dir / entry["file"] if entry else None
            if canonical in self.seen:
                return "duplicate", path
            self.seen.add(canonical or art.requested)
            return "unchanged", path
        assert art.canonical is not None
        canonical = art.canonical
        if not art.from_entry:  # an entry's stand-in text carries no validators worth keeping
            state.remember(art.requested, "page", art.fetched, canonical)
        else:
            state.urls.pop(art.requested, None)
        entry = state.canonical.get(canonical)
        if canonical in self.seen:
            return "duplicate", self.dir / entry["file"] if entry else None
        self.seen.add(canonical)
        text_hash = content_hash(normalize_text(art.text))
        if entry is None:
            other = state.hashes.get(text_hash)
            if other and (self.dir / other).is_file():
                return "duplicate", self.dir / other  # the same story under another URL
        body = render_article(art.meta, art.text)
        body_hash = _sha(body)
        if entry is not None:
            path = self.dir / entry["file"]
            if entry.get("hash") == body_hash and path.is_file():
                return "unchanged", path
            outcome = "updated" if path.is_file() else "new"
        else:
            rel = article_path(canonical, art.meta.get("title"))
            path = self.dir / rel
            entry = {"file": rel}
            outcome = "new"
        _atomic_write(path, body)
        entry["hash"] = body_hash
        state.canonical[canonical] = entry
        for h in [h for h, f in state.hashes.items() if f == entry["file"]]:
            del state.hashes[h]
        state.hashes[text_hash] = entry["file"]
        return outcome, path


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
    requested = _clean_link(url)
    if requested is None:
        return None, SourceStatus(url, "page", "refused", error=f"Refused {_shown(url)}: {_invalid_link(url)}.")
    with Fetcher(policy) as fetcher:
        art = _fetch_article(fetcher, requested, _State.load(articles_dir), articles_dir)
    if art.status in ("error", "refused"):
        return None, SourceStatus(url, "page", art.status, error=art.error)
    with _locked(articles_dir):
        state = _State.load(articles_dir)
        outcome, path = _Writer(articles_dir, state).commit(art)
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


def _fetch_feed(fetcher: Fetcher, url: str, state: _State, articles_dir: Path, max_entries: int) -> _FeedRun:
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
    body, content_type = _feed_content_type(fetched.body, fetched.headers.get("content-type", ""))
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
    run.title = _one_line(parsed.feed.get("title") or "") or None
    for n, entry in enumerate(parsed.entries[:max_entries], 1):
        link = entry.get("link")
        if not link:
            continue
        with contextlib.suppress(ValueError):  # an unparsable link: clean_url refuses it below
            link = urljoin(fetched.url, str(link).strip())
        clean = _clean_link(link)
        if clean is None:
            reason = _invalid_link(link)
            log.warning("feed %s: dropping entry %d, link %s: %s", _shown(url), n, _shown(link), reason)
            run.entries.append((None, entry, f"Refused the link of entry {n} ({_shown(link)[:80]}): {reason}."))
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
    state = _State.load(articles_dir)
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

    statuses = []
    with _locked(articles_dir):
        state = _State.load(articles_dir)  # again: another refresh or /add may have saved in the meantime
        writer = _Writer(articles_dir, state)
        done: set[str] = set()
        for run in runs:
            if run.status != "ok":
                if run.status == "not_modified":
                    state.remember(run.url, "feed", run.fetched)
                statuses.append(SourceStatus(run.url, "feed", run.status, error=run.error, title=run.title))
                continue
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
            statuses.append(SourceStatus(run.url, "feed", "ok", error=error, failed=len(errors), title=run.title,
                                         **counts))  # fmt: skip
        state.save(articles_dir)
    return statuses
