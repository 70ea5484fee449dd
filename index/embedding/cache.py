"""CachedEmbedder: another embedder behind the same protocol, each text encoded once (evaluation, benchmarks)."""

from __future__ import annotations

import time
from collections.abc import Callable, MutableMapping, Sequence

import numpy as np

from index.embedding.protocol import Embedder, identity_of

Vectors = MutableMapping[str, np.ndarray]


class CachedEmbedder:
    """`inner`'s vectors with its name, dimension and identity (an index records it, the engine tunes by it).

    `queries` and `documents` map a text to its vector: a dict kept in memory, a caller's on-disk store, or
    None to pass every call through. Texts found there are not encoded again; the others are encoded by
    `inner` (once each, in order) and added to it, unless `remember` is false (a store only read from).
    `embedded` and `embed_seconds` count the documents `inner` really encoded, and the time it took.
    """

    def __init__(self, inner: Embedder, *, queries: Vectors | None = None, documents: Vectors | None = None,
                 remember: bool = True):  # fmt: skip
        self.inner = inner
        self.name = inner.name
        self.queries = queries
        self.documents = documents
        self.remember = remember
        self.embedded = 0
        self.embed_seconds = 0.0

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def identity(self) -> dict:
        return identity_of(self.inner)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if self.queries is None:
            return self.inner.encode_queries(texts)
        return self._lookup(texts, self.queries, self.inner.encode_queries)

    def encode_documents(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        if self.documents is None:
            return self._embed(texts, progress)
        out = self._lookup(texts, self.documents, self._embed)
        if progress:
            progress(len(texts))
        return out

    def _embed(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        started = time.perf_counter()
        vectors = self.inner.encode_documents(texts, progress)
        self.embed_seconds += time.perf_counter() - started
        self.embedded += len(texts)
        return vectors

    def _lookup(
        self, texts: Sequence[str], store: Vectors, encode: Callable[[list[str]], np.ndarray]
    ) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in store]
        fresh = dict(zip(missing, encode(missing), strict=True)) if missing else {}
        if self.remember:
            store.update(fresh)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack([fresh[t] if t in fresh else store[t] for t in texts]).astype(np.float32)
