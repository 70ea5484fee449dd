"""What the feedback store hands out: the effects the next answers read, and the summary admins read."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

VOTES = ("helpful", "wrong_quote", "outdated")


@dataclass(frozen=True)
class Demotion:
    """A passage readers said does not answer a question: its article, the quote they saw, the question."""

    article_key: str
    quote: str  # the quoted text: the passage of that article holding it is the one demoted
    question: str
    vector: np.ndarray = field(repr=False, compare=False)  # the question's, by the model that serves the index


@dataclass(frozen=True)
class FeedbackEffects:
    """What the votes change in the next answers (index/answer/adjust.py applies them)."""

    demoted: tuple[Demotion, ...] = ()
    outdated: frozenset[str] = frozenset()  # article keys marked outdated by an admin or enough members
    # The cosine of two question vectors from which they are one question (the model's Profile.same_question).
    same_question: float = 1.0

    @property
    def empty(self) -> bool:
        return not self.demoted and not self.outdated


@dataclass(frozen=True)
class Flagged:
    """An article (title, key) or a question (text, language) and its votes."""

    label: str
    key: str
    votes: dict[str, int]

    @property
    def flags(self) -> int:
        return self.votes.get("wrong_quote", 0) + self.votes.get("outdated", 0)


@dataclass(frozen=True)
class FeedbackSummary:
    """The votes of the last `since_days` days (all of them when None), for /feedback and the CLI."""

    since_days: float | None
    votes: dict[str, int]  # every vote of VOTES, 0 when none
    answers: int  # answers that got at least one vote
    articles: tuple[Flagged, ...]  # most flagged first (wrong quote + outdated votes)
    questions: tuple[Flagged, ...]  # key: the question's language
    effects_since: str | None = None  # when `newsdesk feedback --reset` last cleared the effects (ISO, UTC)

    def to_dict(self) -> dict:
        return asdict(self)
