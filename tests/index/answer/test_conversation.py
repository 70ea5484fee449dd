"""Follow-up questions (issue 15): which questions borrow from the conversation, what they borrow, and that a
question standing on its own is answered exactly as without a conversation.

Rules and engine with the hashing embedder; the eval set (tests/index/answer/followups.py) with the real model.
"""

from __future__ import annotations

import pytest

from index.answer.conversation import Turn, plan
from index.answer.question import parse
from index.tuning import FOLLOWUP_ARTICLE_BOOST, FOLLOWUP_DECAY, FOLLOWUP_NAME_WEIGHT, FOLLOWUP_TERM_WEIGHT
from tests.index.answer import followups


def turn(question: str, *articles: int) -> Turn:
    """The turn a question makes, as its answer would give it, quoting `articles`."""
    q = parse(question, 2000)
    return Turn(q.text, q.lang, tuple(q.terms.weights), tuple(sorted(q.terms.names | q.numbers)), articles)


BRIDGE = turn("How much will the harbour bridge repairs cost?", 1)
PISTE = turn("Combien a coûté la piste cyclable de Lyon ?", 2)


def without_timing(answer) -> dict:
    return {**answer.to_dict(), "took_ms": None}


# --- which questions are follow-ups ---------------------------------------------------------------------------

@pytest.mark.parametrize(("question", "checks_alone"), [
    ("Et depuis ?", False),  # elliptic: one content word
    ("pourquoi ?", False),  # no content word at all
    ("et en 2030 ?", False),
    ("Qui l'a payée ?", False),
    ("who is he?", False),
    ("who runs it now?", False),
    ("And the ferries?", False),
    # Words enough of their own: answered alone first, kept so when that answers.
    ("How many ferries will run during the closure?", True),
    ("Quand les travaux de la piste cyclable avaient-ils commencé ?", True),
])  # fmt: skip
def test_a_question_with_few_words_of_its_own_is_a_follow_up(question, checks_alone):
    follow = plan(parse(question, 2000), (BRIDGE,))
    assert follow is not None and follow.check_alone is checks_alone
    assert follow.source == BRIDGE.question


def test_nothing_is_borrowed_from_a_conversation_without_content_words():
    assert plan(parse("pourquoi ?", 2000), ()) is None
    assert plan(parse("pourquoi ?", 2000), (Turn("et alors ?", "fr", (), (), (3,)),)) is None


def test_borrowed_weights_decay_with_each_turn_back():
    follow = plan(parse("Et depuis ?", 2000), (PISTE, BRIDGE))  # oldest first: the bridge was asked last
    assert follow.weights["bridg"] == pytest.approx(FOLLOWUP_TERM_WEIGHT)
    assert follow.weights["pist"] == pytest.approx(FOLLOWUP_TERM_WEIGHT * FOLLOWUP_DECAY)
    assert follow.weights["lyon"] == pytest.approx(FOLLOWUP_NAME_WEIGHT * FOLLOWUP_DECAY)  # a name lends more
    assert follow.boosts == {1: pytest.approx(FOLLOWUP_ARTICLE_BOOST), 2: pytest.approx(FOLLOWUP_ARTICLE_BOOST * FOLLOWUP_DECAY)}
    assert list(follow.vectors) == [BRIDGE.question, PISTE.question]
    assert follow.vectors[BRIDGE.question] > follow.vectors[PISTE.question]
    assert follow.source == BRIDGE.question


def test_the_question_keeps_its_own_words_at_full_weight():
    question = parse("And the bridge ferries?", 2000)
    follow = plan(question, (BRIDGE,))
    asked = follow.question(question)
    assert "bridg" not in follow.weights and follow.weights["harbour"] < 1
    assert asked.analyzed.count("harbour") < asked.analyzed.count("bridg")  # BM25: borrowed words count less
    assert set(asked.terms.weights) == {"bridg", "ferri", "harbour", "repair", "cost"}


# --- through the engine (hashing embedder, the small test articles) ----------------------------------------------

@pytest.fixture
def engine(fake_engine, articles_dir):
    fake_engine.reindex([articles_dir])
    return fake_engine


