"""Retrieval over an in-memory store: dense and BM25 candidates together, filters as the store's selection."""

import numpy as np
import pytest
from pytest import approx

from index.answer.question import parse
from index.answer.retrieve import retrieve, selection
from index.records import Filters
from tests.index.answer.memory import Doc, MemoryStore

DOCS = [
    Doc(1, "The harbour bridge repairs will cost 42 million euros.", [0.0, 1.0], source="Example News"),
    Doc(2, "Ferries will run every ten minutes across the water.", [0.6, 0.8], date="2025-06-01"),
    Doc(3, "Le vieux pont du port ferme pour onze semaines.", [1.0, 0.0], lang="fr", source="Exemple Actu"),
]
Q = np.array([[1.0, 0.0]], dtype=np.float32)


def test_the_nearest_and_the_best_by_words_each_with_both_scores():
    store = MemoryStore(DOCS)
    found = retrieve(store, parse("harbour bridge repairs", 2000), Q, None, k=1, k1=0.9, b=0.6, multilingual=False)
    assert found.pids == (10, 30)  # 30 nearest by meaning, 10 best by words; in passage id order
    assert found.articles == (1, 3)
    assert found.dense.tolist() == approx([0.0, 1.0])  # the word-only candidate's cosine is read back
    assert found.lexical[0] > 0 and found.lexical[1] == 0.0
    assert ("lexical", 0.9, 0.6) in store.calls  # the profile's BM25 ranks


@pytest.mark.parametrize("multilingual, cross", [(True, [False, True]), (False, [False, False])])
def test_another_language_is_marked_only_for_a_model_that_reads_across(multilingual, cross):
    found = retrieve(MemoryStore(DOCS), parse("harbour bridge repairs", 2000), Q, None, k=1, k1=0.9, b=0.6,
                     multilingual=multilingual)  # fmt: skip
    assert found.cross.tolist() == cross


def test_nothing_found():
    store = MemoryStore(DOCS)
    assert retrieve(store, parse("bridge", 2000), Q, frozenset(), k=3, k1=0.9, b=0.6, multilingual=False) is None


@pytest.mark.parametrize("filters, pids", [
    (None, None),
    (Filters(), None),
    (Filters(lang="fr"), {30}),
    (Filters(source="EXAMPLE"), {10}),  # a fragment of the source, the URL or the title, in any case
    (Filters(source="exemple actu"), {30}),
    (Filters(source="article 2"), {20}),
    (Filters(since="2025-01"), {20}),
    (Filters(until="2024-12-31"), set()),
    (Filters(exclude_articles=frozenset({1})), {20, 30}),
    (Filters(lang="en", exclude_articles=frozenset({1})), {20}),
])  # fmt: skip
def test_filters_become_the_store_s_selection(filters, pids):
    chosen = selection(MemoryStore(DOCS), filters)
    assert (None if chosen is None else set(chosen)) == pids
