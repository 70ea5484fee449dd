"""Issue 15 items 8 and 9 at the command line: `newsdesk feedback` (counts, --json, --export read back by
`newsdesk eval`, --reset) and what bot/compose.py gives the engine (NEWSDESK_FEEDBACK_EFFECTS)."""

from __future__ import annotations

import json
import os

import pytest

from bot import cli, compose
from bot.settings import Settings
from index.engine import Engine
from index.evaluation import read_jsonl
from index.feedback import feedback_path
from tests.bot.cli.test_cli_hardening import newsdesk
from tests.fakes import HashingEmbedder
from tests.index.feedback.conftest import COST, Desk

BIKE = "Combien a coûté la piste cyclable de Lyon ?"


@pytest.fixture(autouse=True)
def fast_cli(monkeypatch, tmp_path):
    """The CLI with the hashing embedder, no .env and no NEWSDESK_* variable from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("NEWSDESK_") or name == "DISCORD_TOKEN":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(compose, "_engine", lambda settings: Engine(settings.index_dir, HashingEmbedder(),
                                                                    compose.search_config(settings)))  # fmt: skip


@pytest.fixture
def voted(tmp_path):
    """Three answers the bot sent and the votes on them: the cost one is a wrong quote, the bike one helpful."""
    desk = Desk(tmp_path)
    cost, _ = desk.ask(COST)
    bike, _ = desk.ask(BIKE)
    desk.store.vote(cost, guild_id=1, user_id=7, vote="wrong_quote")
    desk.store.vote(cost, guild_id=1, user_id=8, vote="outdated")
    desk.store.vote(bike, guild_id=1, user_id=7, vote="helpful")
    desk.store.close()
    return tmp_path / "index"


def test_the_summary_names_the_counts_and_the_most_flagged(capsys, monkeypatch, voted):
    rc, out, _ = newsdesk(capsys, monkeypatch, "feedback", "--index", str(voted))
    assert rc == 0
    assert "3 votes on 2 answers: helpful 1 · wrong quote 1 · outdated 1" in out
    assert "Most flagged articles:\n  2 flags" in out and "Harbour bridge closes for repairs" in out
    assert f"“{COST}” (en)" in out and BIKE not in out

    rc, out, _ = newsdesk(capsys, monkeypatch, "feedback", "--index", str(voted), "--json", "--since", "7")
    data = json.loads(out)
    assert data["votes"] == {"helpful": 1, "wrong_quote": 1, "outdated": 1} and data["since_days"] == 7
    assert data["articles"][0]["label"] == "Harbour bridge closes for repairs"


def test_without_votes_nothing_is_created(capsys, monkeypatch, tmp_path):
    rc, out, _ = newsdesk(capsys, monkeypatch, "feedback", "--index", str(tmp_path / "index"))
    assert (rc, out.strip()) == (0, "No feedback yet.")
    assert not feedback_path(tmp_path / "index").exists()
    rc, _, err = newsdesk(capsys, monkeypatch, "feedback", "--index", str(tmp_path / "index"), "--export", "x.jsonl")
    assert rc == 1 and "nothing to export" in err


def test_the_export_is_read_back_by_newsdesk_eval(capsys, monkeypatch, voted, tmp_path):
    questions = tmp_path / "fb.jsonl"
    rc, out, _ = newsdesk(capsys, monkeypatch, "feedback", "--index", str(voted), "--export", str(questions))
    passages = tmp_path / "fb.passages.jsonl"
    assert rc == 0 and f"--passages {passages} --questions {questions}" in out
    rows = {r["question"]: r for r in read_jsonl(questions)}
    helpful, wrong = rows[BIKE], rows[COST]
    assert helpful["is_impossible"] is False and helpful["answers"] and helpful["passage_id"].startswith("fb-")
    assert wrong["passage_id"] is None and wrong["negative_passage_id"] and wrong["answers"] == []
    texts = {p["id"]: p["text"] for p in read_jsonl(passages)}
    start = helpful["answer_starts"][0]
    assert texts[helpful["passage_id"]][start:].startswith(helpful["answers"][0])  # the schema's offsets

    rc, out, err = newsdesk(capsys, monkeypatch, "eval", "--passages", str(passages), "--questions", str(questions),
                            "--json")  # fmt: skip
    assert rc == 0, err
    report = json.loads(out)
    assert (report["questions"], report["answerable"]) == (2, 1)
    assert report["quote"]["hit@1"] == 1.0  # the helpful quote is found again
    assert report["wrong_quotes"] == {"questions": 1, "quoted_first": 1.0}  # the eval index has no feedback
    rc, out, _ = newsdesk(capsys, monkeypatch, "eval", "--passages", str(passages), "--questions", str(questions))
    assert rc == 0 and "wrong quotes readers flagged: 1.000 of 1 still quoted first" in out


def test_reset_turns_the_effects_off_and_keeps_the_votes(capsys, monkeypatch, voted):
    settings = Settings(_env_file=None, index_dir=voted)
    assert compose.make_engine(settings).feedback.demoted
    rc, out, _ = newsdesk(capsys, monkeypatch, "feedback", "--index", str(voted), "--reset")
    assert rc == 0 and "3 votes no longer change answers" in out
    assert compose.make_engine(settings).feedback.empty
    _, out, _ = newsdesk(capsys, monkeypatch, "feedback", "--index", str(voted), "--json")
    assert json.loads(out)["votes"]["wrong_quote"] == 1 and json.loads(out)["effects_since"]


def test_the_setting_turns_the_effects_off(monkeypatch, voted):
    on = compose.make_engine(Settings(_env_file=None, index_dir=voted))
    monkeypatch.setenv("NEWSDESK_FEEDBACK_EFFECTS", "false")
    off = Settings(_env_file=None, index_dir=voted)
    assert on.feedback.demoted and compose.make_engine(off).feedback is None
    engine = compose.make_engine(off)
    store = compose.feedback_store(off, engine)  # the bot's store: still records, changes nothing
    assert engine.feedback is None
    store.close()


def test_the_bots_store_refreshes_the_engine_when_a_vote_changes_the_effects(voted):
    engine = compose.make_engine(Settings(_env_file=None, index_dir=voted))
    assert not engine.feedback.outdated  # one member's vote, and three are needed by default
    settings = Settings(_env_file=None, index_dir=voted, feedback_outdated_votes=1)
    store = compose.feedback_store(settings, engine)
    assert engine.feedback.outdated  # read again with this process's settings
    answer = engine.ask(BIKE)
    store.remember("00000000000000aa", guild_id=1, channel_id=2, answer=answer, model="m", question_vector=None)
    store.vote("00000000000000aa", guild_id=1, user_id=9, vote="wrong_quote")
    assert len(engine.feedback.demoted) == 2  # the new vote counts at once
    store.close()


def test_feedback_is_a_command_of_the_cli():
    assert "feedback" in cli.COMMANDS
