"""The pipeline over an in-memory store: one stage swapped changes the ranking; the rest reads as before."""

from dataclasses import replace

import numpy as np
import pytest

from index.answer.config import SearchConfig
from index.answer.fuse import dense_only, lexical_only, rrf
from index.answer.pipeline import Context, Pipeline
from index.errors import EmptyQuestion, IndexMissing
from index.tuning import CALIBRATION_B, CALIBRATION_K1, DEFAULT
from tests.index.answer.memory import Doc, MemoryStore

# Words point to article 1, meaning to article 2.
DOCS = [
    Doc(1, "The harbour bridge repairs will cost 42 million euros. Ferries will run meanwhile.", [0.0, 1.0]),
    Doc(2, "Work on the crossing over the port is budgeted at a large sum. Shops worry.", [1.0, 0.0]),
    Doc(3, "A comet will pass close to the Sun in April.", [0.7, 0.7]),
]


class FixedEmbedder:
    name, dimension = "fixed", 2

    def __init__(self):
        self.queries = 0

    def encode_queries(self, texts):
        self.queries += 1
        return np.array([[1.0, 0.0]], dtype=np.float32)

    def encode_documents(self, texts, progress=None):
        return np.zeros((len(texts), 2), dtype=np.float32)


def context(store, **profile) -> Context:
    return Context(store=lambda: store, embedder=FixedEmbedder(), profile=replace(DEFAULT, **profile),
                   config=SearchConfig())  # fmt: skip


@pytest.mark.parametrize("pipeline, first", [
    (Pipeline(fuse=lexical_only), 1),
    (Pipeline(fuse=dense_only), 2),
    (Pipeline(fuse=rrf), 2),  # the crossing is 1st by meaning, 2nd by words; the bridge 1st by words, 3rd by meaning
    (Pipeline(), 1),  # the default profile's English weight: BM25 gets half
])  # fmt: skip
def test_one_stage_swapped_reranks_the_same_candidates(pipeline, first):
    hits = pipeline.search(context(MemoryStore(DOCS)), "How much will the harbour bridge repairs cost?", k=3)
    assert hits[0].article.id == first and len(hits) == 3


def test_ask_quotes_verbatim_and_keeps_what_evaluation_reads():
    store = MemoryStore(DOCS)
    answer = Pipeline().ask(context(store, min_confidence=0.0), "How much will the harbour bridge repairs cost?")
    assert answer.answered and answer.lang == "en"
    quote = answer.quotes[0]
    assert "42 million euros" in quote.text and store.article_text(quote.article.id)[quote.start : quote.end] == quote.text
    assert answer.ranking[0] == 1 and set(answer.ranking) == {1, 2, 3}
    assert {"coverage", "dense", "lexical", "margin", "cross"} <= set(answer.evidence)
    assert ("lexical_scores", CALIBRATION_K1, CALIBRATION_B) in store.calls  # abstention reads the usual BM25
    assert ("lexical", DEFAULT.bm25_k1, DEFAULT.bm25_b) in store.calls  # the ranking, the profile's


def test_abstains_with_related_reading():
    answer = Pipeline().ask(context(MemoryStore(DOCS), min_confidence=1.01), "How much will the bridge cost?")
    assert not answer.answered and answer.quotes == () and [r.id for r in answer.related][:1] == [1]


def test_the_question_is_checked_before_the_index_is_read():
    def missing():
        raise IndexMissing("/nowhere")

    ctx = replace(context(MemoryStore(DOCS)), store=missing)
    with pytest.raises(EmptyQuestion):
        Pipeline().ask(ctx, "  ")
    with pytest.raises(ValueError, match="k must be at least 1"):
        Pipeline().ask(ctx, "bridge", k=0)
    with pytest.raises(IndexMissing):
        Pipeline().ask(ctx, "bridge")


def test_a_kept_query_vector_is_not_encoded_again():
    ctx = context(MemoryStore(DOCS))
    Pipeline().ask(ctx, "bridge repairs", query_vector=np.array([1.0, 0.0]))
    assert ctx.embedder.queries == 0
    Pipeline().ask(ctx, "bridge repairs")
    assert ctx.embedder.queries == 1
