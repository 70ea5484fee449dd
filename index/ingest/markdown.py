"""The Markdown article format: YAML front matter for the metadata, the text reduced to plain paragraphs."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from index.errors import BadArticle
from index.ingest.record import TOO_DEEP, make_article
from index.records import Article, Failure
from index.text.normalize import normalize_text

log = logging.getLogger(__name__)

MARKDOWN_MAX_NESTING = 100  # markdown-it drops what is nested deeper (its CommonMark preset says 20)


def _front_matter(text: str, path: Path) -> tuple[dict, str]:
    import yaml

    if not text.startswith("---"):
        return {}, text
    end = re.search(r"^(---|\.\.\.)\s*$", text[3:], flags=re.MULTILINE)
    if not end:
        raise BadArticle(str(path), "front matter opened with --- but never closed")
    try:
        meta = yaml.safe_load(text[3 : 3 + end.start()]) or {}
    except yaml.YAMLError as exc:
        raise BadArticle(str(path), f"front matter is not valid YAML ({exc.__class__.__name__})") from exc
    except RecursionError:
        raise BadArticle(str(path), f"front matter {TOO_DEEP}") from None
    if not isinstance(meta, dict):
        raise BadArticle(str(path), "front matter is not a mapping of keys to values")
    return {str(k).lower(): v for k, v in meta.items()}, text[3 + end.end() :]


def markdown_to_text(source: str) -> str:
    """Reduce Markdown to plain text: one paragraph per block, inline markup and links reduced to their text."""
    return _markdown(source)[0]


def _markdown(source: str) -> tuple[str, bool]:
    """(plain text, whether some of it was nested too deeply for the parser, which then drops it)."""
    from markdown_it import MarkdownIt

    blocks: list[str] = []
    tokens = MarkdownIt("commonmark", {"maxNesting": MARKDOWN_MAX_NESTING}).parse(source)
    too_deep = any(token.level >= MARKDOWN_MAX_NESTING - 1 for token in tokens)
    for token in tokens:
        if token.type == "inline":
            parts = []
            for child in token.children or []:
                if child.type in ("text", "code_inline"):
                    parts.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    parts.append(" ")
                elif child.type == "image":
                    parts.append(child.content)
            blocks.append("".join(parts))
        elif token.type in ("code_block", "fence"):
            blocks.append(token.content)
    return "\n\n".join(b for b in blocks if b.strip()), too_deep


def load(path: Path, text: str) -> tuple[list[Article], list[Failure]]:
    """The one article of a Markdown file."""
    meta, body = _front_matter(text, path)
    plain, too_deep = _markdown(body)
    if too_deep:
        if not normalize_text(plain):
            raise BadArticle(str(path), TOO_DEEP)
        log.info("%r: text nested more than %d levels deep is left out", str(path), MARKDOWN_MAX_NESTING)
    return [make_article(key=str(path), text=plain, path=str(path), meta=meta, fallback_title=path.stem)], []
