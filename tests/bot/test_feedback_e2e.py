"""Feedback on answers through the loopback Discord, with the real bot, the real discord.py client and the real
model: vote buttons under every answer (one vote per member, a second click changes it, the reply ephemeral and
in the member's language), buttons that still work after a restart, /feedback for admins only, a "wrong quote"
that is not quoted again for the same question, and answers that still go out when the store fails."""

from __future__ import annotations

import logging

import pytest

from bot.client import NewsdeskBot
from bot.compose import feedback_store
from tests.bot.test_bot_e2e import built_index, workspace  # noqa: F401  (fixtures)
from tests.bot.test_bot_e2e import make_bot as make_plain_bot
from tests.loopback import CommandNotPermitted, loopback_discord, running_bot

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

COST = "How much will the harbour bridge repairs cost?"
COMET = "When will the comet pass closest to the Sun?"


def make_bot(server, folder, real_embedder, **overrides) -> NewsdeskBot:
    """The bot as `newsdesk run` builds it: the engine, and the votes' store beside its index."""
    bot = make_plain_bot(server, folder, real_embedder, **overrides)
    bot.feedback = feedback_store(bot.settings, bot.engine)  # read by setup_hook, when the cogs are added
    return bot


def vote_buttons(message) -> dict[str, dict]:
    """The vote buttons under an answer, by vote."""
    buttons = [c for row in message.get("components") or [] for c in row["components"]]
    return {c["custom_id"].split(":")[2]: c for c in buttons if c["custom_id"].startswith("nd:fb:")}


async def vote(server, message, which, user="alice", locale="en-US"):
    h = await server.click_button(message, vote_buttons(message)[which]["custom_id"], user=user, locale=locale)
    await h.wait_done(timeout=10)
    assert h.ephemeral, h.summary()
    return h.text


async def test_votes_once_per_member_a_second_click_changes_it_and_buttons_survive_a_restart(workspace,  # noqa: F811
                                                                                             real_embedder):  # fmt: skip
    async with loopback_discord() as server:
        bot = make_bot(server, workspace, real_embedder)
        async with running_bot(bot, server):
            await server.send_user_message(COST, mention_bot=True)
            reply = await server.wait_for_message("general", timeout=30)
            buttons = vote_buttons(reply)
            assert [b["label"] for b in buttons.values()] == ["Helpful", "Wrong quote", "Outdated"]
            answer_id = buttons["helpful"]["custom_id"].split(":")[3]
            assert len(answer_id) == 16 and all(b["custom_id"].endswith(answer_id) for b in buttons.values())
            assert await vote(server, reply, "helpful") == "Thank you: your vote “Helpful” is recorded."
            assert await vote(server, reply, "helpful") == "You already voted “Helpful” on this answer."
            assert await vote(server, reply, "wrong_quote") == "Your vote is now “Wrong quote”."
            assert await vote(server, reply, "helpful", user="bob", locale="fr") == \
                "Merci : votre vote « Utile » est enregistré."  # fmt: skip
            h = await server.invoke_command("ask", {"question": COMET}, locale="fr")
            await h.wait_done(timeout=30)
            assert [b["label"] for b in vote_buttons(h.response).values()] == ["Utile", "Citation erronée", "Dépassé"]
        assert server.messages[int(reply["id"])]["content"] == reply["content"]  # votes never edit the answer
        bot.feedback.close()
        again = make_bot(server, workspace, real_embedder)  # a new process: the buttons are in the messages only
        async with running_bot(again, server):
            assert await vote(server, reply, "wrong_quote", user="bob") == "Your vote is now “Wrong quote”."
            assert await vote(server, h.response, "outdated") == "Thank you: your vote “Outdated” is recorded."
            summary = await again.jobs.offload(again.feedback.summary)
            assert summary.votes == {"helpful": 0, "wrong_quote": 2, "outdated": 1} and summary.answers == 2
        again.feedback.close()
        server.assert_clean()


async def test_feedback_is_for_admins_and_lists_the_flagged_articles_and_questions(workspace,  # noqa: F811
                                                                                   real_embedder):  # fmt: skip
    async with loopback_discord() as server:
        bot = make_bot(server, workspace, real_embedder)
        async with running_bot(bot, server):
            h = await server.invoke_command("feedback", {}, user="admin")
            await h.wait_done(timeout=10)
            assert h.ephemeral and "No votes yet." in h.text
            await server.send_user_message(COST, mention_bot=True)
            reply = await server.wait_for_message("general", timeout=30)
            await vote(server, reply, "wrong_quote")
            await vote(server, reply, "outdated", user="bob")
            h = await server.invoke_command("feedback", {"days": 7}, user="admin", locale="en-US")
            await h.wait_done(timeout=10)
            [embed] = h.response["embeds"]
            assert h.ephemeral and embed["title"] == "Feedback on answers"
            assert "Answers with votes, the last 7 days: 1" in embed["description"]
            assert "Helpful 0 · Wrong quote 1 · Outdated 1" in embed["description"]
            fields = {f["name"]: f["value"] for f in embed["fields"]}
            assert fields["Most flagged articles"].startswith("• Harbour bridge closes for repairs — Helpful 0")
            assert fields["Most flagged questions"].startswith(f"• {COST} (`en`)")
            with pytest.raises(CommandNotPermitted):  # Discord hides the command from members
                await server.invoke_command("feedback", {}, user="alice")
            server.permissions_override = True  # a server owner opened it to everyone: the bot still refuses
            refused = await server.invoke_command("feedback", {}, user="alice", locale="fr")
            await refused.wait_done(timeout=10)
            assert refused.ephemeral and refused.text == "Seuls les admins de Newsdesk peuvent utiliser /feedback."
        bot.feedback.close()
        server.assert_clean()


async def test_a_wrong_quote_is_not_quoted_again_for_the_same_question(workspace, real_embedder):  # noqa: F811
    async with loopback_discord() as server:
        bot = make_bot(server, workspace, real_embedder)
        async with running_bot(bot, server):
            first = await server.invoke_command("ask", {"question": COST})
            await first.wait_done(timeout=30)
            flagged = first.response["embeds"][0]["description"].split("\n\n**2.**")[0]
            assert "Harbour bridge closes for repairs" in flagged
            await vote(server, first.response, "wrong_quote")
            await vote(server, first.response, "wrong_quote", user="bob")
            again = await server.invoke_command("ask", {"question": COST}, user="bob")
            await again.wait_done(timeout=30)
            assert flagged not in again.text
            # the effect is reversible: after a reset the passage is quoted again
            await bot.jobs.offload(bot.feedback.reset)  # what `newsdesk feedback --reset` does
            back = await server.invoke_command("ask", {"question": COST}, user="admin")
            await back.wait_done(timeout=30)
            assert back.response["embeds"][0]["description"].startswith(flagged)
        bot.feedback.close()
        server.assert_clean()


async def test_answers_go_out_without_buttons_when_the_store_fails(workspace, real_embedder, caplog):  # noqa: F811
    async with loopback_discord() as server:
        bot = make_bot(server, workspace, real_embedder)
        bot.feedback.close()  # every remember now fails
        async with running_bot(bot, server):
            with caplog.at_level(logging.ERROR, logger="bot.cogs.qa"):
                await server.send_user_message(COST, mention_bot=True)
                reply = await server.wait_for_message("general", timeout=30)
            assert "42 million euros" in reply["content"] and not vote_buttons(reply)
            assert "sent without vote buttons" in caplog.text
        server.assert_clean()
