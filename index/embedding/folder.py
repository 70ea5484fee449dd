"""What the embedders of a model folder share: where the model is, its prompts, loading once under a lock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from index.embedding.catalog import BUNDLED, ModelSource


class FolderEmbedder:
    """Base of the sentence-transformers and ONNX embedders; a subclass opens the model (`_open`) and encodes."""

    backend = ""
    precision = ""

    def __init__(
        self,
        model: str = BUNDLED,
        *,
        batch_size: int = 64,
        query_prompt: str | None = None,
        document_prompt: str | None = None,
        threads: int | None = None,
        max_seq_length: int | None = 256,
        name: str | None = None,
        weights: str | None = None,
        prepare: Callable[[], Path] | None = None,
    ):
        """`name` and `weights` override what the index records (a display name, a weights hash known without
        reading the folder); `prepare` makes the model folder on first use (a conversion) and returns it."""
        self.source = ModelSource.named(model, name, weights, prepare)
        self.name = self.source.name
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self._query_prompt = query_prompt
        self._document_prompt = document_prompt
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                self._model = self._open(self.source.resolve())
        return self._model

    def _open(self, target: str) -> Any:
        raise NotImplementedError

    def _default_prompts(self, query: str | None, document: str | None) -> None:
        """Use these prompts where none was given explicitly."""
        self._query_prompt = self._query_prompt if self._query_prompt is not None else query
        self._document_prompt = self._document_prompt if self._document_prompt is not None else document

    @property
    def model_path(self) -> str:
        """The folder (or hub name) the model loads from; a converted folder is made on the first call."""
        with self._lock:
            return self.source.resolve()

    @property
    def identity(self) -> dict:
        """Model, weights (a content hash for a local folder, empty for a hub name), backend, precision."""
        return self.source.identity(self.backend, self.precision)
