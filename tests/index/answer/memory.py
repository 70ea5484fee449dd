"""A Store (index/store/base.py) held in memory: fixed vectors and plain term counts, for the stage tests."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from index.lang.analyzer import analyze
from index.records import ArticleRef, IndexStats, Passage
from index.text.chunking import split_sentences


@dataclass(frozen=True)
class Doc:
    """One article of one passage: its text, its vector, and what a reader sees of it."""

    id: int
    text: str
    vector: Sequence[float]
    title: str = ""
    lang: str = "en"
    date: str | None = None
    source: str | None = None


class Counts:
    """Term statistics: `t in counts`, `counts.idf(t)`."""

    def __init__(self, docs: Sequence[list[str]]):
        self.n = len(docs)
        self.df: dict[str, int] = {}
        for terms in docs:
            for t in set(terms):
                self.df[t] = self.df.get(t, 0) + 1

    def __contains__(self, term: str) -> bool:
        return term in self.df

    def idf(self, term: str) -> float:
        return math.log(1 + self.n / (self.df.get(term, 0) + 0.5))


class MemoryStore:
    """Passage id = article id * 10; lexical score = the idf of each query term the passage holds, per use."""

    def __init__(self, docs: Sequence[Doc]):
        self.docs = {d.id * 10: d for d in docs}
        self.articles = {d.id: ArticleRef(d.id, d.title or f"article {d.id}", d.date, None, None, d.source, d.lang)
                         for d in docs}  # fmt: skip
        self._terms = {pid: analyze(f"{d.title}\n{d.text}", d.lang) for pid, d in self.docs.items()}
        self.counts = Counts(list(self._terms.values()))
        self.calls: list[tuple] = []  # (method, k1, b) of every lexical read: which BM25 a stage asked for

    @property
    def size(self) -> int:
        return len(self.docs)

    def select(self, articles: Iterable[int] | None = None, exclude: Iterable[int] = ()) -> frozenset[int] | None:
        allowed = set(self.articles) if articles is None else set(articles)
        if articles is None and not exclude:
            return None
        return frozenset(pid for pid, d in self.docs.items() if d.id in allowed - set(exclude))

    def _within(self, within) -> list[int]:
        return [p for p in self.docs if within is None or p in within]

    def dense(self, qvec: np.ndarray, k: int, within=None) -> dict[int, float]:
        scores = self.similarity(qvec, self._within(within))
        return dict(sorted(scores.items(), key=lambda kv: -kv[1])[:k])

    def similarity(self, qvec: np.ndarray, pids: Sequence[int]) -> dict[int, float]:
        return {p: float(np.dot(np.asarray(self.docs[p].vector, dtype=np.float32), qvec[0])) for p in pids}

    def _score(self, terms: Sequence[str], pid: int) -> float:
        return sum(self.counts.idf(t) for t in terms if t in self._terms[pid])

    def lexical(self, terms, k, within=None, *, k1, b, also=()) -> dict[int, float]:
        self.calls.append(("lexical", k1, b))
        scores = {p: self._score(terms, p) for p in self._within(within)}
        best = {p: s for p, s in sorted(scores.items(), key=lambda kv: -kv[1])[:k] if s > 0}
        return {**best, **{p: scores.get(p, 0.0) for p in also if p not in best}}

    def lexical_scores(self, terms, pids, *, k1, b) -> dict[int, float]:
        self.calls.append(("lexical_scores", k1, b))
        return {p: self._score(terms, p) for p in pids}

    def terms(self, k1: float, b: float) -> Counts:
        self.calls.append(("terms", k1, b))
        return self.counts

    def article_of(self, pids: Iterable[int]) -> dict[int, int]:
        return {p: self.docs[p].id for p in pids if p in self.docs}

    def passages(self, ids: Iterable[int]) -> dict[int, Passage]:
        out = {}
        for pid in ids:
            d = self.docs.get(pid)
            if d is not None:
                out[pid] = Passage(pid, d.id, 0, 0, len(d.text), d.text, tuple(split_sentences(d.text)), d.lang)
        return out

    def sentence_vectors(self, pids: Iterable[int]) -> dict[int, np.ndarray]:
        return {}  # none computed at index time: sentences are embedded at question time

    def article_text(self, article_id: int) -> str:
        return self.docs[article_id * 10].text

    def stats(self) -> IndexStats:
        return IndexStats(len(self.articles), len(self.docs), {}, "memory", 2, "flat", None, 0)
