"""The re-ranking: the hand-set formula, and a profile's fitted one (Profile.rerank_weights) on fixed features."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from index.answer.config import SearchConfig
from index.answer.fuse import Candidate
from index.answer.pipeline import Context, Pipeline
from index.answer.question import parse, weighed
from index.answer.quotes import choose_quote
from index.answer.rerank import (
    FEATURES,
    case_tables,
    fitted,
    hand_set,
    pool_signals,
    read_by_meaning,
    rerank,
    table_for,
)
from index.tuning import CROSS_SENTENCE_CREDIT, DEFAULT, E5_SMALL, MINILM
from tests.index.answer.memory import Doc, MemoryStore

# Words point to article 1 (the bridge, its cost), meaning to article 2 (the crossing), article 3 is about a comet.
DOCS = [
    Doc(1, "The harbour bridge repairs will cost 42 million euros. Ferries will run meanwhile.", [0.0, 1.0]),
    Doc(2, "Work on the crossing over the port began in 2019. It is budgeted at a large sum.", [1.0, 0.0]),
    Doc(3, "A comet will pass close to the Sun in April.", [0.7, 0.7]),
]
QUESTION = "How much will the harbour bridge repairs cost?"


def cand(pid: int, fused: float, *, dense: float = 0.5, lexical: float = 1.0, cross: bool = False) -> Candidate:
    return Candidate(pid=pid, article=pid // 10, dense=dense, lexical=lexical, fused=fused, cross=cross)


def terms_of(store: MemoryStore, question: str = QUESTION):
    return weighed(parse(question, 2000).terms, store.terms(0.9, 0.6))


# --- the formula on fixed features ---------------------------------------------------------------------------

SIGNALS = {10: {"fused": 0.9, "dense": 0.0, "sentence": 0.5}, 20: {"fused": 0.4, "dense": 1.0, "sentence": 0.2}}


@pytest.mark.parametrize(("table", "expected"), [
    ({"fused": 1.0, "sentence": 0.6}, {10: 1.2, 20: 0.52}),  # the hand-set one, as a table
    ({"fused": 1.0, "dense": 1.0}, {10: 0.9, 20: 1.4}),  # the dense side turns the order over
    ({"bias": 0.25, "dense": 2.0}, {10: 0.25, 20: 2.25}),  # the bias is added to every passage
    ({"fused": 1.0, "unknown": 5.0}, {10: 0.9, 20: 0.4}),  # a feature nobody computes counts 0
])  # fmt: skip
def test_the_fitted_formula_is_the_weighted_sum_of_the_features(table, expected):
    assert fitted([cand(10, 0.9), cand(20, 0.4)], SIGNALS, {False: table}) == pytest.approx(expected)


def test_passages_in_another_language_read_their_own_table():
    pool = [cand(10, 0.9), cand(20, 0.4, cross=True)]
    tables = {False: {"fused": 1.0}, True: {"dense": 2.0}}
    assert fitted(pool, SIGNALS, tables) == pytest.approx({10: 0.9, 20: 2.0})


@pytest.mark.parametrize(("lang", "cross", "expected"), [
    ("fr", False, "fr"), ("en", False, "*"), ("fr", True, "x"), ("en", True, "x"),
])  # fmt: skip
def test_a_passage_reads_its_case_table(lang, cross, expected):
    weights = {"fr": {"fr": 1.0}, "*": {"*": 1.0}, "x": {"x": 1.0}}
    assert table_for(weights, lang, cross) == {expected: 1.0}


def test_a_case_without_table_has_none():
    assert table_for({"x": {"dense": 1.0}}, "fr", False) is None
    assert table_for({"*": {"dense": 1.0}}, "fr", True) is None


@pytest.mark.parametrize(("weights", "lang", "cosine_weight", "cross", "read"), [
    (None, "en", 0.0, False, []), ({}, "en", 0.0, False, []),
    (None, "en", 0.3, False, [10, 20]),  # the hand-set formula with a cosine weight: the whole pool
    ({"*": {"fused": 1.0, "sentence": 0.6}}, "en", 0.0, False, []),
    ({"*": {"fused": 1.0, "sentence_dense": 0.0}}, "en", 0.0, False, [10, 20]),  # named: read (fit_rerank records so)
    ({"x": {"sentence_dense": 0.1}}, "en", 0.0, True, [10, 20]),  # passages in another language, their table
    ({"x": {"sentence_dense": 0.1}}, "en", 0.0, False, []),  # ... which passages in the question's language lack
    ({"en": {"sentence_dense_pool": 0.3}}, "fr", 0.0, False, []),  # a French question has no table: the hand-set one
    ({"en": {"sentence_dense_pool": 0.3}, "x": {"sentence_dense": 1.0}}, "en", 0.0, None, []),  # a mixed pool
    (None, "en", 0.3, None, [10, 20]),  # ... whose hand-set formula may still read them
])  # fmt: skip
def test_cosines_are_read_for_the_passages_whose_table_names_them(weights, lang, cosine_weight, cross, read):
    """`cross` None: a pool of both cases (passage 10 in the question's language, 20 in another)."""
    pool = [cand(10, 0.9, cross=bool(cross)), cand(20, 0.4, cross=cross is None or cross)]
    assert [c.pid for c in read_by_meaning(pool, weights, lang, cosine_weight)] == read


@pytest.mark.parametrize(("weights", "lang", "cases", "expected"), [
    ({"en": {"en": 1.0}, "x": {"x": 1.0}}, "en", (False, False), {False: "en"}),  # one case, with its table
    ({"en": {"en": 1.0}, "x": {"x": 1.0}}, "en", (True, True), {True: "x"}),
    ({"fr": {"fr": 1.0}, "*": {"*": 1.0}}, "en", (False,), {False: "*"}),  # an English question reads "*"
    ({"en": {"en": 1.0}, "x": {"x": 1.0}}, "en", (False, True), None),  # both cases: the hand-set formula
    ({"x": {"x": 1.0}}, "en", (False, False), None),  # its case has no table
    (None, "en", (False,), None), ({}, "en", (False,), None), ({"x": {"x": 1.0}}, "en", (), None),
])  # fmt: skip
def test_fitted_tables_rank_a_pool_of_one_case_only(weights, lang, cases, expected):
    pool = [cand(10 * (i + 1), 0.5, cross=c) for i, c in enumerate(cases)]
    tables = case_tables(weights, lang, pool)
    assert (None if tables is None else {k: next(iter(t)) for k, t in tables.items()}) == expected


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", {False: "en", True: "x"}),  # both cases fitted: each passage by its case's table
    ("fr", None),  # French has no table: the hand-set formula for the whole pool
])  # fmt: skip
def test_with_mixed_pools_a_pool_of_both_cases_reads_both_tables(monkeypatch, lang, expected):
    monkeypatch.setattr("index.answer.rerank.MIXED_POOLS", True)
    tables = case_tables({"en": {"en": 1.0}, "x": {"x": 1.0}}, lang, [cand(10, 0.5), cand(20, 0.4, cross=True)])
    assert (None if tables is None else {k: next(iter(t)) for k, t in tables.items()}) == expected


