"""The writer of a new segment: articles cut into passages, analyzed, embedded in batches (or reused)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.build.options import BuildOptions, Progress
from index.embedding import Embedder
from index.ingest.articles import content_hash
from index.lang.analyzer import analyze
from index.records import Article
from index.store.faults import UNREADABLE
from index.store.segments import SegmentFiles, SegmentWriter
from index.text.chunking import Window, make_windows, whole_text_window

log = logging.getLogger(__name__)


@dataclass
class Space:
    """What a reindex writes, to tell a full disk's size (DiskFull)."""

    needed: int = 0  # about how many bytes it writes (new segment, merges)
    written: int = 0  # what the staging folder held when it failed


def bytes_for(articles: Sequence[Article], dimension: int, options: BuildOptions) -> int:
    """About how many bytes a segment of `articles` takes: text and terms in SQLite, vectors, postings."""
    text = sum(len(a.text.encode()) + len(a.title.encode()) for a in articles)
    words = sum(len(a.text.split()) for a in articles)
    passages = len(articles) + (0 if options.whole_articles else words // max(1, options.target_words))
    return 4 * text + passages * (4 * dimension + 256)


def windows(article: Article, options: BuildOptions) -> list[Window]:
    if options.whole_articles:
        return [whole_text_window(article.text)]
    return make_windows(article.text, options.target_words, options.max_words, options.overlap)


class Reuse:
    """Vectors of passages already embedded, found by text hash in earlier segments (or a format-1 version).

    Reuse saves embedding and nothing more: a source that cannot be read, or holds vectors of another size, is
    left out with a log line, and its passages are embedded again.
    """

    def __init__(self, sources: Sequence[SegmentFiles] = ()):
        self.sources = list(sources)
        self._skipped: set[int] = set()

    def _skip(self, i: int, exc: BaseException) -> None:
        if i not in self._skipped:
            log.warning("not reusing the vectors of %s (%s): embedding its passages again", self.sources[i].name,
                        str(exc)[:200])  # fmt: skip
            self._skipped.add(i)

    def lookup(self, hashes: Sequence[str]) -> dict[str, tuple[int, int]]:
        """Text hash -> (source index, passage id) of an indexed passage with that text, for those that exist."""
        out: dict[str, tuple[int, int]] = {}
        for i, src in enumerate(self.sources):
            if i in self._skipped:
                continue
            try:
                found = src.passages_by_hash(hashes)
            except UNREADABLE as exc:
                self._skip(i, exc)
                continue
            for h, pid in found:
                out.setdefault(h, (i, pid))
        return out

    def vectors(self, i: int, pids: Sequence[int], dimension: int) -> np.ndarray | None:
        """The vectors of passages `pids` of source `i`; None when they cannot be read."""
        try:
            return self.sources[i].vectors(pids, dimension)
        except UNREADABLE as exc:
            self._skip(i, exc)
            return None


@dataclass(frozen=True)
class NewSegment:
    """A segment written in the staging folder."""

    entry: dict  # its manifest entry
    embedded: int  # passages embedded (the others reused a vector)
    ids: dict[str, int]  # article key -> the id it was given
    next_article: int  # the ids the next articles and passages get
    next_passage: int


@dataclass(frozen=True)
class _Row:
    pid: int
    text_hash: str
    text: str


class SegmentBuilder:
    """Writes the added and changed articles into one new segment."""

    def __init__(self, embedder: Embedder, options: BuildOptions, reuse: Reuse, check_cancel: Callable[[], None],
                 progress: Progress | None = None):  # fmt: skip
        self.embedder = embedder
        self.options = options
        self.reuse = reuse
        self.check_cancel = check_cancel  # raises when the reindex was cancelled
        self.progress = progress

    def write(self, folder: Path, articles: Sequence[Article], stamps: dict, now: str, next_article: int,
              next_passage: int) -> NewSegment:  # fmt: skip
        """Write `articles` (ids from `next_article`, passage ids from `next_passage`) into segment `folder`."""
        writer = SegmentWriter(folder)
        try:
            ids: dict[str, int] = {}
            rows: list[_Row] = []
            per_article: list[int] = []  # passages of each article, in order: the progress of embedding
            for article in articles:
                ids[article.key] = next_article
                writer.add_article(next_article, article, now, stamps.get(article.path))
                title_terms = analyze(article.title, article.lang)
                cut = windows(article, self.options)
                for pos, w in enumerate(cut):
                    text = article.text[w.start : w.end]
                    row = _Row(next_passage + len(rows), content_hash(text), text)
                    writer.add_passage(row.pid, next_article, pos, w.start, w.end, text, row.text_hash,
                                       w.sentences, article.lang, title_terms + analyze(text, article.lang))  # fmt: skip
                    rows.append(row)
                per_article.append(len(cut))
                next_article += 1
            vectors, todo = self._reused(rows)
            self._embed(vectors, todo, [r.text for r in rows], per_article)
            self.check_cancel()
            pids = np.array([r.pid for r in rows], dtype=np.int64)
            entry = writer.finish(pids, vectors, self.embedder.dimension, self.options.ann_threshold)
        except BaseException:
            writer.abort()
            raise
        return NewSegment(entry, len(todo), ids, next_article, next_passage + len(rows))

    def _reused(self, rows: Sequence[_Row]) -> tuple[np.ndarray, list[int]]:
        """Vectors for `rows`, filled where an indexed passage has the same text; the rows left to embed."""
        vectors = np.zeros((len(rows), self.embedder.dimension), dtype=np.float32)
        if not self.reuse.sources:
            return vectors, list(range(len(rows)))
        found = self.reuse.lookup(sorted({r.text_hash for r in rows}))
        by_source: dict[int, list[int]] = {}
        for j, r in enumerate(rows):
            if r.text_hash in found:
                by_source.setdefault(found[r.text_hash][0], []).append(j)
        todo = [j for j, r in enumerate(rows) if r.text_hash not in found]
        for src, js in by_source.items():
            got = self.reuse.vectors(src, [found[rows[j].text_hash][1] for j in js], self.embedder.dimension)
            if got is None:
                todo += js
            else:
                vectors[js] = got
        return vectors, sorted(todo)

    def _embed(self, vectors: np.ndarray, todo: list[int], texts: list[str], per_article: list[int]) -> None:
        """Embed rows `todo` one batch at a time, checking for cancellation and reporting articles done."""
        total_articles = len(per_article)
        bounds = np.cumsum(per_article)
        batch = self.options.batch_size
        if self.progress:
            self.progress("embedding", 0, total_articles)
        for i in range(0, len(todo), batch):
            self.check_cancel()
            rows = todo[i : i + batch]
            vectors[rows] = self.embedder.encode_documents([texts[r] for r in rows])
            if self.progress:
                self.progress("embedding", int(np.searchsorted(bounds, rows[-1] + 1, side="right")), total_articles)
        if self.progress:
            self.progress("embedding", total_articles, total_articles)
