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


def encode_with_sentences(embedder: Embedder, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                          *, whole: bool = True) -> tuple[np.ndarray | None, list[np.ndarray]]:  # fmt: skip
    """The vectors of `texts` (None unless `whole`) and, per text, of its sentences, in one encode_documents call.

    `spans[i]` are the (start, end) offsets of the sentences of `texts[i]` in it. A sentence's vector is the
    sentence embedded as a document of its own, as the passages are: measured against pooling the passage's own
    token states over the sentence ("late chunking", free at index time), which chose the sentence holding
    the answer 7 points less often on piaf.dev and 20 less across languages (issue 13). A text met twice (the
    sentence two overlapping passages share, a one-sentence passage) is embedded once.
    """
    sentences = [t[a:b] for t, sp in zip(texts, spans, strict=True) for a, b in sp]
    unique = list(dict.fromkeys([*(texts if whole else ()), *sentences]))
    at = {t: i for i, t in enumerate(unique)}
    if unique:
        vectors = np.asarray(embedder.encode_documents(unique), dtype=np.float32)
    else:
        vectors = np.zeros((0, embedder.dimension), dtype=np.float32)
    out: list[np.ndarray] = []
    i = 0
    for sp in spans:
        out.append(vectors[[at[s] for s in sentences[i : i + len(sp)]]].reshape(len(sp), vectors.shape[1]))
        i += len(sp)
    return (vectors[[at[t] for t in texts]].reshape(len(texts), vectors.shape[1]) if whole else None), out
