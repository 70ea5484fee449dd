"""A small bridge story over a real Engine (hashing embedder), and the feedback store beside its index."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.engine import Engine
from index.feedback import FeedbackStore, feedback_path
from index.stories.follows import model_of
from tests.conftest import ARTICLES, write
from tests.fakes import HashingEmbedder

# The same story three months later: it answers the cost question too, in other words than the question's, so
# the first article stays first (re-ranked about 1.3 against 0.95 here) until readers say otherwise.
REOPENS = """
    title: Harbour bridge reopens after its repairs
    date: 2025-06-01
    source: Example News
    lang: en

    The harbour bridge reopened on Monday after eleven weeks of repairs to its steel cables. The council said the bill for the work came to 45 million euros.
    """
COST = "How much will the harbour bridge repairs cost?"


class Desk:
    """An engine, its feedback store, and what the bot does around them: remember each answer, refresh."""

    def __init__(self, root: Path):
        for name, text in ARTICLES.items():
            write(root / "articles" / name, text)
        write(root / "articles" / "reopens.txt", REOPENS)
        self.engine = Engine(root / "index", HashingEmbedder())
        self.engine.reindex([root / "articles"])
        self.store = FeedbackStore(feedback_path(root / "index"), index=lambda: self.engine.snapshot)
        self.store.on_change(self.refresh)
        self.answers = 0

    def refresh(self) -> None:
        self.engine.feedback = self.store.effects(model=model_of(self.engine), same_question=self.engine.profile.same_question)

    def ask(self, question: str, *, guild: int | None = 1):
        """Answer as the bot would, remembering the answer; return (answer id, answer)."""
        answer = self.engine.ask(question)
        self.answers += 1
        answer_id = f"{self.answers:016x}"
        self.store.remember(answer_id, guild_id=guild, channel_id=10, answer=answer, model=model_of(self.engine),
                            question_vector=self.engine.embedder.encode_queries([question])[0])  # fmt: skip
        return answer_id, answer

    def first(self, question: str) -> tuple[int, str] | None:
        """The first quote of the answer now: (passage id, article title); None when it abstains."""
        answer = self.engine.ask(question)
        return (answer.quotes[0].passage_id, answer.quotes[0].article.title) if answer.quotes else None


@pytest.fixture
def desk(tmp_path) -> Desk:
    d = Desk(tmp_path)
    yield d
    d.store.close()
