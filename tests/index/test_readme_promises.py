"""README promises no other test checked: feeds fetched with bounded concurrency, and NEWSDESK_BACKEND=onnx
(used when ONNX Runtime is installed; when it is not, it says so: never a silent fallback)."""

from __future__ import annotations

import logging
import sys
import threading

import numpy as np
import pytest

from bot.compose import make_engine
from bot.settings import Settings
from index.errors import NewsdeskError
from index.sources.feeds import FetchPolicy, refresh_feeds
from tests.index.sources import test_feeds
from tests.index.sources.test_feeds import serve_local_news, site  # noqa: F401  (the loopback news site fixture)

TEXTS = ["The harbour bridge closes for eleven weeks of repairs.", "Lyon ouvre une piste cyclable sur les quais."]


@pytest.mark.parametrize("concurrency", [1, 2, 4])
def test_feeds_are_fetched_with_bounded_concurrency(site, tmp_path, monkeypatch, concurrency):  # noqa: F811
    rss_url, atom_url = serve_local_news(site)
    for path, res in site.routes.items():
        if path.startswith("/articles/"):
            res.delay = 0.3  # slow pages: requests that may overlap do
    lock, state = threading.Lock(), {"now": 0, "max": 0}
    real_get = test_feeds.Handler.do_GET

    def counting_get(handler):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        try:
            real_get(handler)
        finally:
            with lock:
                state["now"] -= 1

    monkeypatch.setattr(test_feeds.Handler, "do_GET", counting_get)
    policy = FetchPolicy(allow_hosts=("127.0.0.1",), per_host_delay=0.0, concurrency=concurrency)
    statuses = refresh_feeds([rss_url, atom_url], tmp_path / "articles", policy)
    assert [s.status for s in statuses] == ["ok", "ok"] and sum(s.new for s in statuses) == 5
    assert state["max"] == concurrency  # five slow pages: as many at once as allowed, never more


def _backend_onnx(monkeypatch, tmp_path):
    monkeypatch.setenv("NEWSDESK_BACKEND", "onnx")
    monkeypatch.setenv("NEWSDESK_MODEL_CACHE", str(tmp_path / "models"))  # the ONNX export goes here
    return make_engine(Settings(_env_file=None)).embedder


@pytest.mark.slow
def test_onnx_backend_without_onnxruntime_is_never_silent(monkeypatch, tmp_path, caplog):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if not installed: importing it fails
    caplog.set_level(logging.INFO)
    embedder = _backend_onnx(monkeypatch, tmp_path)
    try:
        vectors = embedder.encode_documents(TEXTS)
    except NewsdeskError as exc:  # refused, saying what is missing (a one-line error in the CLI and the bot)
        assert "onnx backend" in str(exc) and "onnxruntime" in str(exc), str(exc)
        return
    # or it answers with another backend, and says so
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("index.")]
    assert any("onnx" in m.lower() for m in warnings), [r.getMessage() for r in caplog.records]
    assert vectors.shape[0] == len(TEXTS)


@pytest.mark.slow
def test_onnx_backend_is_used_when_onnxruntime_is_installed(monkeypatch, tmp_path, caplog, real_embedder):
    pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install -e '.[fast]')")
    pytest.importorskip("onnx", reason="onnx is not installed (pip install -e '.[fast]')")
    caplog.set_level(logging.INFO)
    embedder = _backend_onnx(monkeypatch, tmp_path)
    vectors = embedder.encode_documents(TEXTS)
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("index.")]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("index.")], messages
    assert any("ONNX Runtime" in m for m in messages), messages
    assert list((tmp_path / "models").rglob("*.onnx"))  # exported once, into the model cache
    reference = real_embedder.encode_documents(TEXTS)  # the default backend's vectors of the same model
    cosines = (vectors * reference).sum(axis=1)
    assert vectors.shape == reference.shape and cosines.min() > 0.95, cosines  # int8 or not: close
    q = embedder.encode_queries(["When does the bridge close?"])
    assert int(np.argmax(vectors @ q[0])) == 0
