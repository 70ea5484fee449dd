"""Answering: quotes are verbatim, filters apply, weak evidence abstains, bad questions are refused."""

import pytest

from index.errors import EmptyQuestion, QuestionTooLong
from index.records import Filters


@pytest.fixture
def engine(fake_engine, articles_dir):
    fake_engine.reindex([articles_dir])
    return fake_engine


def test_quotes_are_verbatim_with_sources(engine):
    answer = engine.ask("How much will the harbour bridge repairs cost?")
    assert answer.answered
    q = answer.quotes[0]
    assert "42 million euros" in q.text
    assert q.article.title == "Harbour bridge closes for repairs" and q.article.date == "2025-03-04"
    assert q.article.url == "https://example-news.test/harbour-bridge"
    text = engine.snapshot.article_text(q.article.id)
    assert text[q.start : q.end] == q.text
    assert "**repairs**" in q.highlighted and "**cost**" in q.highlighted


def test_french_question_finds_the_french_article(engine):
    answer = engine.ask("Combien a coûté la piste cyclable de Lyon ?")
    assert answer.answered and answer.lang == "fr"
    assert "18 millions" in answer.quotes[0].text


def test_filters(engine):
    late = engine.ask("bridge repairs cost", filters=Filters(since="2025-06"))
    assert {r.date for r in [q.article for q in late.quotes] + list(late.related)} == {"2025-06-18"}
    only_fr = engine.search("piste bridge comet", k=5, filters=Filters(lang="fr"))
    assert {h.article.lang for h in only_fr} == {"fr"}
    by_source = engine.search("bridge comet piste", k=5, filters=Filters(source="exemple-actu"))
    assert [h.article.title for h in by_source] == ["Lyon ouvre une piste cyclable sur les quais"]
    assert engine.search("comet", k=5, filters=Filters(until="2023-12-31")) == []


def test_off_topic_abstains_with_related_reading(engine):
    answer = engine.ask("What is the best recipe for chocolate mousse?")
    assert not answer.answered and answer.quotes == ()
    assert len(answer.related) >= 1


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question(engine, question):
    with pytest.raises(EmptyQuestion):
        engine.ask(question)


def test_too_long_question(engine):
    with pytest.raises(QuestionTooLong, match="limit is 2000"):
        engine.ask("why " * 600)
    at_limit = ("bridge repairs " * 133).strip() + " cost?"  # 2,000 characters exactly
    assert len(at_limit) == 2000
    answer = engine.ask(at_limit)
    assert answer.question == at_limit
    named = [q.article.title for q in answer.quotes] + [r.title for r in answer.related]
    assert named and named[0] == "Harbour bridge closes for repairs"
    with pytest.raises(QuestionTooLong, match="limit is 2000"):
        engine.ask(at_limit + "s")
    spaced = "bridge" + " " * 3000 + "repairs?"  # runs of whitespace count as one space
    assert engine.ask(spaced).question == "bridge repairs?"


def test_sources_newest_first(engine):
    titles = [a.title for a in engine.articles()]
    assert titles[0].startswith("Lyon") and titles[-1].startswith("Amateur")
    assert [a.title for a in engine.articles("comet")] == ["Amateur astronomers spot a new comet"]
