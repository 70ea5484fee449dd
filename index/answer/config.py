"""The knobs of answering that a setting or a caller may choose (the numbers behind them: index/tuning.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from index.tuning import CANDIDATES, DATE_BOOST, DUPLICATE_OVERLAP, RERANK_DEPTH, Profile


@dataclass(frozen=True)
class SearchConfig:
    """Retrieval and answering knobs. The numbers fitted per model live in index/tuning.py (profiles); a field
    here left at None takes the profile's value, one set here overrides it (a setting, a fitting grid)."""

    k: int = 3
    candidates: int = CANDIDATES
    max_per_article: int = 1
    max_question_chars: int = 2000
    date_boost: float = DATE_BOOST
    duplicate_overlap: float = DUPLICATE_OVERLAP
    more: int = 6  # quotes kept for the "More" button
    ranking_depth: int = 20  # article ids kept in Answer.ranking, for evaluation
    rerank_depth: int = RERANK_DEPTH
    # Overrides of the profile (None: the profile's value).
    dense_weight: dict | None = None
    min_confidence: float | None = None
    confidence_weights: dict | None = None
    bm25_k1: float | None = None
    bm25_b: float | None = None
    sentence_weight: float | None = None
    min_relative_score: float | None = None
    sentence_dense: float | None = None
    sentence_dense_same: float | None = None
    rerank_dense: float | None = None
    rerank_weights: dict | None = None
    multilingual: bool | None = None

    def tuned(self, profile: Profile) -> Profile:
        """The profile with this config's overrides applied."""
        names = ("dense_weight", "min_confidence", "confidence_weights", "bm25_k1", "bm25_b", "sentence_weight",
                 "min_relative_score", "sentence_dense", "sentence_dense_same", "rerank_dense", "rerank_weights",
                 "multilingual")  # fmt: skip
        return replace(profile, **{n: getattr(self, n) for n in names if getattr(self, n) is not None})
