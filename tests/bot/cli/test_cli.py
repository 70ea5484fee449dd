"""The `newsdesk` command line, run as a user runs it: a subprocess with the real bundled model."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES, require_shared

pytestmark = pytest.mark.slow


def newsdesk(*args, env=None, input=None, cwd=None):
    e = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    e.pop("DISCORD_TOKEN", None)
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, env=e,
                          input=input, cwd=cwd or ROOT, timeout=600)  # fmt: skip


SEED = ROOT.parent / "shared" / "seed"  # the reference article, beside the repository (CI has it)
OPENAI_SAMPLE_URL = "https://example-news.test/tech/2025/05/12/openai-microsoft-renegociation"


def folders() -> list[str]:
    """The samples, and the seed folder when ../shared is there: test_the_seed_article_is_indexed says
    (skipped with its reason, or failed under CI) when it is not."""
    out = ["--articles", str(SAMPLES)]
    if SEED.is_dir():
        out += ["--articles", str(SEED)]
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


@pytest.mark.xfail(not SEED.is_dir(), strict=True, reason="known wrong answer without ../shared/seed: from the sample "
                   "alone the first quote is its lead and the next two sentences, down to the 1 billion of the first "
                   "cheque; the sentence with the 13 billion (it says 'l'éditeur de Windows', not 'Microsoft') scores "
                   "0.72 against the lead's 0.92 on words, the number cue (the lead's '2019') and cosine alike")
def test_ask_json_quotes_with_sources(index):
    r = newsdesk("ask", "Combien Microsoft a-t-il investi dans OpenAI ?", "--index", str(index), "--json")
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    assert answer["answered"] is True
    top = answer["quotes"][0]
    # The answer is the sum Microsoft put in, quoted from one of the two OpenAI/Microsoft articles: the
    # sample (by its URL) or the seed (a .txt without URL, by its path), verbatim from that file.
    assert "13 milliards" in top["text"] and "Microsoft" in top["text"], top["text"]
    article = top["article"]
    if article["url"] is not None:
        assert article["url"] == OPENAI_SAMPLE_URL and article["title"].startswith("OpenAI et Microsoft")
    else:
        assert article["path"] == str((SEED / "openai-microsoft-2025-05.txt").resolve()), article
    assert article["date"].startswith("2025-05")
    source_text = " ".join(Path(article["path"]).read_text(encoding="utf-8").split())
    assert " ".join(top["text"].split()) in source_text
    assert set(top) == {"text", "highlighted", "score", "passage_id", "article"}
    assert set(top["article"]) == {"id", "title", "date", "url", "path", "source", "lang"}


def test_off_topic_is_not_answered(index):
    r = newsdesk("ask", "What is the recipe for a lemon tart?", "--index", str(index), "--json")
    answer = json.loads(r.stdout)
    assert answer["answered"] is False and answer["quotes"] == [] and answer["related"]


def test_questions_from_stdin_one_json_line_each(index):
    questions = ["Which team won the European Championship final in Berlin?", "Quand a décollé Ariane 6 ?"]
    r = newsdesk("ask", "-", "--index", str(index), "--json", input=f"{questions[0]}\n\n{questions[1]}\n")
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert r.returncode == 0 and [x["question"] for x in lines] == questions  # the blank line is skipped
    assert all(x["answered"] for x in lines), [(x["question"], x["related"]) for x in lines]
    euro, ariane = (x["quotes"][0] for x in lines)
    assert "Spain won the European Championship" in euro["text"] and "England 2-1" in euro["text"]
    assert euro["article"]["url"] == "https://example-news.test/sport/2024/07/15/euro-2024-final-spain-beat-england"
    assert "9 juillet 2024" in ariane["text"] and "décollé" in ariane["text"]
    assert ariane["article"]["url"] == "https://example-news.test/espace/2024/07/10/ariane-6-vol-inaugural"


def test_search_and_stats(index):
    r = newsdesk("search", "Notre-Dame", "--index", str(index), "--json", "-k", "2")
    hits = json.loads(r.stdout)
    assert len(hits) == 2 and "Notre-Dame" in hits[0]["article"]["title"]
    stats = json.loads(newsdesk("stats", "--index", str(index), "--json").stdout)
    assert stats["articles"] >= 12 and {"fr", "en"} <= set(stats["languages"]) and stats["size_bytes"] > 0
    assert stats["model"] == "multilingual-e5-small"


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
    assert "first start" in r.stdout
    out = " ".join(r.stdout.split())  # the chat wraps quotes at 100 columns
    # An answer (not "do not answer" with Blue Ghost among the related reading): the quote, numbered, under
    # its source line (title, date, source, link).
    assert "do not answer" not in out
    assert ("[1] Firefly's Blue Ghost lander touches down on the Moon · 2025-03-02 · Example Science Wire "
            "https://example-news.test/space/2025/03/02/blue-ghost-lands-mare-crisium") in out
    assert "Blue Ghost lander touched down on the Moon on Sunday, 2 March 2025" in out.replace("**", "")


def test_the_seed_article_is_indexed(index):
    seed = require_shared("seed")  # skipped with its reason (failed under CI) when ../shared is absent
    r = newsdesk("search", "Microsoft avait investi un milliard pour soutenir cette petite pépite",
                 "--index", str(index), "--json", "-k", "1")  # fmt: skip
    [hit] = json.loads(r.stdout)
    assert hit["article"]["path"] == str((seed / "openai-microsoft-2025-05.txt").resolve())
    assert hit["article"]["date"] == "2025-05" and hit["article"]["url"] is None  # from its "date 2025-05" line