# --- the features the pool shows -------------------------------------------------------------------------------


def test_pool_signals_normalize_over_the_pool_and_read_the_asked_type():
    store = MemoryStore(DOCS)
    pool = [cand(10, 0.9, dense=0.2, lexical=4.0), cand(20, 0.5, dense=0.8, lexical=2.0),
            cand(30, 0.1, dense=0.5, lexical=0.0)]  # fmt: skip
    passages = store.passages([10, 20, 30])
    texts = {c.pid: store.article_text(c.pid // 10) for c in pool}
    cosines = {10: np.array([0.3, 0.9]), 20: np.array([0.6, 0.5])}  # none known for 30
    terms = terms_of(store, "When did the work on the crossing begin?")  # a date is asked
    quotes = {c.pid: choose_quote(terms, passages[c.pid], texts[c.pid], store.articles[c.pid // 10], c.fused,
                                  highlight=False)[0] for c in pool}  # fmt: skip
    got = pool_signals(pool, passages, texts, {10: 0.1, 20: 0.7, 30: 0.0}, quotes, cosines, terms.answer_type)
    assert set(got[10]) == set(FEATURES)
    assert [got[p]["dense"] for p in (10, 20, 30)] == pytest.approx([0.0, 1.0, 0.5])
    assert [got[p]["lexical"] for p in (10, 20, 30)] == pytest.approx([1.0, 0.5, 0.0])
    assert [got[p]["sentence"] for p in (10, 20, 30)] == [0.1, 0.7, 0.0]
    assert [got[p]["sentence_dense"] for p in (10, 20, 30)] == pytest.approx([0.9, 0.6, 0.5])  # 30: its own
    assert [got[p]["sentence_dense_pool"] for p in (10, 20, 30)] == pytest.approx([1.0, 0.0, 0.0])
    assert got[20]["answer_type"] == 1.0 and got[10]["answer_type"] == 0.0  # "in 2019" is a date
    assert got[20]["answer_type_quote"] == 1.0 and got[30]["answer_type_quote"] == 1.0  # "in April" too
    assert got[10]["answer_type_quote"] == 0.0
    assert got[10]["fused"] == 0.9


def test_a_question_whose_type_has_no_spans_shows_none():
    store = MemoryStore(DOCS)
    pool = [cand(10, 0.9), cand(20, 0.5)]
    top = rerank(pool, store, terms_of(store, "Is the bridge closed?"), 0.6, weights={"*": hand_set(0.6)})
    assert all(s["answer_type"] == 0.0 and s["answer_type_quote"] == 0.0 for s in top.signals.values())


# --- the re-ranking with and without fitted weights ------------------------------------------------------------


def _hand_set_by_hand(store, pool, terms, sentence_weight):
    out = {}
    for c in pool:
        p = store.passages([c.pid])[c.pid]
        _, sentence = choose_quote(terms, p, store.article_text(p.article_id), store.articles[p.article_id],
                                   c.fused, highlight=False)  # fmt: skip
        out[c.pid] = c.fused + sentence_weight * (sentence + (CROSS_SENTENCE_CREDIT if c.cross else 0.0))
    return out


def test_without_weights_the_order_is_the_hand_set_formulas():
    store = MemoryStore(DOCS)
    terms = terms_of(store)
    # Article 2 leads by its fused score; article 1's sentences hold the question's words.
    pool = [cand(20, 0.8), cand(10, 0.6), cand(30, 0.1)]
    expected = _hand_set_by_hand(store, pool, terms, 0.6)
    top = rerank(pool, store, terms, 0.6)
    assert [c.pid for c in top.order] == sorted(expected, key=lambda p: -expected[p]) == [10, 20, 30]
    assert top.final == pytest.approx(expected) and top.signals == {}
    assert [c.pid for c in rerank(pool, store, terms, 0.0).order] == [20, 10, 30]  # words weigh nothing


def test_the_hand_set_formula_as_a_table_gives_its_scores():
    store = MemoryStore(DOCS)
    terms = terms_of(store)
    pool = [cand(20, 0.8), cand(10, 0.6, cross=True), cand(30, 0.1)]
    plain = rerank(pool, store, terms, 0.6)
    table = rerank(pool, store, terms, 0.6, weights={"*": hand_set(0.6), "x": hand_set(0.6)})
    assert [c.pid for c in table.order] == [c.pid for c in plain.order]
    assert table.final == pytest.approx(plain.final)


def test_fitted_weights_put_first_the_passage_they_favour():
    store = MemoryStore(DOCS)
    terms = terms_of(store)
    pool = [cand(10, 0.9, dense=0.0), cand(20, 0.5, dense=1.0), cand(30, 0.1, dense=0.7)]
    assert rerank(pool, store, terms, 0.6).order[0].pid == 10
    by_meaning = rerank(pool, store, terms, 0.6, weights={"*": {"fused": 1.0, "dense": 1.0}})
    assert [c.pid for c in by_meaning.order] == [20, 10, 30]  # 1.5, 0.9, 0.1 + 0.7
    by_words = rerank(pool, store, terms, 0.6, weights={"*": {"sentence": 1.0}})
    assert by_words.order[0].pid == 10
    # Whatever ranked, the quotes' cut-off reads the hand-set scores.
    assert by_meaning.cutoff() == by_words.cutoff() == rerank(pool, store, terms, 0.6).final != by_meaning.final
    # Across languages only the "x" table counts: the same weights on the other case change nothing.
    assert rerank(pool, store, terms, 0.6, weights={"x": {"dense": 5.0}}).order[0].pid == 10


def test_a_question_whose_case_has_no_table_is_reranked_by_hand():
    store = MemoryStore(DOCS)
    terms = terms_of(store)
    pool = [cand(20, 0.8), cand(10, 0.6), cand(30, 0.1)]
    plain = rerank(pool, store, terms, 0.6)
    other = rerank(pool, store, terms, 0.6, weights={"fr": {"dense": 1.0}, "x": {"dense": 1.0}}, lang="en")
    assert other.final == plain.final and other.signals == {}  # the same numbers, no feature computed


def test_the_pipeline_ranks_with_the_profiles_weights():
    def ask(**profile):
        ctx = Context(store=lambda: MemoryStore(DOCS), embedder=_Fixed(), profile=replace(DEFAULT, **profile),
                      config=SearchConfig())  # fmt: skip
        return Pipeline().ask(ctx, QUESTION)

    assert ask().ranking[0] == 1  # the bridge: words and the hand-set formula
    assert ask(rerank_weights={"*": {"dense": 1.0}}).ranking[0] == 2  # the crossing: meaning alone
    assert ask(rerank_weights={"x": {"dense": 1.0}}).ranking[0] == 1  # no English question is "x"


class _Fixed:
    name, dimension = "fixed", 2

    def encode_queries(self, texts):
        return np.array([[1.0, 0.0]], dtype=np.float32)

    def encode_documents(self, texts, progress=None):
        return np.zeros((len(texts), 2), dtype=np.float32)


def test_profiles_and_config_overrides():
    assert MINILM.rerank_weights is None and DEFAULT.rerank_weights is None
    weights = {"*": {"fused": 1.0, "dense": 0.5}}
    assert SearchConfig(rerank_weights=weights).tuned(MINILM).rerank_weights == weights
    assert SearchConfig().tuned(E5_SMALL).rerank_weights == E5_SMALL.rerank_weights
    for table in (E5_SMALL.rerank_weights or {}).values():
        assert set(table) <= {"bias", *FEATURES}  # a misspelt feature would silently count 0
    # multilingual-e5-small: French questions keep the hand-set formula, English and cross-lingual ones are fitted.
    assert table_for(E5_SMALL.rerank_weights, "fr", False) is None
    assert table_for(E5_SMALL.rerank_weights, "en", False) and table_for(E5_SMALL.rerank_weights, "fr", True)
