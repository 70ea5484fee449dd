"""What the answer stages need from an index version: passage and article ids in and out, no row arrays.

`index/store/snapshot.py` `Snapshot` is the implementation that ships (SQLite + FAISS + BM25 postings in files);
a store on a database server would implement the same methods. The stages in index/answer/ and the facade in
index/engine.py use nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

import numpy as np

from index.records import ArticleRef, IndexStats, Passage


class Terms(Protocol):
    """The corpus' term statistics as BM25 sees them."""

    def __contains__(self, term: str) -> bool: ...

    def idf(self, term: str) -> float: ...


class Store(Protocol):
    """One read-only version of the index."""

    articles: Mapping[int, ArticleRef]

    @property
    def size(self) -> int: ...

    def select(self, articles: Iterable[int] | None = None, exclude: Iterable[int] = ()) -> object | None:
        """An opaque selection of passages (None: every live passage) for `dense` and `lexical`."""

    def dense(self, qvec: np.ndarray, k: int, within: object | None = None) -> dict[int, float]: ...

    def similarity(self, qvec: np.ndarray, pids: Sequence[int]) -> dict[int, float]: ...

    def lexical(self, terms: Sequence[str], k: int, within: object | None = None, *, k1: float, b: float,
                also: Sequence[int] = ()) -> dict[int, float]: ...  # fmt: skip

    def lexical_scores(self, terms: Sequence[str], pids: Sequence[int], *, k1: float, b: float) -> dict[int, float]: ...

    def terms(self, k1: float, b: float) -> Terms: ...

    def article_of(self, pids: Iterable[int]) -> dict[int, int]: ...

    def passages(self, ids: Iterable[int]) -> dict[int, Passage]: ...

    def sentence_vectors(self, pids: Iterable[int]) -> dict[int, np.ndarray]:
        """Passage id -> its sentences' vectors computed when it was indexed (one row per sentence of
        `Passage.sentences`, in order), for those of `pids` the store holds them of; the others are absent."""

    def article_text(self, article_id: int) -> str: ...

    def keys(self) -> dict[str, int]:
        """Article key -> id, for the live articles."""

    def versions(self) -> dict[str, tuple[str, int]]:
        """Article key -> (content hash, id), for the live articles."""

    def stats(self) -> IndexStats: ...
