"""The HTML article format: the page's main text and metadata, with trafilatura."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlparse

from index.errors import BadArticle
from index.ingest.record import TOO_DEEP, make_article
from index.records import Article, Failure
from index.text.normalize import normalize_text

log = logging.getLogger(__name__)


def extract_html(html: str, *, url: str | None = None) -> tuple[dict, str]:
    """Return (metadata, main text) of an HTML page, paragraphs kept, with trafilatura."""
    import trafilatura

    # Dates only from the page's metadata: htmldate's extensive search guesses from any number in the
    # text (a 2012 article came out as 2004-01-01); a dateline at the top of the text is read instead.
    doc = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, favor_recall=True, include_comments=False, include_tables=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if doc is None:
        return {}, ""
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    title = (data.get("title") or "").strip()
    lines = [ln.strip() for ln in (data.get("text") or "").splitlines()]
    lines = [ln for ln in lines if ln]
    # With favor_recall, trafilatura keeps the page's <h1> as the first line: it is the title, not the body.
    if lines and title and normalize_text(lines[0]) == normalize_text(title):
        lines = lines[1:]
    page_url = data.get("url") or url
    source = data.get("sitename") or None
    if source and source in _hosts(page_url):
        source = None  # trafilatura's fallback, the link's host: make_article takes it from the cleaned link
    meta = {
        "title": title,
        "date": data.get("date"),
        "url": page_url,
        "source": source,
        "author": data.get("author"),
        "lang": data.get("language"),
    }
    return meta, "\n\n".join(lines)


def html_too_deep(html: str) -> bool:
    """True when the HTML parser gives up on this page for its depth (libxml2 stops at 256 nested elements).

    trafilatura parses with lxml: what comes after that point is silently lost, so a page whose text sits
    deeper reads as a page without text. One more parse, without building anything from the tree: fast.
    """
    from lxml import etree

    parser = etree.HTMLParser(collect_ids=False, no_network=True, encoding="utf-8")
    with contextlib.suppress(etree.LxmlError, ValueError):  # what matters is the parser's error log
        etree.fromstring(html.encode("utf-8", "replace"), parser)
    return any("depth" in (e.message or "").lower() for e in parser.error_log)


def _hosts(url: str | None) -> set[str]:
    """The ways a page's host can be spelled from its link (with user info and port, or bare)."""
    try:
        parts = urlparse(url or "")
        names = {parts.netloc, parts.netloc.rpartition("@")[2], parts.hostname or ""}
    except ValueError:
        return set()
    return {n for n in names | {n.removeprefix("www.") for n in names} if n}


def load(path: Path, text: str) -> tuple[list[Article], list[Failure]]:
    """The one article of an HTML page; its (cleaned) link is its key when it has one."""
    meta, body = extract_html(text)
    if html_too_deep(text):
        if not normalize_text(body):
            raise BadArticle(str(path), TOO_DEEP)
        log.info("%r: only the start of the page is read (it nests elements too deeply for the parser)", str(path))
    article = make_article(key=str(path), text=body, path=str(path), meta=meta, fallback_title=path.stem)
    return [replace(article, key=article.url) if article.url else article], []
