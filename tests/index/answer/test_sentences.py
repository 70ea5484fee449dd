"""Quotes and ranks judged by meaning in the question's language: each sentence's cosine with the question,
read from the vectors stored at index time (or, for an index written before them, embedded in one batch),
beside the words."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from index.answer.config import SearchConfig
from index.answer.fuse import Candidate
from index.answer.question import parse, weighed
from index.answer.rerank import rerank
from index.answer.sentences import best_cosines, sentence_cosines
from index.build.reindex import reindex_articles
from index.engine import Engine
from index.ingest.articles import make_article
from tests.fakes import HashingEmbedder

# The words of the question are in the lead; what it asks (who does the work) is in the last sentence, which
# shares only "bridge" with it: by words, the quote is the lead and its two next sentences.
BRIDGE = ("The old harbour bridge will be repaired over eleven weeks from Monday, the city said on Friday. "
          "Ferries will run every ten minutes between the two banks while the road stays shut to all cars. "
          "Shop owners on the quays fear that fewer visitors will come during the summer months this year. "
          "The mayor promised some help to the shops that lose the most during the long months of works. "
          "Traffic will be diverted through the northern ring road, adding some minutes to most commutes. "
          "A crew of welders from Lyon will mend the bridge's rusted steel cables.")  # fmt: skip
QUESTION = "Who will repair the bridge?"
MEANING = "welders"  # the fake model's stand-in for "this sentence answers the question"


class MeaningEmbedder(HashingEmbedder):
    """Questions, and texts holding MEANING, point one way; every other text another: a model that knows the
    welders are who repairs, whatever the words."""

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dimension, dtype=np.float32)
        v[0 if text.endswith("?") or MEANING in text else 1] = 1.0
        return v


def _build(root, sentence_vectors: bool):
    embedder = MeaningEmbedder()
    other = "Cyclists in Lyon can ride a new lane along the river since Tuesday. It runs for seven kilometres."
    articles = [make_article(key=key, text=text, path=None, fallback_title=key, meta={"title": key, "lang": "en"})
                for key, text in (("bridge", BRIDGE), ("lane", other))]  # fmt: skip
    engine = Engine(root, embedder)
    reindex_articles(engine.dir, articles, embedder, replace(engine.build, sentence_vectors=sentence_vectors))
    return root, embedder


@pytest.fixture
def index(tmp_path):
    return _build(tmp_path / "index", sentence_vectors=True)


@pytest.fixture
def old_index(tmp_path):
    """An index whose segments hold no sentence vectors (written before them)."""
    return _build(tmp_path / "old", sentence_vectors=False)


def _ask(index, **config):
    root, embedder = index
    return Engine(root, embedder, SearchConfig(min_confidence=0.0, **config)).ask(QUESTION, k=1)


def test_a_sentence_that_answers_in_other_words_is_quoted_when_meaning_counts(index):
    words_only = _ask(index, sentence_dense_same=0.0).quotes[0]
    assert words_only.text.startswith("The old harbour bridge") and MEANING not in words_only.text
    by_meaning = _ask(index, sentence_dense_same=1.0, rerank_dense=0.5)
    assert MEANING in by_meaning.quotes[0].text
    assert by_meaning.evidence["sentence_dense"] == pytest.approx(1.0, abs=1e-3)  # its best sentence's cosine


def test_an_index_without_sentence_vectors_quotes_by_words_in_the_question_language(old_index):
    """Embedding the sentences at question time costs about a second: an index written before sentence vectors
    answers as it did then (by words in the question's language) until a forced reindex adds them."""
    _, embedder = old_index
    before = embedder.documents_encoded
    answer = _ask(old_index, sentence_dense_same=1.0, rerank_dense=0.5)
    assert answer.quotes[0].text.startswith("The old harbour bridge") and MEANING not in answer.quotes[0].text
    assert embedder.documents_encoded == before  # no sentence embedded at question time
    assert answer.evidence["sentence_dense"] == pytest.approx(answer.evidence["dense"])  # the passage's cosine


def test_stored_sentence_vectors_spare_the_model_at_question_time(index, old_index):
    store, embedder, pids, cands, qvec = _every_passage(index)
    before = embedder.documents_encoded
    stored = sentence_cosines(store, embedder, cands, qvec)
    assert embedder.documents_encoded == before  # no sentence embedded
    old_root, old_embedder = old_index
    old = Engine(old_root, old_embedder).snapshot
    embedded = sentence_cosines(old, old_embedder, cands, qvec)
    assert old_embedder.documents_encoded > 0
    assert set(stored) == set(embedded) == set(pids)
    for p in pids:  # the same cosines, within float16
        assert np.allclose(stored[p], embedded[p], atol=2e-3)
    assert max(np.max(v) for v in stored.values()) == pytest.approx(1.0, abs=1e-3)


def test_without_sentence_cosines_the_evidence_reads_the_passage_cosine(index):
    answer = _ask(index, sentence_dense_same=0.0)
    assert answer.evidence["sentence_dense"] == pytest.approx(answer.evidence["dense"])


def test_without_stored_vectors_sentences_are_embedded_in_one_batch_and_never_twice(old_index):
    store, embedder, pids, cands, qvec = _every_passage(old_index)
    before = embedder.calls
    first = sentence_cosines(store, embedder, cands[:1], qvec)
    assert embedder.calls == before + 1 and len(first[pids[0]]) == len(store.passages(pids[:1])[pids[0]].sentences)
    embedded = embedder.documents_encoded
    both = sentence_cosines(store, embedder, cands, qvec, known=first)
    assert set(both) == set(pids) and np.array_equal(both[pids[0]], first[pids[0]])
    assert embedder.documents_encoded - embedded == len(store.passages(pids[1:2])[pids[1]].sentences)
    assert sentence_cosines(store, embedder, cands, None) == {}  # an empty index has no question vector
    calls = embedder.calls
    assert sentence_cosines(store, embedder, cands, qvec, embed=False) == {}  # stored vectors only: none here
    assert embedder.calls == calls


def _passage_ids(store, embedder) -> list[int]:
    return sorted(store.dense(embedder.encode_queries([QUESTION]), k=store.size))


def _every_passage(index):
    """The served store of `index`, its embedder, every passage id, each as a candidate, and the question's vector."""
    root, embedder = index
    store = Engine(root, embedder).snapshot
    pids = _passage_ids(store, embedder)
    cands = [Candidate(pid=p, article=p, dense=0.0, lexical=0.0, fused=1.0) for p in pids]
    return store, embedder, pids, cands, embedder.encode_queries([QUESTION])


@pytest.mark.parametrize(("cosines", "expected"), [
    ({1: [0.2, 0.9], 2: [0.5], 3: [0.7, 0.1]}, {1: 1.0, 2: 0.0, 3: 0.5}),
    ({1: [0.8], 2: [0.8]}, {1: 0.0, 2: 0.0}),  # no difference: no lift for anyone
    ({1: [0.8], 9: []}, {1: 0.0}),  # a passage without sentences gets nothing
])  # fmt: skip
def test_best_cosines_are_the_best_sentence_normalized_over_the_pool(cosines, expected):
    got = best_cosines({p: np.array(v) for p, v in cosines.items()}, [1, 2, 3, 9])
    assert got == pytest.approx(expected)


def test_the_best_sentence_cosine_lifts_a_passage_in_the_reranking(index):
    root, embedder = index
    store = Engine(root, embedder).snapshot
    pids = _passage_ids(store, embedder)
    bridge = next(p for p in pids if MEANING in store.passages([p])[p].text)
    lane = next(p for p in pids if p != bridge)
    # The lane passage comes first by its fused score; the bridge passage holds the sentence that answers.
    pool = [Candidate(pid=lane, article=lane, dense=0.0, lexical=0.0, fused=1.0),
            Candidate(pid=bridge, article=bridge, dense=0.0, lexical=0.0, fused=0.2)]  # fmt: skip
    terms = weighed(parse(QUESTION, 2000).terms, store.terms(0.9, 0.6))
    cosines = sentence_cosines(store, embedder, pool, embedder.encode_queries([QUESTION]))
    assert rerank(pool, store, terms, 0.0, cosines, 0.0).order[0].pid == lane
    assert rerank(pool, store, terms, 0.0, cosines, 1.0).order[0].pid == bridge
