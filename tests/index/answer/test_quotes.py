"""Quote choice on fixed passages: the sentence that answers, grown to a neighbour, verbatim; repeats left out."""

import pytest

from index.answer.fuse import Candidate
from index.answer.question import question_terms
from index.answer.quotes import choose_quote, highlight_spans, is_duplicate, pick_quotes
from index.records import ArticleRef, Passage, Quote
from index.text.chunking import split_sentences
from index.tuning import MAX_QUOTE_WORDS

REF = ArticleRef(1, "Harbour bridge", "2025-03-04", None, None, None, "en")
TEXT = ("The old harbour bridge will close for eleven weeks from 10 March. Engineers will replace its steel cables. "
        "The city council said the repairs would cost 42 million euros. Ferries will run every ten minutes. "
        "Local shop owners fear a drop in visitors.")  # fmt: skip


def passage(text=TEXT, pid=7) -> Passage:
    return Passage(pid, 1, 0, 0, len(text), text, tuple(split_sentences(text)), "en")


def test_the_sentence_that_answers_is_quoted_verbatim_with_its_better_neighbour():
    terms = question_terms("How much will the repairs cost?", "en")
    quote, score = choose_quote(terms, passage(), TEXT, REF, 0.7)
    assert "42 million euros" in quote.text and TEXT[quote.start : quote.end] == quote.text
    assert quote.text.count(". ") + 1 <= 3 and len(quote.text.split()) <= MAX_QUOTE_WORDS
    assert (quote.passage_id, quote.article, quote.score) == (7, REF, 0.7) and score > 0
    assert "**repairs**" in quote.highlighted and "**cost**" in quote.highlighted


@pytest.mark.parametrize("question, expected", [
    ("How many weeks will the bridge close?", "eleven weeks"),  # the words decide
    ("How much money?", "42 million"),  # no shared word: the number cue decides
    ("What do the shop owners fear?", "drop in visitors"),
])  # fmt: skip
def test_choice_follows_the_question(question, expected):
    quote, _ = choose_quote(question_terms(question, "en"), passage(), TEXT, REF, 0.0)
    assert expected in quote.text


def test_a_quote_that_is_not_the_article_text_is_refused():
    moved = passage()
    other = "X" + TEXT[1:]  # the stored article no longer holds the passage
    assert choose_quote(question_terms("bridge", "en"), moved, other, REF, 0.0) == (None, 0.0)


def test_similarity_leads_where_no_word_is_shared():
    terms = question_terms("Quel est le sujet ?", "fr")
    sims = [0.1, 0.1, 0.1, 0.1, 0.9]
    quote, _ = choose_quote(terms, passage(), TEXT, REF, 0.0, similarity=sims, similarity_weight=2.0)
    assert "shop owners" in quote.text


def test_highlights_mark_stems_and_prefixes():
    terms = question_terms("repair costs", "en")
    text = "Repairs cost money; the repairing crew costs more."
    assert [text[a:b] for a, b in highlight_spans(terms, text, "en")] == ["Repairs", "cost", "repairing", "costs"]


def quote(text, start, article=1, score=1.0) -> Quote:
    ref = ArticleRef(article, f"a{article}", None, None, None, None, "en")
    return Quote(text=text, start=start, end=start + len(text), score=score, passage_id=article * 10 + start,
                 article=ref)  # fmt: skip


@pytest.mark.parametrize("candidate, kept, duplicate", [
    (quote("the bridge closes in March", 50), [quote("cables are replaced", 40)], True),  # overlapping spans
    (quote("the bridge closes in March", 100), [quote("cables are replaced", 40)], False),
    (quote("The bridge closes in March.", 0, article=2), [quote("the bridge closes in march", 0)], True),  # words
    (quote("The bridge reopens in April", 0, article=2), [quote("the bridge closes in march", 0)], False),
])  # fmt: skip
def test_duplicates(candidate, kept, duplicate):
    assert is_duplicate(candidate, kept, 0.8) is duplicate


def test_pick_quotes_skips_repeats_and_stops_at_much_weaker_ones():
    texts = {1: "Ferries will run", 2: "ferries will run", 3: "Cables are replaced", 4: "Shops fear", 5: "Fine"}
    chosen = {p: quote(t, 0, article=p) for p, t in texts.items()}
    final = {1: 1.0, 2: 0.95, 3: 0.7, 4: 0.5, 5: 0.4}
    passages = {p: passage(pid=p) for p in texts}
    ranked = [Candidate(p, p, 0.0, 0.0, final[p]) for p in texts]
    terms = question_terms("ferries", "en")
    quotes = pick_quotes(ranked, chosen, final, passages, terms, limit=9, min_relative=0.6, overlap=0.8)
    assert [q.text for q in quotes] == ["Ferries will run", "Cables are replaced"]  # 0.5 < 0.6 * 1.0: stop
    assert [q.score for q in quotes] == [1.0, 0.7] and quotes[0].highlights == ((0, 7),)
    assert len(pick_quotes(ranked, chosen, final, passages, terms, limit=1, min_relative=0.0, overlap=0.8)) == 1


def test_the_cut_off_reads_its_own_scale_and_the_quotes_keep_their_ranked_score():
    """A fitted table's offset lifts a weak passage to 0.65 of the best (`final`); on the hand-set scale
    (`cutoff`) it is 0.2 of it: not shown."""
    texts = {1: "Ferries will run", 2: "Cables are replaced", 3: "Shops fear"}
    chosen = {p: quote(t, 0, article=p) for p, t in texts.items()}
    final = {1: 1.0, 2: 0.8, 3: 0.65}
    hand = {1: 1.5, 2: 1.2, 3: 0.3}
    passages = {p: passage(pid=p) for p in texts}
    ranked = [Candidate(p, p, 0.0, 0.0, final[p]) for p in texts]
    terms = question_terms("ferries", "en")
    plain = pick_quotes(ranked, chosen, final, passages, terms, limit=9, min_relative=0.6, overlap=0.8)
    assert [q.text for q in plain] == ["Ferries will run", "Cables are replaced", "Shops fear"]
    cut = pick_quotes(ranked, chosen, final, passages, terms, limit=9, min_relative=0.6, overlap=0.8, cutoff=hand)
    assert [q.text for q in cut] == ["Ferries will run", "Cables are replaced"] and [q.score for q in cut] == [1.0, 0.8]
