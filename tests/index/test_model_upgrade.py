"""The default model changed (all-MiniLM-L6-v2 -> multilingual-e5-small): indexes record their embedder, an
existing index keeps being served by the model that wrote it, and `reindex --force` moves it to the default."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bot.compose import make_engine
from bot.settings import Settings
from index.embedding import DEFAULT_MODEL, identity_of, make_embedder
from index.engine import Engine
from index.errors import ModelMismatch
from index.store.folder import IndexDir

pytestmark = pytest.mark.slow


def _settings(index: Path, articles: Path, **values) -> Settings:
    return Settings(_env_file=None, index_dir=index, articles_dir=[articles], **values)


def _as_previous_release(index: Path) -> None:
    """Strip what this release added to the manifest: the previous one recorded the model's name only."""
    manifest = IndexDir(index).current_path() / "manifest.json"
    data = json.loads(manifest.read_text())
    data.pop("embedder", None)
    manifest.write_text(json.dumps(data))


def test_index_records_its_embedder(tmp_path, articles_dir, real_embedder):
    engine = Engine(tmp_path / "index", real_embedder)
    engine.reindex([articles_dir])
    recorded = IndexDir(tmp_path / "index").manifest().embedder
    assert recorded == identity_of(real_embedder)
    assert recorded["model"] == DEFAULT_MODEL and recorded["backend"] and len(recorded["weights"]) == 16


def test_an_older_minilm_index_is_served_by_minilm_until_forced(tmp_path, articles_dir, minilm_embedder, caplog):
    index = tmp_path / "index"
    Engine(index, minilm_embedder).reindex([articles_dir])
    _as_previous_release(index)

    engine = make_engine(_settings(index, articles_dir))
    assert engine.embedder.name == minilm_embedder.name  # not the new default: no reindex needed to answer
    answer = engine.ask("How much will the harbour bridge repairs cost?")
    assert answer.answered and "42 million euros" in answer.quotes[0].text
    stats = engine.stats()
    assert stats.model == minilm_embedder.name and stats.upgrade == DEFAULT_MODEL

    engine.reindex([articles_dir], force=True)
    assert engine.embedder.name == DEFAULT_MODEL
    assert IndexDir(index).manifest().embedder["model"] == DEFAULT_MODEL
    assert engine.stats().upgrade is None
    answer = engine.ask("How much will the harbour bridge repairs cost?")
    assert answer.answered and "42 million euros" in answer.quotes[0].text
    # A new process picks the model from the index it finds: the default now.
    assert make_engine(_settings(index, articles_dir)).embedder.name == DEFAULT_MODEL


def test_another_embedder_is_refused_with_the_fix(tmp_path, articles_dir, real_embedder, minilm_embedder):
    index = tmp_path / "index"
    Engine(index, real_embedder).reindex([articles_dir])
    with pytest.raises(ModelMismatch, match="configured embedder") as caught:  # the fix: tests/bot/i18n
        Engine(index, minilm_embedder).ask("How much will the harbour bridge repairs cost?")
    assert DEFAULT_MODEL in str(caught.value)
    # The configured model wins over the index's: the operator asked for it.
    engine = make_engine(_settings(index, articles_dir, model="bundled"))
    with pytest.raises(ModelMismatch):
        engine.ask("How much will the harbour bridge repairs cost?")


def test_same_model_other_backend_is_another_embedder():
    assert identity_of(make_embedder()) != identity_of(make_embedder("bundled"))
    torch = identity_of(make_embedder("bundled", "torch"))
    onnx = identity_of(make_embedder("bundled", "onnx"))
    assert torch["model"] == onnx["model"] and torch["weights"] == onnx["weights"]
    assert (torch["backend"], torch["precision"]) != (onnx["backend"], onnx["precision"])


def test_unknown_model_gets_the_default_profile_and_a_warning(caplog):
    from index.tuning import DEFAULT, profile_for

    with caplog.at_level(logging.WARNING, logger="index.tuning"):
        assert profile_for({"model": "someone/else-model"}) is DEFAULT
    assert "no tuned profile for model someone/else-model" in caplog.text
