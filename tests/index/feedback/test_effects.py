"""Issue 15 item 9: votes change the next answers, and a reset (or no effects) gives the old answers back.

A real Engine over a tmp index with the hashing embedder; the threshold of "near-identical" with the real
models is measured in test_same_question.py.
"""

from __future__ import annotations

from index.feedback import FeedbackEffects
from tests.index.feedback.conftest import COST

NEAR = "How much will the harbour bridge repairs cost in total?"  # one word more: cosine 0.94 here
OTHER = "How long will the harbour bridge close?"  # another question the same passage answers first
CLOSES, REOPENS = "Harbour bridge closes for repairs", "Harbour bridge reopens after its repairs"


def test_a_wrong_quote_is_not_quoted_first_again_for_that_question_and_a_near_identical_one(desk):
    answer_id, answer = desk.ask(COST)
    flagged = answer.quotes[0].passage_id
    assert desk.first(COST) == desk.first(NEAR) == desk.first(OTHER) == (flagged, CLOSES)

    assert desk.store.vote(answer_id, guild_id=1, user_id=7, vote="wrong_quote") == "recorded"

    for question in (COST, NEAR):
        again = desk.engine.ask(question)
        assert flagged not in [q.passage_id for q in again.quotes]  # not the first quote, nor a later one
        assert again.quotes and again.quotes[0].article.title == REOPENS
    assert desk.first(OTHER) == (flagged, CLOSES)  # another question still gets it first


def test_a_reset_gives_the_demoted_passage_back(desk):
    answer_id, answer = desk.ask(COST)
    flagged = answer.quotes[0].passage_id
    desk.store.vote(answer_id, guild_id=1, user_id=7, vote="wrong_quote")
    assert desk.first(COST) != (flagged, CLOSES)

    assert desk.store.reset() == 1
    assert desk.first(COST) == (flagged, CLOSES)
    assert desk.store.summary().votes["wrong_quote"] == 1  # the vote is kept, it only stopped counting


def test_no_effects_is_the_answer_as_before(desk):
    answer_id, answer = desk.ask(COST)
    desk.store.vote(answer_id, guild_id=1, user_id=7, vote="wrong_quote")
    assert desk.first(COST) != (answer.quotes[0].passage_id, CLOSES)
    desk.engine.feedback = None  # NEWSDESK_FEEDBACK_EFFECTS=false
    assert desk.first(COST) == (answer.quotes[0].passage_id, CLOSES)
    desk.engine.feedback = FeedbackEffects()
    assert desk.first(COST) == (answer.quotes[0].passage_id, CLOSES)


def test_more_helpful_votes_than_wrong_ones_keep_the_quote(desk):
    answer_id, answer = desk.ask(COST)
    desk.store.vote(answer_id, guild_id=1, user_id=7, vote="wrong_quote")
    desk.store.vote(answer_id, guild_id=1, user_id=8, vote="helpful")
    desk.store.vote(answer_id, guild_id=1, user_id=9, vote="helpful")
    assert desk.first(COST) == (answer.quotes[0].passage_id, CLOSES)


def test_a_member_who_changes_a_wrong_quote_vote_lifts_the_demotion(desk):
    answer_id, answer = desk.ask(COST)
    desk.store.vote(answer_id, guild_id=1, user_id=7, vote="wrong_quote")
    assert desk.store.vote(answer_id, guild_id=1, user_id=7, vote="helpful") == "changed"
    assert desk.first(COST) == (answer.quotes[0].passage_id, CLOSES)


def test_an_article_an_admin_marks_outdated_loses_to_the_newer_one_on_its_story(desk):
    answer_id, _ = desk.ask(COST)
    assert desk.first(COST)[1] == CLOSES
    desk.store.vote(answer_id, guild_id=1, user_id=7, vote="outdated", admin=True)
    answer = desk.engine.ask(COST)
    assert [q.article.title for q in answer.quotes[:2]] == [REOPENS, CLOSES]  # behind it, still quoted
    desk.store.reset()
    assert desk.first(COST)[1] == CLOSES


def test_members_mark_an_article_outdated_only_together(desk):
    answer_id, _ = desk.ask(COST)
    for user in (7, 8):
        desk.store.vote(answer_id, guild_id=1, user_id=user, vote="outdated")
    assert desk.first(COST)[1] == CLOSES  # two members: not yet (three are needed by default)
    desk.store.vote(answer_id, guild_id=1, user_id=9, vote="outdated")
    assert desk.first(COST)[1] == REOPENS


def test_an_outdated_article_without_a_newer_one_on_its_story_is_still_the_answer(desk):
    question = "Combien a coûté la piste cyclable de Lyon ?"
    answer_id, answer = desk.ask(question)
    assert answer.quotes and answer.quotes[0].article.title.startswith("Lyon")
    desk.store.vote(answer_id, guild_id=1, user_id=7, vote="outdated", admin=True)
    assert desk.engine.feedback.outdated  # the vote counts ...
    assert desk.first(question) == (answer.quotes[0].passage_id, answer.quotes[0].article.title)  # ... but no rival


def test_votes_survive_a_reindex_that_renumbers_the_passages(desk, tmp_path):
    answer_id, _ = desk.ask(COST)
    desk.store.vote(answer_id, guild_id=1, user_id=7, vote="wrong_quote")
    desk.engine.reindex([tmp_path / "articles"], force=True)  # a new version: passage ids are new
    renumbered = desk.first(OTHER)
    assert renumbered[1] == CLOSES
    again = desk.engine.ask(COST)
    assert renumbered[0] not in [q.passage_id for q in again.quotes]
