"""Whether to answer: a logistic confidence over the evidence, and what to offer instead of an answer."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from index.answer.fuse import Candidate
from index.records import ArticleRef, Passage
from index.stories.duplicates import near_duplicate

RELATED = 3  # articles offered as related reading when the answer abstains


def confidence(evidence: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """Probability-like confidence (0..1) that the best passage answers: `weights` over the features, "bias"
    standing for a constant 1 (a profile's logistic model, index/tuning.py)."""
    z = sum(w * (1.0 if k == "bias" else evidence.get(k, 0.0)) for k, w in weights.items())
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))  # clamped: exp overflows past about 700


def related(ranked: Sequence[Candidate], articles: Mapping[int, ArticleRef],
            passages: Mapping[int, Passage] | None = None) -> tuple[ArticleRef, ...]:  # fmt: skip
    """The first RELATED distinct articles of the ranking; of two copies of a story (their passages in
    `passages` near-duplicates), the first only."""
    out: dict[int, ArticleRef] = {}
    shown: list[str] = []  # the texts of the listed passages that `passages` holds
    for cand in ranked:
        text = (passages or {}).get(cand.pid)
        text = text.text if text is not None else None
        if cand.article in out or (text is not None and any(near_duplicate(text, t) for t in shown)):
            continue
        out[cand.article] = articles[cand.article]
        if text is not None:
            shown.append(text)
        if len(out) >= RELATED:
            break
    return tuple(out.values())
