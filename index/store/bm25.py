"""BM25 over index segments: term postings written once per segment, statistics combined at query time.

Each segment stores raw term frequencies (not precomputed scores) as a term -> postings table (CSC layout):
`vocab.json` (term -> column), `indptr.npy`, `docs.npy` (the segment's rows), `tfs.npy` and `lengths.npy`
(terms per row). A snapshot made of several segments scores them as one corpus: document frequencies are
summed over the segments and the average length is taken over all of them, so a new segment holding one
edited article costs its own postings and nothing more, and the scores are those of one BM25 index over
every row (rows of replaced articles count in the statistics until their segment is merged away, as in
Lucene).

Scoring follows bm25s' "lucene" method, the one used before segments: idf = ln(1 + (N - df + 0.5) /
(df + 0.5)), term score = idf * tf / (tf + k1 * (1 - b + b * length / average length)).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

K1 = 1.2
B = 0.75


def write_postings(folder: Path, docs: Sequence[Sequence[str]]) -> None:
    """Write the postings of `docs` (each a list of terms, in row order) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab: dict[str, int] = {}
    cols: list[int] = []
    rows: list[int] = []
    tfs: list[int] = []
    lengths = np.zeros(len(docs), dtype=np.float32)
    for row, terms in enumerate(docs):
        lengths[row] = len(terms)
        for term, tf in Counter(terms).items():
            cols.append(vocab.setdefault(term, len(vocab)))
            rows.append(row)
            tfs.append(tf)
    col = np.asarray(cols, dtype=np.int64)
    order = np.argsort(col, kind="stable")  # by term, rows ascending within a term
    indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
    np.cumsum(np.bincount(col, minlength=len(vocab)), out=indptr[1:])
    np.save(folder / "indptr.npy", indptr)
    np.save(folder / "docs.npy", np.asarray(rows, dtype=np.int32)[order])
    np.save(folder / "tfs.npy", np.asarray(tfs, dtype=np.float32)[order])
    np.save(folder / "lengths.npy", lengths)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, separators=(",", ":")))


class Postings:
    """The postings of one segment, memory-mapped."""

    def __init__(self, folder: Path):
        self.vocab: dict[str, int] = json.loads((folder / "vocab.json").read_text())
        self.indptr = np.load(folder / "indptr.npy", mmap_mode="r")
        self.docs = np.load(folder / "docs.npy", mmap_mode="r")
        self.tfs = np.load(folder / "tfs.npy", mmap_mode="r")
        self.lengths = np.load(folder / "lengths.npy")

    def check(self, rows: int) -> None:
        """Raise ValueError unless the files agree with each other and cover `rows` rows (shapes only)."""
        if not isinstance(self.vocab, dict):
            raise ValueError("lexical/vocab.json is not a term table")
        if self.indptr.ndim != 1 or len(self.indptr) != len(self.vocab) + 1:
            raise ValueError(f"lexical/indptr.npy has {self.indptr.size} entries for {len(self.vocab)} terms")
        if self.docs.ndim != 1 or self.tfs.shape != self.docs.shape or int(self.indptr[-1]) != len(self.docs):
            raise ValueError(f"lexical/ postings disagree ({int(self.indptr[-1])} in indptr.npy, {self.docs.size} "
                             f"in docs.npy, {self.tfs.size} in tfs.npy)")  # fmt: skip
        if self.lengths.shape != (rows,):
            raise ValueError(f"lexical/lengths.npy covers {self.lengths.size} rows, not {rows}")

    def df(self, term: str) -> int:
        col = self.vocab.get(term)
        return 0 if col is None else int(self.indptr[col + 1] - self.indptr[col])

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        col = self.vocab.get(term)
        if col is None:
            return None
        a, b = int(self.indptr[col]), int(self.indptr[col + 1])
        return self.docs[a:b], self.tfs[a:b]


class Bm25:
    """BM25 over the rows of several segments, laid end to end in the given order."""

    def __init__(self, segments: Sequence[Postings], k1: float = K1, b: float = B):
        self.segments = list(segments)
        self.offsets = np.cumsum([0] + [len(s.lengths) for s in self.segments])
        self.n = int(self.offsets[-1])
        self.k1, self.b = k1, b
        self.lengths = np.concatenate([s.lengths for s in self.segments]) if self.segments else np.zeros(0)
        avg = float(self.lengths.mean()) if self.n else 1.0
        # The length part of the denominator, per row: k1 * (1 - b + b * length / average)
        self._norm = (k1 * (1 - b + b * self.lengths / (avg or 1.0))).astype(np.float32)

    def df(self, term: str) -> int:
        return sum(s.df(term) for s in self.segments)

    def __contains__(self, term: str) -> bool:
        return any(term in s.vocab for s in self.segments)

    def idf(self, term: str) -> float:
        df = self.df(term)
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def score_rows(self, terms: Sequence[str], rows: Sequence[int]) -> np.ndarray:
        """BM25 scores of a few `rows` only (binary search in each term's postings, no pass over the corpus)."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros(len(rows), dtype=np.float32)
        seg_of = np.searchsorted(self.offsets, rows, side="right") - 1
        for term in terms:
            idf = self.idf(term)
            for j, (row, i) in enumerate(zip(rows.tolist(), seg_of.tolist(), strict=True)):
                hit = self.segments[i].postings(term)
                if hit is None:
                    continue
                local = row - int(self.offsets[i])
                at = int(np.searchsorted(hit[0], local))
                if at < len(hit[0]) and int(hit[0][at]) == local:
                    tf = float(hit[1][at])
                    out[j] += idf * tf / (tf + self._norm[row])
        return out

    def scores(self, terms: Sequence[str], weight: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every row for `terms` (a term given twice counts twice), times `weight` if given."""
        out = np.zeros(self.n, dtype=np.float32)
        for term in terms:
            idf = self.idf(term)
            for seg, offset in zip(self.segments, self.offsets, strict=False):
                hit = seg.postings(term)
                if hit is None or not len(hit[0]):
                    continue
                rows = hit[0] + offset
                tf = hit[1]
                out[rows] += idf * tf / (tf + self._norm[rows])
        if weight is not None:
            out *= weight
        return out
