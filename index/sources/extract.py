"""What a fetched page or feed holds: its text in the right charset, its canonical link, an entry's own text."""

from __future__ import annotations

import codecs
import contextlib
import re
from functools import lru_cache
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urljoin

from index.sources.urls import clean_link, same_site
from index.text.normalize import normalize_text


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
    another site's article. Every candidate is cleaned (`clean_link`); an invalid one is skipped, and when
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
        url = clean_link(urljoin(final_url, candidate))
        if url and same_site(url, final_url):
            return url
    return clean_link(final_url) or fallback


_BLOCK_END = re.compile(r"<\s*(?:br\s*/?|/\s*(?:p|div|li|h[1-6]|blockquote|tr|section|article)\s*)>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def html_fragment_text(fragment: str) -> str:
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


def decode(body: bytes, charset: str | None) -> str:
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


def feed_content_type(body: bytes, content_type: str) -> tuple[bytes, str]:
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


def entry_text(entry) -> str:
    """The longest text a feed entry carries itself (content, else summary), as plain text."""
    best = ""
    for item in entry.get("content") or []:
        value = item.get("value") or ""
        text = html_fragment_text(value) if "html" in (item.get("type") or "html") else normalize_text(value)
        best = text if len(text) > len(best) else best
    summary = entry.get("summary") or ""
    text = html_fragment_text(summary)
    return text if len(text) > len(best) else best


def entry_date(entry) -> str | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        t = entry.get(key)
        if t:
            return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"
    return None
