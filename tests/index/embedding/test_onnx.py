"""index/embedding/onnx.py: when the int8 ONNX backend cannot run it raises EmbedderUnavailable, every time,
and never answers with torch instead (an index records the backend that wrote it)."""

from __future__ import annotations

import sys

import pytest

from index.embedding import OnnxEmbedder, bundled_model_path, identity_of
from index.embedding import onnx as onnx_backend
from index.errors import EmbedderUnavailable


def refuses(embedder: OnnxEmbedder, reason: str) -> None:
    for attempt in (embedder.encode_documents, embedder.encode_queries):  # the second call fails as the first
        with pytest.raises(EmbedderUnavailable) as exc:
            attempt(["The harbour bridge closes."])
        assert (exc.value.backend, exc.value.model) == ("onnx", embedder.name)
        assert reason in exc.value.reason


def test_without_onnxruntime(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if not installed: importing it fails
    refuses(OnnxEmbedder("bundled"), "onnxruntime")


def test_a_folder_it_cannot_export(tmp_path):
    pytest.importorskip("onnxruntime")
    (tmp_path / "model.safetensors").write_bytes(b"not a model")
    refuses(OnnxEmbedder(str(tmp_path)), "BERT-style models")


def test_a_failed_export(monkeypatch, tmp_path):
    pytest.importorskip("onnxruntime")

    def fail(folder, cache_root):
        raise RuntimeError("disk full")

    monkeypatch.setattr(onnx_backend, "export_onnx_int8", fail)
    embedder = OnnxEmbedder("bundled", cache_dir=tmp_path)
    refuses(embedder, "the export failed (RuntimeError: disk full)")
    assert identity_of(embedder)["backend"] == "onnx"  # what it claims to be stays what was asked for
    assert not list(tmp_path.iterdir())


def test_the_bundled_folder_is_one_it_can_export():
    assert onnx_backend._onnx_supported(bundled_model_path())
