"""Fuse the dense and lexical scores of the candidates into one ranking.

Two interchangeable fusions with one signature (`Fusion`): `convex`, the one Newsdesk answers with, and the
evaluation baselines `rrf`, `lexical_only` and `dense_only` (index/evaluation.py swaps this stage to measure
them). None of the baselines lets the dense score stand in for shared words across languages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from index.answer.retrieve import Found
from index.records import ArticleRef
from index.text.dates import DateHint, in_range
from index.tuning import RRF_K


@dataclass(frozen=True)
class Fused:
    """One score per candidate of a `Found`, in its order."""

    scores: np.ndarray
    # Judged across languages: ranked by meaning, so the later stages do not expect shared words either.
    cross: np.ndarray


@dataclass(frozen=True)
class Candidate:
    """A passage on its way to the answer, with its scores."""

    pid: int
    article: int
    dense: float  # cosine with the question
    lexical: float  # BM25 score
    fused: float
    # In another language than the question (with a multilingual model): ranked by its dense score, its quote
    # chosen by meaning (index/answer/quotes.py `requote_by_meaning`).
    cross: bool = False


Fusion = Callable[[Found, float], Fused]  # (candidates, the dense weight for the question's language)


def convex(found: Found, dense_weight: float) -> Fused:
    """Min-max normalized dense and max-normalized BM25 scores, weighted; dense alone across languages."""
    d_n = _minmax(found.dense)
    lx = found.lexical
    l_n = lx / lx.max() if lx.max() > 0 else np.zeros_like(lx)
    fused = dense_weight * d_n + (1 - dense_weight) * l_n
    # Across languages BM25 only finds shared names and numbers, often in the wrong passage (make eval: letting
    # it add cost 1.3 to 1.9 points of R@1 against dense alone on the three XQuAD pairs): a passage in another
    # language is ranked by its dense score alone.
    return Fused(np.where(found.cross, d_n, fused), found.cross)


def rrf(found: Found, dense_weight: float) -> Fused:
    """Reciprocal rank fusion of the two rankings (a baseline: the weight is not used)."""
    scores = 1 / (RRF_K + _ranks(-found.dense)) + 1 / (RRF_K + _ranks(-found.lexical))
    return Fused(scores, _nowhere(found))


def lexical_only(found: Found, dense_weight: float) -> Fused:
    """BM25 alone, max-normalized (a baseline)."""
    lx = found.lexical
    return Fused(lx / lx.max() if lx.max() > 0 else np.zeros_like(lx), _nowhere(found))


def dense_only(found: Found, dense_weight: float) -> Fused:
    """The dense score alone, min-max normalized (a baseline)."""
    return Fused(_minmax(found.dense), _nowhere(found))


def with_dates(found: Found, scores: np.ndarray, articles: Mapping[int, ArticleRef], hint: DateHint | None,
               boost: float) -> np.ndarray:  # fmt: skip
    """`scores` plus `boost` for the candidates whose article is dated in the question's range."""
    if hint is None or not boost:
        return scores
    dated = np.zeros(len(scores), dtype=bool)
    for j, aid in enumerate(found.articles):
        ref = articles.get(aid)
        dated[j] = bool(ref and ref.date and in_range(ref.date, hint.since, hint.until))
    out = scores.copy()
    out[dated] += boost
    return out


def ranked(found: Found, scores: np.ndarray, cross: np.ndarray) -> list[Candidate]:
    """The candidates best first (ties in passage id order)."""
    order = np.argsort(-scores, kind="stable")
    return [Candidate(found.pids[j], found.articles[j], float(found.dense[j]), float(found.lexical[j]),
                      float(scores[j]), bool(cross[j])) for j in order]  # fmt: skip


def scaled(values: Mapping[int, float]) -> dict[int, float]:
    """Passage id -> its value min-max normalized over them (0 everywhere when they do not differ)."""
    if not values:
        return {}
    low, high = min(values.values()), max(values.values())
    return {p: (v - low) / (high - low) if high > low else 0.0 for p, v in values.items()}


def _minmax(values: np.ndarray) -> np.ndarray:
    low, high = values.min(), values.max()
    return (values - low) / (high - low) if high > low else np.ones_like(values)


def _nowhere(found: Found) -> np.ndarray:
    return np.zeros(len(found.pids), dtype=bool)


def _ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of `values`, smallest first."""
    ranks = np.empty(len(values), dtype=np.float32)
    ranks[np.argsort(values, kind="stable")] = np.arange(1, len(values) + 1)
    return ranks
