"""The per-language vocabularies, and the cues read from questions and sentences in their words."""

import pytest
from bm25s import stopwords as bm25_stopwords

from index.lang import LANGUAGES, words_of
from index.lang.cues import (
    DATE_QUESTION,
    HOLDS_DATE,
    HOLDS_NUMBER,
    NUMBER_QUESTION,
    WHERE_QUESTION,
    WHO_QUESTION,
    has_question_form,
)
from index.lang.vocabulary import Vocabulary
from index.text.dates import MONTHS
from index.text.normalize import fold


@pytest.mark.parametrize("code", list(LANGUAGES))
def test_every_vocabulary_is_complete_where_it_says_something(code):
    v = LANGUAGES[code]
    assert isinstance(v, Vocabulary) and v.code == code
    assert v.stopwords is None or len(getattr(bm25_stopwords, v.stopwords)) > 50
    assert len(v.months) in (0, 12) and all(m == fold(m) for m in v.months)
    assert all(1 <= n <= 12 for n in v.month_abbreviations.values())


def test_a_language_needs_only_its_code_and_stemmer():
    v = Vocabulary(code="sv", snowball="swedish")
    assert (v.stopwords, v.months, v.question_words, dict(v.relative_dates)) == (None, (), frozenset(), {})


def test_french_and_english_know_their_month_names():
    assert (MONTHS["mai"], MONTHS["may"], MONTHS["aout"], MONTHS["sept"], MONTHS["dec"]) == (5, 5, 8, 9, 12)
    assert len(words_of("months")) == 24


@pytest.mark.parametrize(
    ("question", "cues"),
    [
        ("Combien de personnes ont été évacuées ?", {"number"}),
        ("Quel est le montant des travaux ?", {"number"}),
        ("How many people were evacuated?", {"number"}),
        ("What percentage voted?", {"number"}),
        ("Quand le pont rouvrira-t-il ?", {"date"}),
        ("Depuis quand le pont est-il fermé ?", {"date"}),
        ("In what year did it open?", {"date"}),
        ("Qui a gagné l'élection ?", {"who"}),
        ("By whom was it built?", {"who"}),
        ("Où se trouve le pont ?", {"where"}),
        ("Dans quelle ville a-t-il grandi ?", {"where"}),
        ("Where is the bridge?", {"where"}),
        ("Le pont est fermé.", set()),
        ("The bridge is closed.", set()),
    ],
)
def test_what_a_question_asks_for(question, cues):
    q = fold(question)
    found = {name for name, pattern in [("number", NUMBER_QUESTION), ("date", DATE_QUESTION),
                                        ("who", WHO_QUESTION), ("where", WHERE_QUESTION)] if pattern.search(q)}  # fmt: skip
    assert found == cues


@pytest.mark.parametrize(
    ("sentence", "number", "date"),
    [
        ("Six thousand people came.", True, False),
        ("Des milliers de manifestants.", True, False),
        ("Il a coûté 4 millions.", True, False),
        ("Le chantier finira en août.", False, True),
        ("Work ends in December.", False, True),
        ("Built in 1889.", True, True),
        ("Nobody came.", False, False),
    ],
)
def test_what_a_sentence_can_answer(sentence, number, date):
    assert (bool(HOLDS_NUMBER.search(sentence)), bool(HOLDS_DATE.search(fold(sentence)))) == (number, date)


@pytest.mark.parametrize(
    ("message", "form"),
    [
        ("Qui a gagné", True),
        ("pourquoi le pont est fermé", True),
        ("Le pont rouvrira-t-il bientôt", True),  # the inverted subject, anywhere
        ("Y a-t-il des bus", True),
        ("Est-ce que le pont est fermé", True),
        ("who won", True),
        ("Could the bridge close", True),
        ("Le pont est fermé", False),
        ("The bridge is closed", False),
        ("Quelques nouvelles", False),  # "quel" opens it, but not as a word
        ("Whoever wins", False),
    ],
)
def test_a_message_has_a_question_form(message, form):
    assert has_question_form(message) is form
