"""The admins' view of the votes: counts per vote, the most flagged articles and questions."""

from __future__ import annotations

from collections.abc import Sequence

from index.feedback.records import VOTES, FeedbackSummary, Flagged
from index.text.normalize import fold


def summarize(rows: Sequence[tuple], answers: int, since_days: float | None, limit: int,
              effects_since: str | None) -> FeedbackSummary:  # fmt: skip
    """Aggregate vote rows (vote, question, lang, first quote's article key, its title) into a summary.

    Questions are grouped by their folded words ("Who?" and "who" are one question), articles by key; both are
    ranked by their flags (wrong quote + outdated votes), then by votes, and only flagged ones are listed.
    """
    counts = dict.fromkeys(VOTES, 0)
    articles: dict[str, tuple[str, dict[str, int]]] = {}
    questions: dict[str, tuple[str, str, dict[str, int]]] = {}
    for vote, question, lang, key, title in rows:
        counts[vote] = counts.get(vote, 0) + 1
        if key is not None:
            tally = articles.setdefault(key, (title, dict.fromkeys(VOTES, 0)))[1]
            tally[vote] += 1
        folded = " ".join(fold(question).split()).rstrip(" ?!.")
        tally = questions.setdefault(folded, (question, lang, dict.fromkeys(VOTES, 0)))[2]
        tally[vote] += 1
    return FeedbackSummary(
        since_days=since_days,
        votes=counts,
        answers=answers,
        articles=_most_flagged([Flagged(title, key, votes) for key, (title, votes) in articles.items()], limit),
        questions=_most_flagged([Flagged(q, lang, votes) for q, lang, votes in questions.values()], limit),
        effects_since=effects_since,
    )


def _most_flagged(items: list[Flagged], limit: int) -> tuple[Flagged, ...]:
    flagged = [f for f in items if f.flags]
    return tuple(sorted(flagged, key=lambda f: (-f.flags, -sum(f.votes.values()), f.label))[:limit])
