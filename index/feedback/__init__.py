"""Readers' votes on answers: the store beside the index and what they change in the next answers (issue 15)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

VOTES = ("helpful", "wrong_quote", "outdated")


@dataclass(frozen=True)
class FeedbackEffects:
    """What the votes change in the next answers (filled in by the store)."""


def feedback_path(index_dir: Path | str) -> Path:
    """Where the votes on an index's answers live: beside the index folder, never inside a version of it."""
    index_dir = Path(index_dir)
    return index_dir.with_name(index_dir.name + ".feedback.sqlite")


__all__ = ["VOTES", "FeedbackEffects", "feedback_path"]
