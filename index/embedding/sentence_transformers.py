"""sentence-transformers behind the Embedder protocol: torch, or its own OpenVINO backend (needs optimum-intel)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence

import numpy as np

from index.embedding.catalog import BUNDLED, bundled_model_path, family_prompts
from index.embedding.folder import FolderEmbedder
from index.embedding.protocol import encode_in_parts

log = logging.getLogger(__name__)

BACKENDS = ("torch", "openvino")


class SentenceTransformerEmbedder(FolderEmbedder):
    """A sentence-transformers model (lazy, offline-first) behind the Embedder protocol.

    The bundled model is loaded from the installed package's folder, so nothing is downloaded. Models that
    declare "query"/"document" prompts get them through encode_query / encode_document; e5-style models
    that do not get the usual "query: " / "passage: " prefixes unless prompts are given explicitly.
    """

    precision = "fp32"

    def __init__(self, model: str = BUNDLED, *, backend: str = "torch", **options):
        """`options` as FolderEmbedder's (batch size, prompts, threads, max_seq_length, name, weights, prepare)."""
        if backend not in BACKENDS:
            raise ValueError(f"sentence-transformers runs backends {', '.join(BACKENDS)}, not {backend!r}")
        super().__init__(model, **options)
        self.backend = backend

    def _open(self, target: str):
        if target == str(bundled_model_path()):
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        if self._threads:
            torch.set_num_threads(self._threads)
        kwargs = {"device": "cpu"}
        if self.backend != "torch":
            kwargs["backend"] = self.backend
        model = SentenceTransformer(target, **kwargs)
        if self.max_seq_length and (model.max_seq_length or 0) > self.max_seq_length:
            model.max_seq_length = self.max_seq_length
        # A model that declares its prompts gets them from sentence-transformers itself (prompt=None).
        query, document = family_prompts(target, (getattr(model, "prompts", {}) or {}).get("query"))
        self._default_prompts(query, document)
        log.info("loaded embedding model %s (dimension %d)", self.name, model.get_embedding_dimension())
        return model

    @property
    def dimension(self) -> int:
        return int(self._load().get_embedding_dimension())

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = model.encode_query(list(texts), prompt=self._query_prompt, batch_size=self.batch_size,
                                     normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)  # fmt: skip
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_documents(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Encode in parts so a caller can report progress; sentence-transformers batches by length inside."""
        model = self._load()

        def encode(part: Sequence[str]) -> np.ndarray:
            return model.encode_document(list(part), prompt=self._document_prompt, batch_size=self.batch_size,
                                         normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)  # fmt: skip

        return encode_in_parts(encode, texts, self.dimension, self.batch_size * 8, progress)
