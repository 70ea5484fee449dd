"""The `.txt` article format, read and written here only: optional `key: value` header lines, a blank line, the text.

A file may instead open with a `date YYYY-MM[-DD]` prefix, or hold the text alone (the title is then its first
sentence, or the file name).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from index.ingest.record import make_article
from index.records import Article, Failure
from index.text.normalize import normalize_text

FIELDS = ("title", "date", "url", "source", "author", "lang")  # the header's keys, in the order written
_HEADER_LINE = re.compile(r"^\s*([A-Za-z_]+)\s*:\s*(.*?)\s*$")
_DATE_PREFIX = re.compile(r"^\s*date\s*:?\s+(\d{4}-\d{2}(?:-\d{2})?)\b[\s.:,-]*", re.IGNORECASE)


def header_value(value: object) -> str:
    """A metadata value as a header line holds it: one line, each run of whitespace one space."""
    return " ".join(str(value).split())


def render(meta: Mapping, text: str) -> str:
    """The `.txt` article file: header lines (the FIELDS with a value), a blank line, the text (paragraphs kept)."""
    lines = []
    for key in FIELDS:
        value = meta.get(key)
        if value:
            lines.append(f"{key}: {header_value(value)}")
    return "\n".join(lines) + "\n\n" + normalize_text(text) + "\n"


def split_header(text: str) -> tuple[dict, str]:
    """Split an optional `key: value` header (ended by a blank line) or a `date YYYY-MM` prefix."""
    meta: dict = {}
    lines = text.lstrip("\ufeff").splitlines()
    header_end = None
    for i, line in enumerate(lines):
        if not line.strip():
            header_end = i
            break
        m = _HEADER_LINE.match(line)
        if not m or m.group(1).lower() not in FIELDS:
            break
        meta[m.group(1).lower()] = m.group(2)
    if header_end and meta:
        return meta, "\n".join(lines[header_end + 1 :])
    meta = {}
    if m := _DATE_PREFIX.match(text.lstrip("\ufeff")):
        meta["date"] = m.group(1)
        return meta, text.lstrip("\ufeff")[m.end() :]
    return meta, text


def load(path: Path, text: str) -> tuple[list[Article], list[Failure]]:
    """The one article of a `.txt` file."""
    meta, body = split_header(text)
    return [make_article(key=str(path), text=body, path=str(path), meta=meta, fallback_title=path.stem)], []
