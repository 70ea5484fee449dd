"""The per-article cap: a ranking is not one article over and over."""

import pytest

from index.answer.diversify import diversify
from index.answer.fuse import Candidate


def cands(articles):
    return [Candidate(pid=i, article=a, dense=0.0, lexical=0.0, fused=1.0 - i / 10) for i, a in enumerate(articles)]


@pytest.mark.parametrize("articles, cap, limit, kept", [
    ([1, 1, 2, 1, 3], 1, 10, [0, 2, 4]),
    ([1, 1, 2, 1, 3], 2, 10, [0, 1, 2, 4]),
    ([1, 1, 2, 1, 3], 3, 10, [0, 1, 2, 3, 4]),
    ([1, 1, 2, 1, 3], 1, 2, [0, 2]),
    ([], 1, 5, []),
])  # fmt: skip
def test_cap_per_article_keeps_the_order(articles, cap, limit, kept):
    assert [c.pid for c in diversify(cands(articles), cap, limit)] == kept
