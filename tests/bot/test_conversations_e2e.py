"""Follow-up questions through the loopback Discord, with the real bot, the real discord.py client and the real
model: a reply to an answer and a question in a bot thread are answered with their conversation's context (the
answer names the earlier question); a question that stands on its own is not pulled toward it; threads the
channel refuses leave the answer in the channel; the conversation expires and is never written to disk."""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.bot.test_bot_e2e import built_index, make_bot, workspace  # noqa: F401  (fixtures)
from tests.loopback import loopback_discord, running_bot
from tests.loopback.world import CREATE_PUBLIC_THREADS

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

COST = "How much will the harbour bridge repairs cost?"
CLOSED = "How long will it be closed?"
PISTE = "Combien a coûté la piste cyclable de Lyon ?"
COMET = "When will the comet pass closest to the Sun?"


def first_quote(text: str) -> str:
    """The first numbered quote and its source, as the member reads it (the lines before it left out)."""
    block = text.split("**1.**", 1)[1]
    return "**1.**" + re.split(r"\n\n(?:\*\*2\.\*\*|-# )", block, maxsplit=1)[0]


async def answered(server, bot, channel) -> dict:
    """The bot's next message in `channel`, once the bot has added it to its conversation.

    The bot records a turn when Discord has answered its send, which the loopback may deliver after a test's
    next message; a member is never that fast.
    """
    message = await server.wait_for_message(channel, timeout=30)
    await server.wait_for(lambda: bot.conversations.key_of(int(message["id"])), what="the turn recorded")
    return message


def files_under(folder) -> dict:
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


async def test_a_reply_to_an_answer_is_a_follow_up_without_a_mention(workspace, real_embedder):  # noqa: F811
    async with loopback_discord() as server:
        bot = make_bot(server, workspace, real_embedder)
        async with running_bot(bot, server):
            await server.send_user_message(COST, mention_bot=True)
            first = await answered(server, bot, "general")
            assert "42 million euros" in first["content"] and "Following up" not in first["content"]
            on_disk = files_under(workspace)
            reply = await server.send_user_message(CLOSED, reply_to=first, ping=False)
            assert reply["mentions"] == []  # the bot is not mentioned: only the reply tells it
            second = await answered(server, bot, "general")
            assert second["message_reference"]["message_id"] == reply["id"]
            assert second["content"].startswith(f"-# ↪ Following up on “{COST}”"), second["content"]
            assert "eleven weeks" in first_quote(second["content"])
            # the chain goes on from the follow-up's answer, which names the question it followed
            third_q = await server.send_user_message("Who said so?", reply_to=second, ping=False)
            third = await answered(server, bot, "general")
            assert third["message_reference"]["message_id"] == third_q["id"]
            assert third["content"].startswith(f"-# ↪ Following up on “{CLOSED}”"), third["content"]
            assert "Harbour bridge closes for repairs" in first_quote(third["content"])
            # chatter in reply to an answer is left alone, as in a Q&A channel
            await server.send_user_message("ok", reply_to=third, ping=False)
            # the same question asked on its own (a mention, no reply) has no context to follow
            await server.send_user_message(CLOSED, mention_bot=True, author="bob")
            fresh = await server.wait_for_message("general", timeout=30)
            assert "Following up" not in fresh["content"]
            await asyncio.sleep(0.5)
            assert len(server.bot_messages("general")) == 4
            assert files_under(workspace) == on_disk  # conversations live in memory only
        assert not server.pinging_sends()
        server.assert_clean()


async def test_a_conversation_is_forgotten_after_its_silence(workspace, real_embedder):  # noqa: F811
    async with loopback_discord() as server:
        bot = make_bot(server, workspace, real_embedder, conversation_minutes=0.02)  # 1.2 s
        async with running_bot(bot, server):
            await server.send_user_message(COST, mention_bot=True)
            first = await answered(server, bot, "general")
            await asyncio.sleep(1.5)
            await server.send_user_message(CLOSED, reply_to=first, ping=False)
            late = await server.wait_for_message("general", timeout=30)
            assert "Following up" not in late["content"]  # answered, on its own
        server.assert_clean()


