"""Self-tests of the loopback Discord (tests/loopback) with the real discord.py client.

The bot here is a throwaway ``commands.Bot`` defined in this file, not Newsdesk's bot.
"""

from __future__ import annotations

import asyncio
import time

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.loopback import (
    CommandNotPermitted,
    CommandNotSynced,
    InteractionFailed,
    LoopbackDiscord,
    loopback_discord,
    running_bot,
    start_bot,
)

pytestmark = pytest.mark.timeout(30)


class ThrowawayBot(commands.Bot):
    """A tiny bot exercising each loopback feature."""

    def __init__(self, server: LoopbackDiscord, *, message_content: bool = True, sync: bool = True, **kwargs):
        intents = discord.Intents.default()
        intents.message_content = message_content
        kwargs.setdefault("allowed_mentions", discord.AllowedMentions.none())
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.05, **kwargs)
        self.server = server
        self.sync_on_start = sync
        self.seen: list[discord.Message] = []  # every on_message, the bot's own included
        self.send_errors: list[discord.HTTPException] = []
        self.app_errors: list[Exception] = []
        self.tree.on_error = self._on_tree_error
        self._add_commands()

    async def setup_hook(self) -> None:
        if self.sync_on_start:
            guild = discord.Object(self.server.guild.id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)

    async def _on_tree_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        original = getattr(error, "original", error)
        self.app_errors.append(original)
        if isinstance(error, app_commands.MissingPermissions) and not interaction.response.is_done():
            await interaction.response.send_message("You need Manage Server.", ephemeral=True)

    async def on_message(self, message: discord.Message) -> None:
        self.seen.append(message)
        if message.author.bot or self.user not in message.mentions:
            return
        if "long" in message.content:
            try:
                await message.channel.send("x" * 2001)
            except discord.HTTPException as exc:
                self.send_errors.append(exc)
                await message.reply("That answer was too long.")
            return
        await message.reply(f"pong: {message.content.split('>', 1)[-1].strip()}")

    def _add_commands(self) -> None:
        tree = self.tree

        @tree.command(name="ask", description="Ask a question")
        @app_commands.describe(question="What to ask")
        async def ask(interaction: discord.Interaction, question: str, count: int = 1) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.followup.send(f"answer to {question} x{count}")

        @tree.command(name="private", description="An ephemeral reply")
        async def private(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("only you can see this", ephemeral=True)

        @tree.command(name="slow", description="Acknowledges too late")
        async def slow(interaction: discord.Interaction) -> None:
            await asyncio.sleep(self.server.ack_timeout + 0.2)
            await interaction.response.defer()

        @tree.command(name="reindex", description="Admins only")
        @app_commands.default_permissions(manage_guild=True)
        @app_commands.checks.has_permissions(manage_guild=True)
        async def reindex(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("reindexed")

        async def topics(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            names = ["economy", "elections", "energy", "sport"]
            return [app_commands.Choice(name=n, value=n) for n in names if n.startswith(current)]

        @tree.command(name="lookup", description="Autocomplete")
        @app_commands.autocomplete(topic=topics)
        async def lookup(interaction: discord.Interaction, topic: str) -> None:
            await interaction.response.send_message(f"topic {topic}")

        async def too_many(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=f"c{i}", value=f"c{i}") for i in range(30)]

        @tree.command(name="flood", description="Autocomplete with too many choices")
        @app_commands.autocomplete(item=too_many)
        async def flood(interaction: discord.Interaction, item: str) -> None:
            await interaction.response.send_message(item)

        class Confirm(discord.ui.View):
            @discord.ui.button(label="Yes", custom_id="confirm-yes", style=discord.ButtonStyle.green)
            async def yes(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
                await interaction.response.edit_message(content=f"confirmed by {interaction.user.name}", view=None)

        @tree.command(name="confirm", description="A button")
        async def confirm(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("Sure?", view=Confirm())


@pytest.fixture
async def server():
    async with loopback_discord() as srv:
        yield srv


async def test_ready_handshake(server: LoopbackDiscord) -> None:
    bot = ThrowawayBot(server)
    async with running_bot(bot, server):
        assert bot.user is not None and bot.user.id == server.bot.id
        guild = bot.get_guild(server.guild.id)
        assert guild is not None and guild.me is not None
        assert guild.default_role.id == server.guild.id
        assert {c.name for c in guild.text_channels} == {"general", "ask"}
        assert {r.name for r in guild.roles} >= {"@everyone", "Admin", "Moderator"}
        assert guild.get_role(server.guild.roles["Admin"].id).permissions.manage_guild
        assert not guild.get_role(server.guild.roles["Moderator"].id).permissions.manage_guild
        assert server.intents == bot.intents.value
        assert [r.path for r in server.requests[:2]] == ["/users/@me", "/oauth2/applications/@me"]
        assert server.gateway_connects and server.heartbeat_acks
    assert all(e.status != 501 for e in server.errors)
    server.assert_clean()


async def test_mention_gets_a_reply_and_the_reply_is_echoed(server: LoopbackDiscord) -> None:
    bot = ThrowawayBot(server)
    async with running_bot(bot, server):
        question = await server.send_user_message("hello there", mention_bot=True)
        assert question["mentions"][0]["id"] == str(server.bot.id)
        reply = await server.wait_for_message("general")
        assert reply["content"] == "pong: hello there"
        assert reply["message_reference"]["message_id"] == question["id"]
        assert reply["type"] == 19
        # Discord echoes the bot's own message over the gateway; the bot sees itself as author.
        await server.wait_for(lambda: any(m.id == int(reply["id"]) for m in bot.seen), 2.0)
        echoed = next(m for m in bot.seen if m.id == int(reply["id"]))
        assert echoed.author.bot and echoed.author.id == server.bot.id
        send = server.sends[-1]
        assert send.allowed_mentions == {"parse": []}  # AllowedMentions.none(); replied_user defaults to false
        assert not server.would_ping(send)
    server.assert_clean()


async def test_would_ping_without_allowed_mentions(server: LoopbackDiscord) -> None:
    bot = ThrowawayBot(server, allowed_mentions=None)
    async with running_bot(bot, server):
        await server.send_user_message("ping me", mention_bot=True)
        await server.wait_for_message("general")
        send = server.sends[-1]
        assert send.allowed_mentions is None
        assert server.would_ping(send)
        assert server.pings(send)["replied_user"]


async def test_message_content_intent_and_mentions(server: LoopbackDiscord) -> None:
    bot = ThrowawayBot(server, message_content=False)
    async with running_bot(bot, server):
        alice = server.guild.member("alice")
        await server.send_user_message(f"plain chat with <@{alice.id}> @everyone", author="bob")
        await server.send_user_message("now with a mention", mention_bot=True)
        await server.wait_for_message("general")
        plain, mentioned = [m for m in bot.seen if not m.author.bot][:2]
        assert plain.content == ""  # blanked: no message-content intent, bot not mentioned
        assert [u.id for u in plain.mentions] == [alice.id]
        assert plain.mention_everyone is False  # bob may not mention everyone
        assert mentioned.content.endswith("now with a mention")


async def test_slash_command_deferred_then_followed_up(server: LoopbackDiscord) -> None:
    bot = ThrowawayBot(server)
    async with running_bot(bot, server):
        handle = await server.invoke_command("ask", {"question": "why?", "count": 2}, user="bob", channel="ask")
        await handle.wait_done()
        assert handle.ack is not None and handle.ack.type == 5 and handle.ack.elapsed < 1.0
        assert handle.response is not None and handle.response["content"] == "answer to why? x2"
        assert handle.followups == []  # the first followup after a defer edited the "thinking" message
        assert not handle.ephemeral
        assert handle.response in server.channel_messages("ask")
        assert handle.payload["data"]["guild_id"] == str(server.guild.id)
    server.assert_clean()


async def test_ephemeral_flag_is_recorded(server: LoopbackDiscord) -> None:
    bot = ThrowawayBot(server)
    async with running_bot(bot, server):
        handle = await server.invoke_command("private")
        await handle.wait_done()
        assert handle.ack is not None and handle.ack.type == 4 and handle.ack.flags & 64
        assert handle.ephemeral and handle.text == "only you can see this"
        assert handle.response not in server.channel_messages("general")
    server.assert_clean()


async def test_too_long_message_is_rejected_with_50035(server: LoopbackDiscord) -> None:
    bot = ThrowawayBot(server)
    async with running_bot(bot, server):
        await server.send_user_message("say something long", mention_bot=True)
        fallback = await server.wait_for_message("general")
        assert fallback["content"] == "That answer was too long."
        [exc] = bot.send_errors
        assert exc.status == 400 and exc.code == 50035
        assert "content" in str(exc)
        [failure] = server.validation_failures
        assert failure.request.path.endswith("/messages") and failure.code == 50035


async def test_late_ack_gives_10062() -> None:
    async with loopback_discord(ack_timeout=0.3) as server:
        bot = ThrowawayBot(server)
        async with running_bot(bot, server):
            handle = await server.invoke_command("slow")
            error = await handle.wait_error(timeout=3.0)
            assert (error.status, error.code) == (404, 10062)
            await server.wait_for(lambda: bot.app_errors, 2.0)
            assert isinstance(bot.app_errors[0], discord.NotFound) and bot.app_errors[0].code == 10062
            assert handle.ack is None


async def test_second_ack_gives_40060(server: LoopbackDiscord) -> None:
    # Two instances of the same bot (a real failure mode): both get the interaction, only one may answer.
    first, second = ThrowawayBot(server), ThrowawayBot(server, sync=False)
    async with running_bot(first, server), running_bot(second, server):
        handle = await server.invoke_command("private")
        await handle.wait_done()
        error = await handle.wait_error()
        assert (error.status, error.code) == (400, 40060)
        await server.wait_for(lambda: first.app_errors or second.app_errors, 2.0)
        [exc] = first.app_errors + second.app_errors
        assert isinstance(exc, discord.HTTPException) and exc.code == 40060


async def test_command_sync_payload_is_recorded(server: LoopbackDiscord) -> None:
    bot = ThrowawayBot(server)
    async with running_bot(bot, server):
        [(scope, payload, _)] = server.command_syncs
        assert scope == server.guild.id
        by_name = {c["name"]: c for c in payload}
        assert set(by_name) == {"ask", "private", "slow", "reindex", "lookup", "flood", "confirm"}
        assert by_name["reindex"]["default_member_permissions"] in (32, "32")
        assert by_name["ask"]["options"][0] == {**by_name["ask"]["options"][0], "name": "question", "required": True}
        fetched = await bot.tree.fetch_commands(guild=discord.Object(server.guild.id))
        assert {c.name for c in fetched} == set(by_name)
        assert all(c.id for c in fetched)
        assert server.command_creates == len(by_name)
    server.assert_clean()


async def test_unsynced_command_cannot_be_invoked(server: LoopbackDiscord) -> None:
    bot = ThrowawayBot(server, sync=False)
    async with running_bot(bot, server):
        with pytest.raises(CommandNotSynced):
            await server.invoke_command("ask", {"question": "x"})
        assert not server.interactions


async def test_default_member_permissions_are_enforced(server: LoopbackDiscord) -> None:
    bot = ThrowawayBot(server)
    async with running_bot(bot, server):
        with pytest.raises(CommandNotPermitted):
            await server.invoke_command("reindex", user="alice")
        with pytest.raises(CommandNotPermitted):
            await server.invoke_command("reindex", user="bob")  # Moderator: no Manage Server
        ok = await server.invoke_command("reindex", user="admin")
        await ok.wait_done()
        assert ok.text == "reindexed"
        assert int(ok.payload["member"]["permissions"]) & (1 << 5)
        # A server admin overrode the command's permissions: the bot's own runtime check must hold.
        server.permissions_override = True
        denied = await server.invoke_command("reindex", user="alice")
        await denied.wait_done()
        assert denied.text == "You need Manage Server." and denied.ephemeral
        assert isinstance(bot.app_errors[-1], app_commands.MissingPermissions)


async def test_autocomplete(server: LoopbackDiscord) -> None:
    bot = ThrowawayBot(server)
    async with running_bot(bot, server):
        choices = await server.autocomplete("lookup", {"topic": "e"}, "topic")
        assert [c["name"] for c in choices] == ["economy", "elections", "energy"]
        with pytest.raises(InteractionFailed):
            await server.autocomplete("flood", {"item": ""}, "item")
        assert server.validation_failures[-1].code == 50035


async def test_button_click(server: LoopbackDiscord) -> None:
    bot = ThrowawayBot(server)
    async with running_bot(bot, server):
        handle = await server.invoke_command("confirm")
        await handle.wait_done()
        message = handle.response
        assert message is not None
        click = await server.click_button(message, "confirm-yes", user="bob")
        await click.wait_done()
        assert click.ack is not None and click.ack.type == 7
        assert server.messages[int(message["id"])]["content"] == "confirmed by bob"
        assert server.messages[int(message["id"])]["components"] == []
    server.assert_clean()


async def test_privileged_intent_not_enabled_closes_with_4014() -> None:
    async with loopback_discord(privileged_intents=()) as server:
        bot = ThrowawayBot(server, message_content=True)
        with pytest.raises(discord.PrivilegedIntentsRequired):
            await start_bot(bot, server)
        assert server.gateway_closes[-1][0] == 4014
        assert server.refused_intents == [["message_content"]]
        assert bot.is_closed()


async def test_heartbeats_keep_being_acked() -> None:
    async with loopback_discord(heartbeat_interval_ms=100) as server:
        bot = ThrowawayBot(server)
        async with running_bot(bot, server):
            start = time.monotonic()
            await server.wait_for_heartbeats(5, timeout=3.0)
            assert time.monotonic() - start < 2.0
            assert len(server.heartbeat_acks) >= 5
            gaps = [b - a for a, b in zip(server.heartbeats, server.heartbeats[1:], strict=False)]
            assert max(gaps) < 0.5
            assert bot.latency < 0.5