def test_a_follow_up_is_answered_from_the_earlier_article_and_says_so(engine):
    first = engine.ask("How much will the harbour bridge repairs cost?")
    assert first.answered and first.context_from is None and "context_from" not in first.to_dict()
    alone = engine.ask("who said it?")
    assert alone.quotes[0].article.title == "Amateur astronomers spot a new comet"  # its words alone: elsewhere
    answer = engine.ask("who said it?", context=(Turn.of(first),))
    assert answer.answered and answer.quotes[0].article.title == "Harbour bridge closes for repairs"
    assert answer.context_from == first.question and answer.to_dict()["context_from"] == first.question
    assert not engine.ask("pourquoi ?").answered
    assert engine.ask("pourquoi ?", context=(Turn.of(first),)).quotes[0].article.title.startswith("Harbour")


def test_the_most_recent_turn_weighs_most(engine):
    bridge = Turn.of(engine.ask("How much will the harbour bridge repairs cost?"))
    piste = Turn.of(engine.ask("Combien a coûté la piste cyclable de Lyon ?"))
    assert bridge.articles and piste.articles and bridge.articles != piste.articles
    last_piste = engine.ask("pourquoi ?", context=(bridge, piste))
    last_bridge = engine.ask("pourquoi ?", context=(piste, bridge))
    assert last_piste.quotes[0].article.id == piste.articles[0] and last_piste.context_from == piste.question
    assert last_bridge.quotes[0].article.id == bridge.articles[0] and last_bridge.context_from == bridge.question


@pytest.mark.parametrize("question", [
    "Quand les travaux de la piste cyclable de Lyon avaient-ils commencé ?",  # answered alone
    "When will the comet pass closest to the Sun?",
    "What is the recipe for a lemon tart?",  # abstains alone, and the bridge's article does not answer it either
])  # fmt: skip
def test_a_standalone_question_is_answered_as_without_the_conversation(engine, question):
    turns = (Turn.of(engine.ask("How much will the harbour bridge repairs cost?")),)
    assert without_timing(engine.ask(question, context=turns)) == without_timing(engine.ask(question))
    assert engine.ask(question, context=turns).context_from is None


def test_turn_of_an_answer_keeps_its_question_terms_names_and_quoted_articles(engine):
    answer = engine.ask("Combien a coûté la piste cyclable de Lyon en 2024 ?")
    turn = Turn.of(answer)
    assert turn.question == answer.question and turn.lang == "fr"
    assert "lyon" in turn.names and "2024" in turn.names and "pist" in turn.terms
    assert turn.articles[0] == answer.quotes[0].article.id and len(set(turn.articles)) == len(turn.articles)


# --- the follow-up eval set, with the real model ------------------------------------------------------------

def test_the_eval_set_spans_are_in_their_articles():
    from tests.conftest import SAMPLES

    assert 12 <= len(followups.CONVERSATIONS) <= 20
    for conversation in followups.CONVERSATIONS:
        assert 2 <= len(conversation) <= 3
        for step in conversation:
            assert step.span in (SAMPLES / step.article).read_text(encoding="utf-8"), step


@pytest.fixture(scope="module")
def samples_engine(real_embedder, tmp_path_factory):
    from index.engine import Engine
    from tests.conftest import SAMPLES

    engine = Engine(tmp_path_factory.mktemp("followups") / "index", real_embedder)
    engine.reindex([SAMPLES])
    return engine


def test_follow_ups_are_answered_with_the_conversation_context(samples_engine):
    hits, total = followups.followup_hits(samples_engine)
    alone, _ = followups.followup_hits(samples_engine, with_context=False)
    print(f"follow-ups with context {hits}/{total} = {hits / total:.3f}; without {alone}/{total} = {alone / total:.3f}")
    # Measured with multilingual-e5-small (python -m tests.index.answer.followups): 26/33 = 0.788 with the
    # context, 16/33 = 0.485 without it.
    assert hits / total >= 0.75
    assert hits - alone >= 7  # the context is what answers them


def test_a_standalone_question_after_an_unrelated_conversation_is_not_pulled(samples_engine):
    turns = tuple(Turn.of(answer) for _, answer in followups.replay(samples_engine, followups.CONVERSATIONS[0]))
    assert turns[0].articles  # the OpenAI story was quoted
    for conversation in followups.CONVERSATIONS[1:]:
        question = conversation[0].question
        with_context = samples_engine.ask(question, context=turns)
        assert without_timing(with_context) == without_timing(samples_engine.ask(question)), question
        assert with_context.context_from is None