async def test_always_threads_answer_follow_ups_and_standalone_questions(workspace, real_embedder):  # noqa: F811
    async with loopback_discord() as server:
        bot = make_bot(server, workspace, real_embedder, answer_threads="always")
        async with running_bot(bot, server):
            h = await server.invoke_command("ask", {"question": PISTE})
            await h.wait_done(timeout=30)
            thread = await server.wait_for(lambda: server.thread_of(h.response), timeout=10, what="a thread")
            assert thread.name == PISTE and thread.parent.name == "general"
            assert not any(c["custom_id"] == "nd:thread" for row in h.response["components"] for c in row["components"])
            # in the bot's thread, every question is answered without a mention, with the thread's context
            await server.send_user_message("Quand les travaux ont-ils commencé ?", channel=thread.id)
            follow = await answered(server, bot, thread.id)
            assert follow["content"].startswith(f"-# ↪ Suite de « {PISTE} »"), follow["content"]
            assert "Lyon ouvre une piste cyclable" in first_quote(follow["content"])
            # a question that stands on its own is answered as usual, not pulled toward the bicycle lane
            await server.send_user_message(COMET, channel=thread.id, author="bob")
            alone = await answered(server, bot, thread.id)
            assert "Suite de" not in alone["content"] and "Following up" not in alone["content"]
            assert "Amateur astronomers spot a new comet" in first_quote(alone["content"]), alone["content"]
            await server.send_user_message("merci", channel=thread.id)  # chatter in the thread: left alone
            # a mention in the channel gets its own thread, named from its question
            await server.send_user_message(COST, mention_bot=True)
            answer = await server.wait_for_message("general", timeout=30)
            other = await server.wait_for(lambda: server.thread_of(answer), timeout=10, what="a second thread")
            assert other.name == COST
            await asyncio.sleep(0.5)
            assert len(server.bot_messages(thread.id)) == 2 and not server.bot_messages(other.id)
        server.assert_clean()


async def test_threads_refused_by_the_channel_leave_the_answer_there(workspace, real_embedder):  # noqa: F811
    async with loopback_discord() as server:
        bot = make_bot(server, workspace, real_embedder, answer_threads="always")
        async with running_bot(bot, server):
            await server.deny_bot("general", CREATE_PUBLIC_THREADS)
            question = await server.send_user_message(COST, mention_bot=True)
            answer = await answered(server, bot, "general")
            assert answer["message_reference"]["message_id"] == question["id"] and "42 million euros" in answer["content"]
            h = await server.invoke_command("ask", {"question": PISTE})
            await h.wait_done(timeout=30)
            assert "Lyon ouvre une piste cyclable" in h.text
            await asyncio.sleep(0.5)
            assert not server.guild.threads and len(server.bot_messages("general")) == 2  # no error shown
            # follow-ups still work by reply
            await server.send_user_message(CLOSED, reply_to=answer, ping=False)
            second = await server.wait_for_message("general", timeout=30)
            assert second["content"].startswith(f"-# ↪ Following up on “{COST}”")
        server.assert_clean()


async def test_on_request_the_thread_button_opens_a_thread_or_says_why_not(workspace, real_embedder):  # noqa: F811
    async with loopback_discord() as server:
        bot = make_bot(server, workspace, real_embedder, answer_threads="on-request")
        async with running_bot(bot, server):
            h = await server.invoke_command("ask", {"question": COST})
            await h.wait_done(timeout=30)
            await server.wait_for(lambda: bot.conversations.key_of(int(h.response["id"])), what="the turn recorded")
            [button] = [c for row in h.response["components"] for c in row["components"] if c["custom_id"] == "nd:thread"]
            assert button["label"] == "Follow up in a thread" and not server.guild.threads
            click = await server.click_button(h.response, "nd:thread", user="bob")
            await click.wait_acked(timeout=10)
            thread = await server.wait_for(lambda: server.thread_of(h.response), timeout=10, what="a thread")
            assert thread.name == COST and click.ack.type == 6  # nothing to read: the thread shows itself
            await server.send_user_message(CLOSED, channel=thread.id, author="bob")
            follow = await server.wait_for_message(thread.id, timeout=30)
            assert follow["content"].startswith(f"-# ↪ Following up on “{COST}”"), follow["content"]
            again = await server.click_button(h.response, "nd:thread", locale="fr")
            await again.wait_done(timeout=10)
            [told] = again.followups
            assert told["flags"] & 64 and told["content"] == f"Le fil est ouvert : <#{thread.id}>"
            # where threads are refused, the button says how to follow up instead
            await server.deny_bot("ask", CREATE_PUBLIC_THREADS)
            refused = await server.invoke_command("ask", {"question": PISTE}, channel="ask")
            await refused.wait_done(timeout=30)
            press = await server.click_button(refused.response, "nd:thread")
            await server.wait_for(lambda: press.followups, timeout=10, what="the refusal")
            assert press.followups[0]["content"].startswith("I cannot open a thread here: reply to the answer")
            assert press.followups[0]["flags"] & 64 and server.thread_of(refused.response) is None
