"""index/embedding/cache.py: CachedEmbedder encodes each text once, keeps the wrapped embedder's identity, and
leaves a store it may only read as it found it."""

from __future__ import annotations

import numpy as np

from index.embedding import CachedEmbedder, identity_of
from tests.fakes import HashingEmbedder


class Counting(HashingEmbedder):
    """HashingEmbedder that records every text it is asked to encode, and declares an identity."""

    def __init__(self):
        super().__init__(name="counting")
        self.identity = {"model": "counting", "weights": "0123456789abcdef", "backend": "test", "precision": "fp32"}
        self.asked: list[str] = []

    def encode_queries(self, texts):
        self.asked += texts
        return super().encode_queries(texts)

    def encode_documents(self, texts, progress=None):
        self.asked += texts
        return super().encode_documents(texts, progress)


def test_each_text_is_encoded_once():
    inner = Counting()
    cached = CachedEmbedder(inner, queries={}, documents={})
    first = cached.encode_documents(["bridge closes", "tram opens", "bridge closes"])
    again = cached.encode_documents(["tram opens", "ferry sails"])
    assert inner.asked == ["bridge closes", "tram opens", "ferry sails"]
    assert np.array_equal(again[0], first[1]) and np.array_equal(first[0], first[2])
    assert np.array_equal(again, inner.encode_documents(["tram opens", "ferry sails"]))
    assert cached.embedded == 3
    cached.encode_queries(["when?", "when?"])
    cached.encode_queries(["when?"])
    assert inner.asked[-1:] == ["when?"] and inner.asked.count("when?") == 1


def test_it_is_the_wrapped_embedder_to_an_index():
    inner = Counting()
    cached = CachedEmbedder(inner)
    assert identity_of(cached) == inner.identity and cached.name == "counting" and cached.dimension == 64


def test_without_stores_every_call_goes_through():
    inner = Counting()
    cached = CachedEmbedder(inner)
    seen: list[int] = []
    cached.encode_documents(["bridge closes"] * 2, progress=seen.append)
    cached.encode_queries(["when?"])
    cached.encode_queries(["when?"])
    assert inner.asked == ["bridge closes", "bridge closes", "when?", "when?"]
    assert cached.embedded == 2 and seen == [2]


def test_a_store_it_may_only_read_stays_as_it_was():
    inner = Counting()
    store = {"bridge closes": inner.encode_documents(["tram opens"])[0]}  # a cached vector, whatever it was
    inner.asked.clear()
    cached = CachedEmbedder(inner, documents=store, remember=False)
    out = cached.encode_documents(["bridge closes", "ferry sails"])
    assert np.array_equal(out[0], store["bridge closes"])  # served from the store, not re-encoded
    cached.encode_documents(["ferry sails"])
    assert inner.asked == ["ferry sails", "ferry sails"] and set(store) == {"bridge closes"}
    assert cached.embedded == 2
