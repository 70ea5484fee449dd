"""Loading articles: one file (through the loader of its format) or every file under a set of folders.

Every loader returns normalized `Article` records or raises `BadArticle` with a reason a person can act on.
`make_article` and `content_hash` (index.ingest.record) are named here too: the tree imports them from here.
"""

from __future__ import annotations

import logging
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from index.errors import BadArticle
from index.ingest import DEFAULT_MAX_BYTES, LOADERS
from index.ingest.decode import read_text
from index.ingest.record import TOO_DEEP, content_hash, make_article
from index.ingest.scan import iter_files
from index.records import Article, Failure

__all__ = ["DEFAULT_MAX_BYTES", "KnownFile", "Scan", "content_hash", "load_articles", "load_file", "make_article",
           "scan_articles", "settled"]  # fmt: skip

log = logging.getLogger(__name__)


def load_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[list[Article], list[Failure]]:
    """Load the articles of one file. Raises BadArticle when the whole file is unusable."""
    suffix = path.suffix.lower()
    if suffix not in LOADERS:
        raise BadArticle(str(path), f"unsupported file type {suffix or '(none)'}")
    text = read_text(path, max_bytes)
    if not text.strip():
        raise BadArticle(str(path), "empty file")
    try:
        return LOADERS[suffix](path, text)
    except RecursionError:  # any parser recursing on a deeply nested file: one line, not a traceback
        raise BadArticle(str(path), TOO_DEEP) from None


def settled(mtime_ns: int, seen: float) -> bool:
    """True when a file with this mtime, read at `seen`, cannot have changed since without a new mtime.

    A change within the file system's timestamp granularity of the previous one keeps the mtime: a file
    read that soon after its mtime must be read again next time. Whole-second (or millisecond) mtimes mean a
    coarse file system: two seconds of margin; otherwise a twentieth of a second.
    """
    margin = 2.0 if mtime_ns % 1_000_000 == 0 else 0.05
    return mtime_ns / 1e9 < seen - margin


@dataclass(frozen=True)
class KnownFile:
    """What the index recorded about one file: its size and mtime then, and the keys of its articles."""

    size: int
    mtime_ns: int
    keys: tuple[str, ...]


@dataclass
class Scan:
    articles: list[Article]
    failures: list[Failure]
    kept: list[str]  # keys of the articles of files skipped as unchanged (see scan_articles)
    stamps: dict[str, tuple[int, int, float]]  # path -> (size, mtime_ns, when it was read) of every file read


def load_articles(
    roots: Iterable[Path],
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Article], list[Failure]]:
    """Load every article under `roots`; one bad file never stops the others."""
    scan = scan_articles(roots, max_bytes, progress)
    return scan.articles, scan.failures


def scan_articles(
    roots: Iterable[Path],
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Callable[[int, int], None] | None = None,
    known: Mapping[str, KnownFile] | None = None,
) -> Scan:
    """Load the articles under `roots`, except files `known` says are unchanged (same size and mtime).

    Skipped files are not opened: their articles' keys are returned in `kept`. One bad file never stops
    the others. The same key twice (two files with one URL) keeps the first and reports the second.
    `progress` is called with (files done, files total).
    """
    articles: dict[str, Article] = {}
    seen: dict[str, str] = {}  # key -> path, for duplicates among kept and loaded articles
    scan = Scan([], [], [], {})
    files = list(iter_files(roots))
    for done, (name, key, st, read_at, skip) in enumerate(files, start=1):
        if progress:
            progress(done, len(files))
        if skip is not None:
            scan.failures.append(Failure(name, skip))
            continue
        if st is None:
            scan.failures.append(Failure(name, "cannot be read (it vanished or is not accessible)"))
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        prior = (known or {}).get(name)
        if prior is not None and prior.size == st.st_size and prior.mtime_ns == st.st_mtime_ns and prior.keys:
            for k in prior.keys:
                if k not in seen:
                    seen[k] = name
                    scan.kept.append(k)
            continue
        try:
            loaded, bad = load_file(Path(name), max_bytes)
            loaded = [replace(a, key=key + a.key[len(name) :]) if a.key.startswith(name) else a for a in loaded]
        except BadArticle as exc:
            scan.failures.append(Failure(exc.path, exc.reason))
            continue
        except Exception as exc:  # a library choking on a strange file must not stop the reindex
            log.warning("cannot load %s", name, exc_info=True)
            scan.failures.append(Failure(name, f"cannot be read ({exc.__class__.__name__}: {exc})"[:300]))
            continue
        scan.stamps[name] = (st.st_size, st.st_mtime_ns, read_at)
        scan.failures.extend(bad)
        for article in loaded:
            if article.key in seen:
                scan.failures.append(Failure(article.path or article.key, f"duplicate of {seen[article.key]}"))
                continue
            seen[article.key] = article.path or name
            articles[article.key] = article
    scan.articles = list(articles.values())
    return scan
