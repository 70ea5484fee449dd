"""Article files -> `Article` records: one module per format, the folder scan, and the suffix -> loader registry.

txt.py (the `.txt` header format, read and written), markdown.py, html.py and jsonl.py each give a
`load(path, text) -> (articles, failures)`; record.py turns a format's text and metadata into an Article;
decode.py reads a file's text safely; scan.py walks the folders; articles.py loads one file or them all.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from index.ingest import html, jsonl, markdown, txt
from index.records import Article, Failure

Loader = Callable[[Path, str], tuple[list[Article], list[Failure]]]

LOADERS: dict[str, Loader] = {
    ".txt": txt.load,
    ".md": markdown.load,
    ".markdown": markdown.load,
    ".html": html.load,
    ".htm": html.load,
    ".json": jsonl.load,
    ".jsonl": jsonl.load,
}
EXTENSIONS = tuple(LOADERS)
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
