"""The conversations the bot keeps, in memory only: per thread or reply chain, the last turns, forgotten after
a silence. Nothing of it is written to disk; a restart forgets every conversation (the next question is then
answered on its own)."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from index.answer.conversation import Turn

MAX_CONVERSATIONS = 1000  # beyond this, the conversation silent the longest is dropped


@dataclass
class _Conversation:
    turns: deque[Turn]
    answers: deque[int]  # the bot's answer messages in it: a reply to one of them continues it
    seen: float = field(default=0.0)


class Conversations:
    """Per conversation (a thread's id, or the id of a reply chain's first answer): its last `turns` turns.

    A conversation silent for `minutes` is forgotten; at most `limit` are kept, the longest silent dropped first.
    Used from the event loop only (no lock): every call is a few dictionary operations.
    """

    def __init__(self, turns: int, minutes: float, limit: int = MAX_CONVERSATIONS,
                 clock: Callable[[], float] = time.monotonic):  # fmt: skip
        self.max_turns, self.ttl, self.limit, self.clock = turns, minutes * 60, limit, clock
        self._by_key: OrderedDict[int, _Conversation] = OrderedDict()
        self._by_answer: dict[int, int] = {}  # answer message id -> conversation key

    def __len__(self) -> int:
        return len(self._by_key)

    def key_of(self, answer_id: int) -> int | None:
        """The conversation an answer message of the bot belongs to, while it is remembered."""
        key = self._by_answer.get(answer_id)
        return key if key is not None and self._live(key) is not None else None

    def turns(self, key: int | None) -> tuple[Turn, ...]:
        """The conversation's turns, oldest first; none for an unknown or expired conversation."""
        conversation = self._live(key) if key is not None else None
        return tuple(conversation.turns) if conversation else ()

    def add(self, key: int, turn: Turn, answer_id: int | None = None) -> None:
        """Record a question and its answer (sent as message `answer_id`) in conversation `key`."""
        conversation = self._live(key)
        if conversation is None:
            conversation = _Conversation(deque(maxlen=self.max_turns), deque(maxlen=self.max_turns))
            self._by_key[key] = conversation
        conversation.turns.append(turn)
        if answer_id is not None:
            if len(conversation.answers) == conversation.answers.maxlen:
                self._by_answer.pop(conversation.answers[0], None)
            conversation.answers.append(answer_id)
            self._by_answer[answer_id] = key
        conversation.seen = now = self.clock()
        self._by_key.move_to_end(key)
        # Oldest silence first: drop what expired, then what is over the limit.
        while self._by_key:
            oldest = next(iter(self._by_key))
            if len(self._by_key) <= self.limit and now - self._by_key[oldest].seen <= self.ttl:
                break
            self._drop(oldest)

    def _live(self, key: int) -> _Conversation | None:
        conversation = self._by_key.get(key)
        if conversation is not None and self.clock() - conversation.seen > self.ttl:
            self._drop(key)
            return None
        return conversation

    def _drop(self, key: int) -> None:
        conversation = self._by_key.pop(key)
        for answer_id in conversation.answers:
            self._by_answer.pop(answer_id, None)
