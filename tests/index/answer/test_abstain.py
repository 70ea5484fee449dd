"""The abstention model: a logistic confidence over the evidence; related reading instead of an answer."""

import math

import pytest
from pytest import approx

from index.answer.abstain import confidence, related
from index.answer.evidence import rival
from index.answer.fuse import Candidate
from index.records import ArticleRef, Passage


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


STORY = "The harbour bridge repairs will cost 42 million euros, the city said on Monday. Ferries will run meanwhile."
COPY = "The harbour bridge repairs will cost 42 million euros, the city said on Monday. Ferries will keep running."
OTHER = "A comet will pass close to the Sun in April, two amateur astronomers said."


def _passages(*texts):
    return {i: Passage(i, i, 0, 0, len(t), t, ((0, len(t)),), "en") for i, t in enumerate(texts)}


@pytest.mark.parametrize("texts, expected", [
    ((STORY, OTHER), 0.88),  # the next passage
    ((STORY, COPY, OTHER), 0.5),  # a copy of the story is no rival: the next other one is
    ((STORY, COPY), 0.0),  # nothing but copies: no rival at all
    ((STORY, STORY[:60] + " Shops will stay open.", OTHER), 0.5),  # half of it repeated: still a copy
])  # fmt: skip
def test_the_rival_of_the_best_passage_is_not_a_copy_of_it(texts, expected):
    passages = _passages(*texts)
    ranked = [Candidate(p, p, 0.0, 0.0, 1.0) for p in passages]
    final = {0: 0.9, 1: 0.88, 2: 0.5}
    assert rival(ranked, {p: final[p] for p in passages}, passages) == expected


def test_related_reading_names_a_story_carried_twice_once():
    refs = {i: ArticleRef(i, f"a{i}", None, None, None, None, "en") for i in range(4)}
    passages = _passages(STORY, COPY, OTHER, "Shops in the old town will close early on Sunday.")
    ranked = [Candidate(p, p, 0.0, 0.0, 1.0) for p in passages]
    assert [r.id for r in related(ranked, refs, passages)] == [0, 2, 3]
    assert [r.id for r in related(ranked, refs)] == [0, 1, 2]  # without the texts, nothing to tell copies by
