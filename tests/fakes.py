"""A tiny deterministic embedder for tests that exercise search logic without the real model."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import ClassVar

import numpy as np

from index.text.normalize import fold


class HashingEmbedder:
    """Bag of hashed words, L2-normalized: texts sharing words get similar vectors. Deterministic, fast."""

    def __init__(self, dimension: int = 64, name: str = "hashing-test"):
        self.name = name
        self.dimension = dimension
        self.calls = 0
        self.documents_encoded = 0

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dimension, dtype=np.float32)
        for word in fold(text).split():
            w = "".join(c for c in word if c.isalnum())
            if len(w) < 3:
                continue
            h = int.from_bytes(hashlib.blake2b(w[:6].encode(), digest_size=8).digest(), "little")
            v[h % self.dimension] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def _rows(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([self._vec(t) for t in texts], dtype=np.float32).reshape(len(texts), self.dimension)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        return self._rows(texts)

    def encode_documents(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        self.calls += 1
        self.documents_encoded += len(texts)
        if progress:
            progress(len(texts))
        return self._rows(texts)


class BilingualEmbedder(HashingEmbedder):
    """HashingEmbedder that reads French words through a tiny dictionary: a stand-in for a multilingual model,
    whose vectors put a sentence and its translation close together. Deterministic, fast."""

    WORDS: ClassVar[dict[str, str]] = {"pont": "bridge", "travaux": "repairs", "coute": "cost", "coutera": "cost", "couteront": "cost", "cout": "cost",
             "reparations": "repairs", "millions": "million", "ferme": "closes", "semaines": "weeks",
             "piste": "lane", "cyclable": "bike", "velo": "bike", "quais": "riverside", "ouvre": "opens",
             "ingenieurs": "engineers", "remplaceront": "replace", "cables": "cables", "acier": "steel"}  # fmt: skip

    def __init__(self, dimension: int = 256, name: str = "bilingual-test"):
        super().__init__(dimension, name)

    def _vec(self, text: str) -> np.ndarray:
        words = []
        for word in fold(text).split():
            w = "".join(c for c in word if c.isalnum())
            words.append(self.WORDS.get(w, w))
        return super()._vec(" ".join(words))
