"""The conversations the bot keeps: the last turns per conversation, forgotten after a silence, bounded in
number; and the answer's buttons within Discord's limits."""

from __future__ import annotations

import pytest

from bot.answer_buttons import FeedbackButton, ThreadButton, new_answer_id, with_answer_buttons
from bot.conversations import Conversations
from index.answer.conversation import Turn


def turn(question: str) -> Turn:
    return Turn(question=question, lang="en", terms=(), names=(), articles=())


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_reply_chain_keeps_its_last_turns_oldest_first():
    talks = Conversations(turns=2, minutes=30)
    talks.add(100, turn("first"), answer_id=100)
    assert talks.key_of(100) == 100
    talks.add(100, turn("second"), answer_id=101)
    talks.add(100, turn("third"), answer_id=102)
    assert [t.question for t in talks.turns(100)] == ["second", "third"]
    assert talks.key_of(102) == 100 and talks.key_of(101) == 100
    assert talks.key_of(100) is None  # its turn fell out: a reply to it starts over
    assert talks.turns(None) == () and talks.turns(999) == ()


def test_silence_forgets_a_conversation():
    clock = Clock()
    talks = Conversations(turns=5, minutes=1, clock=clock)
    talks.add(1, turn("a"), answer_id=1)
    clock.now = 59
    talks.add(1, turn("b"), answer_id=2)  # each turn restarts the silence
    clock.now = 118
    assert len(talks.turns(1)) == 2
    clock.now = 180
    assert talks.turns(1) == () and talks.key_of(2) is None and len(talks) == 0


def test_expired_conversations_are_dropped_even_if_never_asked_again():
    clock = Clock()
    talks = Conversations(turns=5, minutes=1, clock=clock)
    for key in range(10):
        talks.add(key, turn("q"), answer_id=key)
    clock.now = 61
    talks.add(99, turn("new"), answer_id=99)
    assert len(talks) == 1


def test_at_most_limit_conversations_the_longest_silent_dropped_first():
    clock = Clock()
    talks = Conversations(turns=5, minutes=30, limit=3, clock=clock)
    for key in (1, 2, 3):
        clock.now += 1
        talks.add(key, turn(str(key)), answer_id=key * 10)
    clock.now += 1
    talks.add(1, turn("again"), answer_id=11)  # 1 spoke last: 2 is now the longest silent
    talks.add(4, turn("4"), answer_id=40)
    assert len(talks) == 3 and talks.turns(2) == () and talks.key_of(20) is None
    assert [t.question for t in talks.turns(1)] == ["1", "again"]


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_answer_buttons_fit_discord_limits(lang):
    answer_id = new_answer_id()
    assert len(answer_id) == 16 and int(answer_id, 16) >= 0
    view = with_answer_buttons(None, answer_id, lang, thread=True)
    items = view.children
    assert [type(i) for i in items] == [FeedbackButton] * 3 + [ThreadButton]
    for item in items:
        assert 0 < len(item.item.label) <= 80 and len(item.item.custom_id) <= 100
    assert view.timeout is None  # persistent: the ids are in the custom_ids
    assert with_answer_buttons(None, None, lang, thread=False) is None
    view.stop()
