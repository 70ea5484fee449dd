"""Parsing a question: checked once, its language, the answer it expects, its numbers and dates."""

import pytest

from index.answer.question import date_hint, parse, weighed
from index.errors import EmptyQuestion, QuestionTooLong
from index.lang.analyzer import term_set
from index.records import Filters
from index.tuning import LOWERCASE_NAME
from tests.index.answer.memory import Counts


@pytest.mark.parametrize("text, lang, wants", [
    ("Combien a coûté la piste cyclable de Lyon ?", "fr", "number"),
    ("How many chicks did the barn owls raise?", "en", "number"),
    ("Quand la cathédrale a-t-elle rouvert ?", "fr", "date"),
    ("When will the bakery sell its last loaves?", "en", "date"),
    ("Qui a remporté le championnat ?", "fr", "name"),
    ("Who won the city chess championship?", "en", "name"),
    ("Où le fromage a-t-il été affiné ?", "fr", "place"),
    ("Where was the prize-winning cheese aged?", "en", "place"),
])  # fmt: skip
def test_language_and_expected_answer(text, lang, wants):
    q = parse(text, 2000)
    assert q.lang == lang
    kinds = {"number": q.terms.wants_number, "date": q.terms.wants_date, "name": q.terms.wants_name,
             "place": q.terms.wants_place}  # fmt: skip
    assert [k for k, v in kinds.items() if v] == [wants]


def test_one_parse_holds_every_view_of_the_question():
    q = parse("  How much did   the Brenna dam repairs cost in 2024?  ", 2000)
    assert q.text == "How much did the Brenna dam repairs cost in 2024?"
    assert q.numbers == {"2024"}
    assert q.dates is not None and q.dates.phrase == "in 2024" and q.dates.since.startswith("2024-01")
    assert "brenna" in q.terms.names and set(q.terms.weights.values()) == {1.0}
    # BM25 reads each stem and, beside it, the word's first letters; question words are not terms.
    assert set(q.terms.weights) <= set(q.analyzed) and "~repair" in q.analyzed and "how" not in q.analyzed


@pytest.mark.parametrize("question, text, lang, expected", [
    ("Who won Euro 2024?", "Inflation in the euro area fell in 2024.", "en", {"euro": LOWERCASE_NAME, "2024": 1.0}),
    ("Who won Euro 2024?", "Spain won Euro 2024 in Berlin.", "en", {"euro": 1.0, "2024": 1.0}),
    ("Who won Euro 2024?", "Euro zone inflation fell.", "en", {"euro": 1.0}),  # a capital opening the sentence
    ("Qui a gagné l'Euro 2024 ?", "En mai 2024, la hausse des prix dans la zone euro était de 2,6 %.", "fr",
     {"euro": LOWERCASE_NAME, "2024": 1.0}),
    ("Qui a gagné l'Euro 2024 ?", "L'Espagne a gagné l'Euro 2024.", "fr", {"gagn": 1.0, "euro": 1.0, "2024": 1.0}),
    ("Who won the chess final?", "the chess final went to Brenna.", "en", {"chess": 1.0, "final": 1.0}),  # no names
])  # fmt: skip
def test_a_name_written_in_lower_case_is_most_often_another_thing(question, text, lang, expected):
    """"Euro" in a question is the tournament: the "zone euro" of an article on interest rates counts a quarter."""
    terms = parse(question, 2000).terms
    assert terms.matched(term_set(text, lang)) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "   ", "\n\t", None])
def test_empty(text):
    with pytest.raises(EmptyQuestion):
        parse(text, 2000)


def test_too_long_counts_runs_of_whitespace_once():
    assert parse("a" * 10 + " " * 50 + "b", 12).text == "a" * 10 + " b"
    with pytest.raises(QuestionTooLong):
        parse("a" * 13, 12)


@pytest.mark.parametrize("filters, kept", [
    (None, True), (Filters(lang="fr"), True), (Filters(since="2025-01"), False), (Filters(until="2025-12"), False),
])  # fmt: skip
def test_a_date_filter_replaces_the_question_s_date_hint(filters, kept):
    q = parse("Que s'est-il passé en mai 2025 ?", 2000)
    assert (date_hint(q, filters) is not None) is kept


def test_weighed_by_the_index_idf():
    q = parse("harbour bridge repairs", 2000)
    counts = Counts([["harbour", "bridg"], ["bridg"], ["repair"]])
    weights = weighed(q.terms, counts).weights
    assert weights["harbour"] > weights["bridg"]  # the rarer word weighs more
    assert weighed(q.terms, None) is q.terms  # an empty index: every stem weighs 1
