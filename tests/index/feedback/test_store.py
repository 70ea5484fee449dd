"""Issue 15 items 7 and 8: the votes' store beside the index, one vote per member, the admins' summary."""

from __future__ import annotations

import sqlite3

import pytest

from index.feedback import FeedbackStore, feedback_path
from tests.index.feedback.conftest import COST


def test_the_store_lives_beside_the_index_folder_never_inside_it(tmp_path):
    path = feedback_path(tmp_path / "data" / "index")
    assert path.parent == tmp_path / "data" and not str(path).startswith(str(tmp_path / "data" / "index") + "/")


def test_one_vote_per_member_and_answer_a_second_click_changes_it(desk):
    answer_id, _ = desk.ask(COST)
    vote = desk.store.vote
    assert vote(answer_id, guild_id=1, user_id=7, vote="helpful") == "recorded"
    assert vote(answer_id, guild_id=1, user_id=7, vote="helpful") == "same"
    assert vote(answer_id, guild_id=1, user_id=7, vote="outdated") == "changed"
    assert vote(answer_id, guild_id=1, user_id=8, vote="helpful") == "recorded"
    assert vote("0123456789abcdef", guild_id=1, user_id=7, vote="helpful") == "unknown"
    with pytest.raises(ValueError):
        vote(answer_id, guild_id=1, user_id=7, vote="great")
    assert desk.store.summary().votes == {"helpful": 1, "wrong_quote": 0, "outdated": 1}


def test_rows_hold_what_the_issue_lists_and_never_a_member_id(desk):
    answer_id, answer = desk.ask(COST)
    desk.store.vote(answer_id, guild_id=1, user_id=987654321, vote="wrong_quote")
    db = sqlite3.connect(desk.store.path)
    guild, channel, question, lang, model = db.execute(
        "SELECT guild_id, channel_id, question, lang, model FROM answers").fetchone()  # fmt: skip
    assert (guild, channel, question, lang) == (1, 10, COST, "en") and "hashing-test" in model
    key, quote = db.execute("SELECT article_key, quote FROM quotes WHERE rank = 0").fetchone()
    assert key.endswith("harbour.txt") and quote == answer.quotes[0].text
    member, vote, voted_at = db.execute("SELECT member, vote, voted_at FROM votes").fetchone()
    assert vote == "wrong_quote" and voted_at > 0 and len(member) == 64
    db.close()
    assert b"987654321" not in desk.store.path.read_bytes() + desk.store.path.with_name(
        desk.store.path.name + "-wal").read_bytes()  # fmt: skip


def test_the_same_member_in_two_guilds_is_two_members(desk):
    store = desk.store
    assert store.member_key(1, 7) != store.member_key(2, 7) != store.member_key(None, 7)
    other = FeedbackStore(desk.store.path.with_name("other.sqlite"))
    assert other.member_key(1, 7) != store.member_key(1, 7)  # each store draws its own salt
    other.close()


def test_votes_survive_the_store_and_a_reset_in_another_process_reaches_this_one(desk):
    answer_id, _ = desk.ask(COST)
    desk.store.vote(answer_id, guild_id=1, user_id=7, vote="wrong_quote")
    assert desk.engine.feedback.demoted
    cli = FeedbackStore(desk.store.path)  # `newsdesk feedback --reset` while the bot runs
    assert cli.summary().votes["wrong_quote"] == 1
    assert cli.reset() == 1
    cli.close()
    assert desk.engine.feedback.demoted  # not yet: the bot notices at its next remember or vote
    desk.ask("Combien a coûté la piste cyclable de Lyon ?")
    assert not desk.engine.feedback.demoted


def test_the_summary_counts_and_names_the_most_flagged_articles_and_questions(desk):
    day = 86400.0
    cost_id, _ = desk.ask(COST)
    again_id, _ = desk.ask("how much will the harbour bridge repairs cost")
    bike_id, _ = desk.ask("Combien a coûté la piste cyclable de Lyon ?")
    desk.store.vote(cost_id, guild_id=1, user_id=7, vote="wrong_quote", now=1000 * day)
    desk.store.vote(again_id, guild_id=1, user_id=8, vote="outdated", now=1000 * day)
    desk.store.vote(bike_id, guild_id=1, user_id=7, vote="helpful", now=990 * day)
    summary = desk.store.summary(now=1000.5 * day)
    assert summary.votes == {"helpful": 1, "wrong_quote": 1, "outdated": 1} and summary.answers == 3
    assert [(a.label, a.votes["wrong_quote"], a.votes["outdated"]) for a in summary.articles] == [
        ("Harbour bridge closes for repairs", 1, 1)]  # the helpful bike answer is not flagged
    assert [(q.label, q.flags) for q in summary.questions] == [(COST, 2)]  # one question, asked twice
    recent = desk.store.summary(since_days=2, now=1000.5 * day)
    assert recent.votes["helpful"] == 0 and recent.answers == 2
    assert summary.to_dict()["articles"][0]["label"] == "Harbour bridge closes for repairs"


def test_remembering_needs_the_index(desk):
    store = FeedbackStore(desk.store.path)
    _, answer = desk.ask(COST)
    with pytest.raises(ValueError, match="index"):
        store.remember("ffffffffffffffff", guild_id=1, channel_id=2, answer=answer, model="m", question_vector=None)
    store.close()
