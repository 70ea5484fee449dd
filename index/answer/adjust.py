"""Apply what readers said about earlier answers to the re-ranked passages (issue 15)."""

from __future__ import annotations

import numpy as np

from index.answer.rerank import Reranked
from index.feedback import FeedbackEffects
from index.store.base import Store


def apply_feedback(top: Reranked, store: Store, qvec: np.ndarray | None, effects: FeedbackEffects | None) -> Reranked:
    """Demote what readers flagged for this question; identity when there are no effects."""
    return top  # the identity until the effects land (part B of issue 15)
