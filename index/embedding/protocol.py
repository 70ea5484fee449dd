"""The Embedder protocol every backend implements, and the identity an index records of the one that wrote it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Turns text into L2-normalized float32 vectors; queries and documents may be encoded differently.

    `identity` (optional: see identity_of) names what makes two embedders' vectors interchangeable:
    {"model", "weights", "backend", "precision"}. An index records it and is only served by the same one.
    """

    name: str
    dimension: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_documents(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray: ...


def identity_of(embedder) -> dict:
    """The embedder's identity; {"model": name} for an embedder that declares none (test fakes)."""
    ident = getattr(embedder, "identity", None)
    return dict(ident) if ident else {"model": embedder.name}


def encode_in_parts(encode: Callable[[Sequence[str]], np.ndarray], texts: Sequence[str], dimension: int, size: int,
                    progress: Callable[[int], None] | None = None) -> np.ndarray:  # fmt: skip
    """Encode `texts` `size` at a time, reporting each part to `progress` (a cancelled reindex stops within one)."""
    out = np.zeros((len(texts), dimension), dtype=np.float32)
    for i in range(0, len(texts), size):
        part = texts[i : i + size]
        out[i : i + len(part)] = encode(part)
        if progress:
            progress(len(part))
    return out
