"""From a format's text and metadata to an `Article`: normalized text, clean one-line metadata, a content hash."""

from __future__ import annotations

import hashlib
import logging
import re
from urllib.parse import urlparse

from index.errors import BadArticle
from index.lang import detect_language
from index.records import Article
from index.sources.urls import clean_url
from index.text.dates import parse_date
from index.text.normalize import normalize_line, normalize_text

log = logging.getLogger(__name__)

TOO_DEEP = "could not be parsed (too deeply nested)"
_FIRST_SENTENCE = re.compile(r"^(.{10,200}?[.!?…])(?:\s|$)")
_LANG = re.compile(r"^[a-z]{2}$")


def content_hash(*parts: str | None) -> str:
    """A short hex SHA-256 of the parts, each one ended by a separator (None counts as empty)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update((part or "").encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()[:32]


def _meta_line(value: object) -> str | None:
    """One metadata value as a clean single line (see normalize_line), or None when there is nothing left.

    A list (YAML `author: [A, B]`) is joined with commas; a mapping is not a value and gives None.
    """
    if value is None or isinstance(value, dict):
        return None
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value if v is not None and not isinstance(v, dict | list | tuple))
    return normalize_line(value) or None


def _meta_url(value: object, where: str) -> str | None:
    """The article's link through `clean_url`; an invalid one is dropped (the article is kept) with a log line."""
    if value is None or value == "":
        return None
    url = clean_url(value) if isinstance(value, str) else None
    if url is None:
        log.info("%r: link %r dropped: not a valid http(s) URL", where, str(value)[:300])
    return url


_DATELINE = re.compile(
    r"^(?:[A-ZÀ-Ý][\w' -]{1,40}(?:\([^)]{1,30}\))?,\s*)?"  # optional place: "PARIS, " or "Lyon (AFP), "
    r"((?:\d{1,2}(?:er)?\s+[A-Za-zéûÉÛ]+\.?\s+\d{4})|(?:[A-Z][a-z]+\.?\s+\d{1,2},\s+\d{4}))\b"
)


def dateline(text: str) -> str | None:
    """The date a news text opens with ("22 mai 2012. - ...", "PARIS, May 3, 2025 —"), if any."""
    for para in text.split("\n\n", 2)[:2]:
        if m := _DATELINE.match(para):
            return parse_date(m.group(1))
    return None


def _title_from(text: str, fallback: str) -> str:
    first = text.split("\n\n", 1)[0].strip()
    m = _FIRST_SENTENCE.match(first)
    if m:
        return m.group(1).strip()
    if 0 < len(first) <= 200:
        return first
    return fallback


def make_article(
    *,
    key: str,
    text: str,
    path: str | None,
    meta: dict,
    fallback_title: str,
) -> Article:
    """Normalize text and metadata into an Article; raises BadArticle when no text is left."""
    body = normalize_text(text)
    if not body:
        raise BadArticle(path or key, "no article text (empty after extraction)")
    # Metadata is normalized like the text (no control, bidi or invisible character, one line each), and the
    # link goes through clean_url: nothing from a file reaches a terminal or a Discord message unchecked.
    title = (_meta_line(meta.get("title")) or "")[:300].rstrip()
    title = title or _title_from(body, normalize_line(fallback_title) or "untitled")
    url = _meta_url(meta.get("url"), path or key)
    source = _meta_line(meta.get("source"))
    if source and "://" in source:  # a link given as the source: the link if there is none, never a name
        source_url = _meta_url(meta.get("source"), path or key)
        url, source = url or source_url, None
    if source is None and url:
        source = urlparse(url).netloc.removeprefix("www.")
    raw_date = meta.get("date")
    date = parse_date(normalize_line(raw_date) if isinstance(raw_date, str) else raw_date) or dateline(body)
    lang = (_meta_line(meta.get("lang")) or "").lower()[:2]
    if not _LANG.match(lang):
        lang = detect_language(f"{title}\n{body}")
    author = _meta_line(meta.get("author"))
    return Article(
        key=key,
        title=title,
        text=body,
        date=date,
        url=url,
        path=path,
        source=source,
        author=author,
        lang=lang,
        content_hash=content_hash(title, body, date, url, source, author, lang),
    )
