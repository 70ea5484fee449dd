"""Readers' votes on answers: the store beside the index and what they change in the next answers (issue 15).

`store.py` keeps the votes (SQLite beside the index folder, never inside a version), `export.py` turns them
into a QA set for `newsdesk eval`, and index/answer/adjust.py applies their effects after re-ranking.
"""

from __future__ import annotations

from index.feedback.records import VOTES, Demotion, FeedbackEffects, FeedbackSummary, Flagged
from index.feedback.store import FeedbackStore, feedback_path

__all__ = ["VOTES", "Demotion", "FeedbackEffects", "FeedbackStore", "FeedbackSummary", "Flagged", "feedback_path"]
