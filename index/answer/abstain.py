"""Whether to answer: a logistic confidence over the evidence, and what to offer instead of an answer."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from index.answer.fuse import Candidate
from index.records import ArticleRef

RELATED = 3  # articles offered as related reading when the answer abstains


def confidence(evidence: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """Probability-like confidence (0..1) that the best passage answers: `weights` over the features, "bias"
    standing for a constant 1 (a profile's logistic model, index/tuning.py)."""
    z = sum(w * (1.0 if k == "bias" else evidence.get(k, 0.0)) for k, w in weights.items())
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))  # clamped: exp overflows past about 700


def related(ranked: Sequence[Candidate], articles: Mapping[int, ArticleRef]) -> tuple[ArticleRef, ...]:
    """The first RELATED distinct articles of the ranking."""
    out: dict[int, ArticleRef] = {}
    for cand in ranked:
        if cand.article not in out:
            out[cand.article] = articles[cand.article]
        if len(out) >= RELATED:
            break
    return tuple(out.values())
