"""Fusion on fixed scores: the convex weights, RRF's ranks, the baselines, the date boost, the order."""

import numpy as np
import pytest
from pytest import approx

from index.answer.fuse import convex, dense_only, lexical_only, ranked, rrf, with_dates
from index.answer.retrieve import Found
from index.records import ArticleRef
from index.text.dates import DateHint


def found(dense, lexical, cross=None) -> Found:
    n = len(dense)
    return Found(pids=tuple(range(10, 10 * n + 1, 10)), articles=tuple(range(1, n + 1)),
                 dense=np.array(dense, dtype=np.float32), lexical=np.array(lexical, dtype=np.float32),
                 cross=np.array(cross or [False] * n, dtype=bool))  # fmt: skip


@pytest.mark.parametrize("weight, expected", [
    (1.0, [1.0, 0.5, 0.0]),  # dense alone, min-max normalized
    (0.0, [0.0, 0.5, 1.0]),  # BM25 alone, divided by its best
    (0.5, [0.5, 0.5, 0.5]),
    (0.8, [0.8, 0.5, 0.2]),
])  # fmt: skip
def test_convex_weighs_the_normalized_scores(weight, expected):
    assert convex(found([0.9, 0.8, 0.7], [0.0, 2.0, 4.0]), weight).scores == approx(expected)


def test_convex_ranks_a_passage_in_another_language_by_its_dense_score_alone():
    fused = convex(found([0.9, 0.8, 0.7], [0.0, 2.0, 4.0], cross=[False, True, False]), 0.2)
    assert fused.scores == approx([0.2, 0.5, 0.8]) and fused.cross.tolist() == [False, True, False]


def test_convex_without_words_or_spread():
    assert convex(found([0.5, 0.5], [0.0, 0.0]), 0.3).scores == approx([0.3, 0.3])  # no spread: dense counts 1


def test_rrf_adds_reciprocal_ranks():
    fused = rrf(found([0.9, 0.8, 0.7], [1.0, 3.0, 2.0], cross=[True, True, True]), 0.9)
    assert fused.scores == approx([1 / 61 + 1 / 63, 1 / 62 + 1 / 61, 1 / 63 + 1 / 62])
    assert not fused.cross.any()  # a baseline does not judge across languages


@pytest.mark.parametrize("baseline, weight", [(lexical_only, 0.0), (dense_only, 1.0)])
def test_baselines_are_the_convex_fusion_at_its_ends(baseline, weight):
    rng = np.random.default_rng(7)
    f = found(rng.random(50).tolist(), (rng.random(50) * 9).tolist(), cross=(rng.random(50) < 0.3).tolist())
    plain = Found(f.pids, f.articles, f.dense, f.lexical, np.zeros(50, dtype=bool))
    assert np.array_equal(baseline(f, 0.5).scores, convex(plain, weight).scores)  # exactly: the figures hold
    assert not baseline(f, 0.5).cross.any()


def test_date_boost_lifts_the_articles_dated_in_the_question_s_range():
    f = found([0.9, 0.8, 0.7], [0, 0, 0])
    articles = {i: ArticleRef(i, "t", date, None, None, None, "en")
                for i, date in [(1, "2024-03-02"), (2, "2025-05-14"), (3, None)]}  # fmt: skip
    scores = np.array([0.5, 0.5, 0.5], dtype=np.float32)
    hint = DateHint("2025-05-01", "2025-05-31", "en mai 2025")
    assert with_dates(f, scores, articles, hint, 0.1) == approx([0.5, 0.6, 0.5])
    assert with_dates(f, scores, articles, None, 0.1) is scores
    assert scores == approx([0.5, 0.5, 0.5])  # not changed in place


def test_ranked_best_first_ties_in_passage_order():
    f = found([0.1, 0.2, 0.3, 0.4], [1, 2, 3, 4], cross=[False, False, True, False])
    cands = ranked(f, np.array([0.5, 0.9, 0.5, 0.1], dtype=np.float32), f.cross)
    assert [c.pid for c in cands] == [20, 10, 30, 40]
    assert (cands[2].article, cands[2].dense, cands[2].lexical, cands[2].cross) == (3, approx(0.3), 3.0, True)
