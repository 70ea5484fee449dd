"""The abstention model: a logistic confidence over the evidence; related reading instead of an answer."""

import math

import pytest
from pytest import approx

from index.answer.abstain import confidence, related
from index.answer.fuse import Candidate
from index.records import ArticleRef


@pytest.mark.parametrize("evidence, weights, expected", [
    ({}, {"bias": 0.0}, 0.5),
    ({"dense": 0.5}, {"bias": -2.0, "dense": 4.0}, 0.5),
    ({"dense": 0.8, "margin": 0.1}, {"bias": -2.0, "dense": 4.0, "margin": 2.0}, 1 / (1 + math.exp(-1.4))),
    ({"dense": 0.8}, {"bias": -2.0, "names": 3.0}, 1 / (1 + math.exp(2.0))),  # a missing feature counts 0
    ({"dense": 1.0}, {"dense": 500.0}, 1 / (1 + math.exp(-30))),  # clamped, no overflow
    ({"dense": 1.0}, {"dense": -500.0}, 1 / (1 + math.exp(30))),
])  # fmt: skip
def test_logistic_confidence(evidence, weights, expected):
    assert confidence(evidence, weights) == approx(expected)


def test_related_names_the_first_three_articles_once():
    refs = {i: ArticleRef(i, f"a{i}", None, None, None, None, "en") for i in range(1, 6)}
    ranked = [Candidate(p, a, 0.0, 0.0, 1.0) for p, a in enumerate([2, 2, 5, 1, 3])]
    assert [r.id for r in related(ranked, refs)] == [2, 5, 1]
    assert related([], refs) == ()
