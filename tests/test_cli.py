"""The `newsdesk` command line, run as a user runs it: a subprocess with the real bundled model."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SAMPLES

pytestmark = pytest.mark.slow


def newsdesk(*args, env=None, input=None, cwd=None):
    e = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    e.pop("DISCORD_TOKEN", None)
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, env=e,
                          input=input, cwd=cwd or ROOT, timeout=600)  # fmt: skip


def folders() -> list[str]:
    out = ["--articles", str(SAMPLES)]
    seed = ROOT.parent / "shared" / "seed"
    if seed.is_dir():  # the reference article, when ../shared is there
        out += ["--articles", str(seed)]
    return out


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    idx = tmp_path_factory.mktemp("cli") / "index"
    r = newsdesk("reindex", "--index", str(idx), *folders(), "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["failed"] == [] and summary["added"] == summary["articles"] >= 12
    assert summary["passages_embedded"] == summary["passages"]
    return idx


def test_second_reindex_embeds_nothing(index):
    r = newsdesk("reindex", "--index", str(index), *folders(), "--json")
    summary = json.loads(r.stdout)
    assert r.returncode == 0 and summary["passages_embedded"] == 0 and summary["added"] == 0


def test_ask_json_quotes_with_sources(index):
    r = newsdesk("ask", "Combien Microsoft a-t-il investi dans OpenAI ?", "--index", str(index), "--json")
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    assert answer["answered"] is True
    top = answer["quotes"][0]
    assert "OpenAI" in top["article"]["title"] or "OpenAI" in top["text"] or "Microsoft" in top["text"]
    assert top["article"]["date"].startswith("2025-05")
    assert "milliard" in " ".join(q["text"] for q in answer["quotes"][:2])
    assert set(top) == {"text", "highlighted", "score", "passage_id", "article"}
    assert set(top["article"]) == {"id", "title", "date", "url", "path", "source", "lang"}


def test_off_topic_is_not_answered(index):
    r = newsdesk("ask", "What is the recipe for a lemon tart?", "--index", str(index), "--json")
    answer = json.loads(r.stdout)
    assert answer["answered"] is False and answer["quotes"] == [] and answer["related"]


def test_questions_from_stdin_one_json_line_each(index):
    r = newsdesk("ask", "-", "--index", str(index), "--json", input="Who won Euro 2024?\n\nQuand a décollé Ariane 6 ?\n")
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert r.returncode == 0 and [x["question"] for x in lines] == ["Who won Euro 2024?", "Quand a décollé Ariane 6 ?"]


def test_search_and_stats(index):
    r = newsdesk("search", "Notre-Dame", "--index", str(index), "--json", "-k", "2")
    hits = json.loads(r.stdout)
    assert len(hits) == 2 and "Notre-Dame" in hits[0]["article"]["title"]
    stats = json.loads(newsdesk("stats", "--index", str(index), "--json").stdout)
    assert stats["articles"] >= 12 and {"fr", "en"} <= set(stats["languages"]) and stats["size_bytes"] > 0
    assert "bundled" in stats["model"]


def test_errors_are_one_line_with_exit_codes(tmp_path):
    r = newsdesk("ask", "anything?", "--index", str(tmp_path / "none"))
    assert r.returncode == 1 and r.stderr.strip().count("\n") == 0 and "newsdesk reindex" in r.stderr
    assert newsdesk("ask").returncode == 2  # usage error
    assert newsdesk("ask", "x", "--since", "soon").returncode == 2
    r = newsdesk("ask", "   ", "--index", str(tmp_path / "none"))
    assert r.returncode == 1


def test_run_without_token_explains_how(tmp_path):
    r = newsdesk("run", cwd=tmp_path)
    assert r.returncode == 1
    assert "DISCORD_TOKEN" in r.stderr and "newsdesk chat" in r.stderr and r.stderr.strip().count("\n") == 0


def test_chat_indexes_the_samples_on_first_start(tmp_path):
    r = newsdesk("chat", "--index", str(tmp_path / "idx"), "--articles", str(SAMPLES),
                 input="Where did Blue Ghost land on the Moon?\n\n")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "first start" in r.stdout and "Blue Ghost" in r.stdout
