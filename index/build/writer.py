"""The writer of a new segment: articles cut into passages, analyzed, embedded in batches (or reused)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.build.options import BuildOptions, Progress
from index.embedding import Embedder
from index.embedding.protocol import encode_with_sentences
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
    """About how many bytes a segment of `articles` takes: text and terms in SQLite, vectors, postings, and the
    sentence vectors (float16; about 25 words a sentence, plus the one overlapping passages share)."""
    text = sum(len(a.text.encode()) + len(a.title.encode()) for a in articles)
    words = sum(len(a.text.split()) for a in articles)
    passages = len(articles) + (0 if options.whole_articles else words // max(1, options.target_words))
    sentences = (words // 20 + passages) if options.sentence_vectors else 0
    return 4 * text + passages * (4 * dimension + 256) + sentences * (2 * dimension + 8)


def windows(article: Article, options: BuildOptions) -> list[Window]:
    if options.whole_articles:
        return [whole_text_window(article.text)]
    return make_windows(article.text, options.target_words, options.max_words, options.overlap)


class Reuse:
    """Vectors of passages already embedded, found by text hash in earlier segments (or a format-1 version),
    with their sentence vectors where the segment holds them.

    Reuse saves embedding and nothing more: a source that cannot be read, or holds vectors of another size, is
    left out with a log line, and its passages are embedded again (its sentences only, when only their
    vectors cannot be read).
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

    def sentences(self, i: int, pids: Sequence[int], dimension: int) -> dict[int, tuple[tuple, np.ndarray]]:
        """Passage id -> (its sentences' offsets in its text, their vectors) of source `i`, for those it holds."""
        try:
            return self.sources[i].sentence_vectors(pids, dimension)
        except UNREADABLE as exc:
            log.warning("not reusing the sentence vectors of %s (%s): embedding its sentences again",
                        self.sources[i].name, str(exc)[:200])  # fmt: skip
            return {}


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
    spans: tuple[tuple[int, int], ...]  # its sentences' offsets in `text`


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
                    spans = tuple((a - w.start, b - w.start) for a, b in w.sentences)
                    row = _Row(next_passage + len(rows), content_hash(text), text, spans)
                    writer.add_passage(row.pid, next_article, pos, w.start, w.end, text, row.text_hash,
                                       w.sentences, article.lang, title_terms + analyze(text, article.lang))  # fmt: skip
                    rows.append(row)
                per_article.append(len(cut))
                next_article += 1
            vectors, todo, sentences = self._reused(rows)
            self._embed(vectors, sentences, todo, rows, per_article)
            self.check_cancel()
            pids = np.array([r.pid for r in rows], dtype=np.int64)
            entry = writer.finish(pids, vectors, self.embedder.dimension, self.options.ann_threshold,
                                  sentences if self.options.sentence_vectors else None)  # fmt: skip
        except BaseException:
            writer.abort()
            raise
        return NewSegment(entry, len(todo), ids, next_article, next_passage + len(rows))

    def _reused(self, rows: Sequence[_Row]) -> tuple[np.ndarray, list[int], dict[int, np.ndarray]]:
        """Vectors for `rows`, filled where an indexed passage has the same text; the rows left to embed; the
        sentence vectors that come with the reused ones (passage id -> one row per sentence), where the indexed
        passage's sentences are cut at the same offsets."""
        vectors = np.zeros((len(rows), self.embedder.dimension), dtype=np.float32)
        sentences: dict[int, np.ndarray] = {}
        if not self.reuse.sources:
            return vectors, list(range(len(rows))), sentences
        found = self.reuse.lookup(sorted({r.text_hash for r in rows}))
        by_source: dict[int, list[int]] = {}
        for j, r in enumerate(rows):
            if r.text_hash in found:
                by_source.setdefault(found[r.text_hash][0], []).append(j)
        todo = [j for j, r in enumerate(rows) if r.text_hash not in found]
        for src, js in by_source.items():
            old = [found[rows[j].text_hash][1] for j in js]
            got = self.reuse.vectors(src, old, self.embedder.dimension)
            if got is None:
                todo += js
                continue
            vectors[js] = got
            stored = {}
            if self.options.sentence_vectors:
                stored = self.reuse.sentences(src, old, self.embedder.dimension)
            for j, pid in zip(js, old, strict=True):
                if pid in stored and stored[pid][0] == rows[j].spans:
                    sentences[rows[j].pid] = stored[pid][1].astype(np.float16)
        return vectors, sorted(todo), sentences

    def _embed(self, vectors: np.ndarray, sentences: dict[int, np.ndarray], todo: list[int], rows: Sequence[_Row],
               per_article: list[int]) -> None:  # fmt: skip
        """Embed rows `todo`, and the sentences of the rows that have no sentence vectors yet, one batch of rows
        at a time (passages and their sentences in one call), checking for cancellation and reporting articles
        done. Sentence vectors are kept as float16, as they are written."""
        total_articles = len(per_article)
        bounds = np.cumsum(per_article)
        batch = self.options.batch_size
        whole = set(todo)
        work = set(todo)
        if self.options.sentence_vectors:
            work |= {j for j, r in enumerate(rows) if r.spans and r.pid not in sentences}
        work_rows = sorted(work)
        if self.progress:
            self.progress("embedding", 0, total_articles)
        for i in range(0, len(work_rows), batch):
            self.check_cancel()
            part = work_rows[i : i + batch]
            both, only = [j for j in part if j in whole], [j for j in part if j not in whole]
            self._embed_part(vectors, sentences, rows, both, only)
            if self.progress:
                self.progress("embedding", int(np.searchsorted(bounds, part[-1] + 1, side="right")), total_articles)
        if self.progress:
            self.progress("embedding", total_articles, total_articles)

    def _embed_part(self, vectors: np.ndarray, sentences: dict[int, np.ndarray], rows: Sequence[_Row],
                    whole: list[int], only: list[int]) -> None:  # fmt: skip
        """Embed rows `whole` (with their sentences, when sentence vectors are kept) and the sentences of `only`."""
        if not self.options.sentence_vectors:
            vectors[whole] = self.embedder.encode_documents([rows[j].text for j in whole])
            return
        for js, passages in ((whole, True), (only, False)):
            if not js:
                continue
            got, per_row = encode_with_sentences(self.embedder, [rows[j].text for j in js],
                                                 [rows[j].spans for j in js], whole=passages)  # fmt: skip
            if got is not None:
                vectors[js] = got
            sentences.update((rows[j].pid, v.astype(np.float16)) for j, v in zip(js, per_row, strict=True))
