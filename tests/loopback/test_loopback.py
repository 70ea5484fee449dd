"""Self-tests of the loopback Discord (tests/loopback) with the real discord.py client.

The bot here is a throwaway ``commands.Bot`` defined in this file, not Newsdesk's bot.
"""

from __future__ import annotations

import asyncio
import io

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
from tests.loopback.validation import validate_autocomplete, validate_message
from tests.loopback.world import CREATE_PUBLIC_THREADS, SEND_MESSAGES_IN_THREADS

pytestmark = pytest.mark.timeout(30)


class VoteButton(discord.ui.DynamicItem[discord.ui.Button], template=r"vote:(?P<n>[0-9]+):(?P<ack>[467])"):
    """A persistent button: its state is in its custom_id, so any instance of the bot answers it."""

    def __init__(self, n: int, ack: int):
        super().__init__(discord.ui.Button(label=f"Vote {n}", custom_id=f"vote:{n}:{ack}"))
        self.n, self.ack = n, ack

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match):
        return cls(int(match["n"]), int(match["ack"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        if self.ack == 4:
            word = "merci" if str(interaction.locale).startswith("fr") else "thanks"
            await interaction.response.send_message(
                f"{word} {interaction.user.name} for {self.n}", ephemeral=True
            )
        elif self.ack == 6:
            await interaction.response.defer()
        else:
            await interaction.response.edit_message(content=f"voted {self.n}", view=None)


class ThrowawayBot(commands.Bot):
    """A tiny bot exercising each loopback feature."""

    def __init__(
        self,
        server: LoopbackDiscord,
        *,
        message_content: bool = True,
        members: bool = False,
        sync: bool = True,
        **kwargs,
    ):
        intents = discord.Intents.default()
        intents.message_content = message_content
        intents.members = members
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
        self.add_dynamic_items(VoteButton)
        if self.sync_on_start:
            guild = discord.Object(self.server.guild.id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        original = getattr(error, "original", error)
        self.app_errors.append(original)
        if isinstance(error, app_commands.MissingPermissions) and not interaction.response.is_done():
            await interaction.response.send_message("You need Manage Server.", ephemeral=True)

    async def on_message(self, message: discord.Message) -> None:
        self.seen.append(message)
        if message.author.bot:
            return
        if message.content == "!tour":
            await self._tour(message.channel)
            return
        if message.content.startswith("!thread "):
            await self._thread(message, message.content.removeprefix("!thread "))
            return
        if isinstance(message.channel, discord.Thread) and message.channel.owner_id == self.user.id:
            await message.channel.send(f"in thread {message.channel.name}: {message.content}")
            return
        ref = message.reference.resolved if message.reference else None
        if isinstance(ref, discord.Message) and ref.author == self.user and self.user not in message.mentions:
            await message.reply(f"follow-up to {ref.content}: {message.content}")
            return
        if self.user not in message.mentions:
            return
        if "long" in message.content:
            try:
                await message.channel.send("x" * 2001)
            except discord.HTTPException as exc:
                self.send_errors.append(exc)
                await message.reply("That answer was too long.")
            return
        await message.reply(f"pong: {message.content.split('>', 1)[-1].strip()}")

    async def _thread(self, message: discord.Message, name: str) -> None:
        """Opens a thread from its own message and posts in it; refusals are recorded."""
        sent = await message.channel.send("opening a thread")
        try:
            thread = await sent.create_thread(name=name, auto_archive_duration=60)
            await thread.send("hello thread")
        except discord.HTTPException as exc:
            self.send_errors.append(exc)

    async def _tour(self, channel: discord.abc.Messageable) -> None:
        """Exercises the rest of the channel REST surface."""
        async with channel.typing():
            sent = await channel.send("with a file", file=discord.File(io.BytesIO(b"hello"), "notes.txt"))
        await sent.edit(content="edited")
        try:
            await channel.pins()  # not implemented by the loopback: 501
        except discord.HTTPException as exc:
            self.send_errors.append(exc)

    def _add_commands(self) -> None:
        tree = self.tree

        @tree.command(name="tour", description="Webhook and @original routes")
        async def tour(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("step 1")
            original = await interaction.original_response()
            await interaction.edit_original_response(content=f"step 2 after {original.content}")
            extra = await interaction.followup.send("extra", ephemeral=True, wait=True)
            await extra.edit(content="extra edited")
            await interaction.delete_original_response()

        class Feedback(discord.ui.Modal, title="Feedback"):
            comment = discord.ui.TextInput(label="Comment", custom_id="comment")

            async def on_submit(self, interaction: discord.Interaction) -> None:
                await interaction.response.send_message(f"thanks for: {self.comment.value}", ephemeral=True)

        @tree.command(name="feedback", description="A modal")
        async def feedback(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(Feedback())

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
                await interaction.response.edit_message(
                    content=f"confirmed by {interaction.user.name}", view=None
                )

            @discord.ui.select(
                custom_id="confirm-size",
                options=[
                    discord.SelectOption(label="Short", value="s"),
                    discord.SelectOption(label="Long", value="l"),
                ],
            )
            async def size(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
                await interaction.response.send_message(f"size {select.values[0]}", ephemeral=True)

        @tree.command(name="poll", description="Persistent buttons")
        async def poll(interaction: discord.Interaction) -> None:
            view = discord.ui.View(timeout=None)
            for n, ack in ((1, 4), (2, 6), (3, 7)):
                view.add_item(VoteButton(n, ack))
            await interaction.response.send_message("Vote!", view=view)

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
        assert send.allowed_mentions == {
            "parse": []
        }  # AllowedMentions.none(); replied_user defaults to false
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
        handle = await server.invoke_command(
            "ask", {"question": "why?", "count": 2}, user="bob", channel="ask"
        )
        await handle.wait_done()
        assert handle.ack is not None and handle.ack.type == 5 and handle.ack.elapsed < server.ack_timeout
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
        assert set(by_name) == {
            "ask",
            "private",
            "slow",
            "reindex",
            "lookup",
            "flood",
            "confirm",
            "tour",
            "feedback",
            "poll",
        }
        assert by_name["reindex"]["default_member_permissions"] in (32, "32")
        assert by_name["ask"]["options"][0] == {
            **by_name["ask"]["options"][0],
            "name": "question",
            "required": True,
        }
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
        picked = await server.choose(message, "confirm-size", ["l"], user="alice")
        await picked.wait_done()
        assert picked.text == "size l" and picked.ephemeral
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
            await server.wait_for_heartbeats(5, timeout=5.0)
            assert len(server.heartbeat_acks) >= 5
            gaps = [b - a for a, b in zip(server.heartbeats, server.heartbeats[1:], strict=False)]
            assert max(gaps) < 1.0  # interval 0.1 s; generous for a loaded CI machine
            assert bot.latency < 1.0


async def test_rest_surface(server: LoopbackDiscord) -> None:
    bot = ThrowawayBot(server)
    async with running_bot(bot, server):
        await server.send_user_message("!tour", channel="ask")
        sent = await server.wait_for_message("ask")
        await server.wait_for(lambda: bot.send_errors, 2.0)
        assert sent["content"] == "edited" and sent["edited_timestamp"]
        [attachment] = sent["attachments"]
        assert attachment["filename"] == "notes.txt" and server.attachments[int(attachment["id"])] == b"hello"
        assert server.typing and server.typing[0][0] == server.guild.channel("ask").id
        [exc] = bot.send_errors
        assert exc.status == 501
        assert server.unimplemented[-1].path.startswith(f"/channels/{server.guild.channel('ask').id}/")
        shards, url, _limit = await bot.http.get_bot_gateway()
        assert shards == 1 and url == server.gateway_url.rstrip("/")

        handle = await server.invoke_command("tour")
        await server.wait_for(lambda: handle.deleted, 3.0, about=handle)
        assert handle.original is not None and handle.original["content"] == "step 2 after step 1"
        assert handle.response is None  # deleted
        [extra] = handle.followups
        assert extra["content"] == "extra edited" and extra["flags"] & 64
        methods = [r.method for r in server.requests if "/webhooks/" in r.path]
        assert methods == ["GET", "PATCH", "POST", "PATCH", "DELETE"]
        assert all(not r.authorized for r in server.requests if "/webhooks/" in r.path)
    assert [e.status for e in server.errors] == [501]


async def test_modal_submit(server: LoopbackDiscord) -> None:
    bot = ThrowawayBot(server)
    async with running_bot(bot, server):
        handle = await server.invoke_command("feedback")
        await handle.wait_done()
        assert handle.ack is not None and handle.ack.type == 9 and handle.modal["title"] == "Feedback"
        submitted = await server.submit_modal(handle, {"comment": "nice"})
        await submitted.wait_done()
        assert submitted.text == "thanks for: nice"
    server.assert_clean()


async def test_resume_after_reconnect(server: LoopbackDiscord) -> None:
    bot = ThrowawayBot(server)
    async with running_bot(bot, server):
        await server.reconnect_gateway()
        await server.wait_for(lambda: server.resumes, 3.0)
        assert server.resumes[0]["session_id"] == next(iter(server._sessions))
        await server.wait_for(lambda: any(s.conn is not None for s in server._sessions.values()), 2.0)
        await server.send_user_message("still there?", mention_bot=True)
        reply = await server.wait_for_message("general")
        assert reply["content"] == "pong: still there?"
        assert len(server.identifies) == 1


async def test_member_chunking_with_members_intent(server: LoopbackDiscord) -> None:
    bot = ThrowawayBot(server, members=True)  # chunk_guilds_at_startup follows the members intent
    async with running_bot(bot, server):
        assert server.member_requests and str(server.member_requests[0]["guild_id"]) == str(server.guild.id)
        guild = bot.get_guild(server.guild.id)
        assert guild is not None and guild.chunked
        alice = guild.get_member(server.guild.member("alice").id)
        assert alice is not None and alice.name == "alice"
        admin = guild.get_member(server.guild.member("admin").id)
        assert admin is not None and admin.guild_permissions.manage_guild


LIMIT_CASES = {
    "content": ({"content": "x" * 2001}, "content"),
    "embeds": ({"embeds": [{"title": "t"}] * 11}, "embeds"),
    "title": ({"embeds": [{"title": "t" * 257}]}, "embeds.0.title"),
    "description": ({"embeds": [{"description": "d" * 4097}]}, "embeds.0.description"),
    "fields": ({"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]}, "embeds.0.fields"),
    "field name": ({"embeds": [{"fields": [{"name": "n" * 257, "value": "v"}]}]}, "embeds.0.fields.0.name"),
    "field value": (
        {"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]},
        "embeds.0.fields.0.value",
    ),
    "footer": ({"embeds": [{"title": "t", "footer": {"text": "f" * 2049}}]}, "embeds.0.footer.text"),
    "author": ({"embeds": [{"title": "t", "author": {"name": "a" * 257}}]}, "embeds.0.author.name"),
    "total": ({"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]}, "embeds"),
    "rows": (
        {
            "components": [
                {"type": 1, "components": [{"type": 2, "style": 1, "custom_id": f"b{i}"}]} for i in range(6)
            ]
        },
        "components",
    ),
    "buttons": (
        {
            "components": [
                {"type": 1, "components": [{"type": 2, "style": 1, "custom_id": f"b{i}"} for i in range(6)]}
            ]
        },
        "components.0.components",
    ),
    "label": (
        {
            "components": [
                {"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "b", "label": "l" * 81}]}
            ]
        },
        "components.0.components.0.label",
    ),
    "custom_id": (
        {"components": [{"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "c" * 101}]}]},
        "components.0.components.0.custom_id",
    ),
}


def _error_paths(tree: dict, prefix: str = "") -> set[str]:
    paths = set()
    for key, value in tree.items():
        if key == "_errors":
            paths.add(prefix)
        elif isinstance(value, dict):
            paths |= _error_paths(value, f"{prefix}.{key}" if prefix else key)
    return paths


@pytest.mark.parametrize("case", sorted(LIMIT_CASES))
def test_validation_limits(case: str) -> None:
    payload, path = LIMIT_CASES[case]
    error = validate_message(payload)
    assert error is not None and error["code"] == 50035
    assert path in _error_paths(error["errors"])


def test_validation_accepts_limits_and_rejects_empty() -> None:
    at_limit = {
        "content": "x" * 2000,
        "embeds": [
            {
                "title": "t" * 256,
                "description": "d" * 2000,
                "fields": [{"name": "n" * 256, "value": "v" * 1024}],
            }
        ],
        "components": [
            {"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "c" * 100, "label": "l" * 80}]}
        ],
    }
    assert validate_message(at_limit) is None
    assert validate_message({"content": ""}) == {"code": 50006, "message": "Cannot send an empty message"}
    assert validate_autocomplete({"choices": [{"name": "n" * 101, "value": "v"}]})["code"] == 50035
    assert validate_autocomplete({"choices": [{"name": "n", "value": "v"}] * 25}) is None


async def test_member_reply_without_ping(server: LoopbackDiscord) -> None:
    bot = ThrowawayBot(server)
    async with running_bot(bot, server):
        await server.send_user_message("hello", mention_bot=True)
        answer = await server.wait_for_message("general")
        reply = await server.send_user_message("and then?", reply_to=answer, ping=False)
        assert reply["type"] == 19 and reply["mentions"] == []
        assert reply["message_reference"] == {"type": 0, "message_id": answer["id"], "channel_id": answer["channel_id"],
                                              "guild_id": str(server.guild.id)}  # fmt: skip
        assert reply["referenced_message"]["id"] == answer["id"]
        assert "referenced_message" not in reply["referenced_message"]  # one level, as Discord sends it
        follow_up = await server.wait_for_message("general")
        assert follow_up["content"] == "follow-up to pong: hello: and then?"
        assert follow_up["message_reference"]["message_id"] == reply["id"]
        pinged = await server.send_user_message("ping kept", reply_to=answer)
        assert [m["id"] for m in pinged["mentions"]] == [str(server.bot.id)]
    server.assert_clean()


async def test_thread_from_a_message(server: LoopbackDiscord) -> None:
    bot = ThrowawayBot(server)
    async with running_bot(bot, server):
        await server.send_user_message("!thread Bridge repairs", channel="ask")
        opener = await server.wait_for_message("ask")
        thread = await server.wait_for(lambda: server.thread_of(opener), what="a thread")
        assert thread.id == int(opener["id"]) and thread.name == "Bridge repairs" and thread.type == 11
        created = next(d for e, d in server.dispatched if e == "THREAD_CREATE")
        assert created["newly_created"] and created["parent_id"] == str(server.guild.channel("ask").id)
        assert created["thread_metadata"]["auto_archive_duration"] == 60
        hello = await server.wait_for_message(thread.id)
        assert hello["content"] == "hello thread" and hello["channel_id"] == str(thread.id)
        cached = bot.get_channel(thread.id)
        assert isinstance(cached, discord.Thread) and cached.parent_id == server.guild.channel("ask").id
        assert server.messages[int(opener["id"])]["flags"] & 32  # HAS_THREAD
        said = await server.send_user_message("question here", channel=thread.id)
        assert said["channel_id"] == str(thread.id)
        echoed = await server.wait_for_message(thread.id)
        assert echoed["content"] == "in thread Bridge repairs: question here"
        # a second thread from the same message, and a name over 100 characters, are refused
        with pytest.raises(discord.HTTPException) as again:
            await bot.http.start_thread_with_message(server.guild.channel("ask").id, opener["id"], name="x",
                                                     auto_archive_duration=60)  # fmt: skip
        assert again.value.code == 160004
        other = await bot.get_channel(server.guild.channel("ask").id).send("another")
        with pytest.raises(discord.HTTPException) as long_name:
            await other.create_thread(name="n" * 101)
        assert long_name.value.code == 50035
    # a restarted bot gets the active threads in GUILD_CREATE
    async with running_bot(ThrowawayBot(server, sync=False), server) as again:
        assert isinstance(again.get_channel(thread.id), discord.Thread)


async def test_threads_refused_without_the_permissions(server: LoopbackDiscord) -> None:
    bot = ThrowawayBot(server)
    async with running_bot(bot, server):
        await server.deny_bot("general", CREATE_PUBLIC_THREADS)
        await server.send_user_message("!thread Not here")
        opener = await server.wait_for_message("general")
        await server.wait_for(lambda: bot.send_errors, 2.0)
        [refused] = bot.send_errors
        assert isinstance(refused, discord.Forbidden) and refused.code == 50013
        assert server.thread_of(opener) is None
        # the bot saw the overwrite (CHANNEL_UPDATE)
        general = bot.get_channel(server.guild.channel("general").id)
        assert not general.permissions_for(general.guild.me).create_public_threads
        assert general.permissions_for(general.guild.me).send_messages
        await server.deny_bot("ask", SEND_MESSAGES_IN_THREADS)  # may open a thread, not post in it
        await server.send_user_message("!thread Mute", channel="ask")
        opener = await server.wait_for_message("ask")
        await server.wait_for(lambda: len(bot.send_errors) == 2, 2.0)
        assert server.thread_of(opener) is not None and bot.send_errors[1].code == 50013
        assert server.channel_messages(server.thread_of(opener).id) == []


async def test_persistent_buttons_ack_4_6_7_and_survive_a_restart(server: LoopbackDiscord) -> None:
    bot = ThrowawayBot(server)
    async with running_bot(bot, server):
        h = await server.invoke_command("poll")
        await h.wait_done()
        poll = h.response
        thanks = await server.click_button(poll, "vote:1:4", user="bob", locale="fr")
        await thanks.wait_done()
        assert thanks.ack.type == 4 and thanks.ephemeral and thanks.text == "merci bob for 1"
        quiet = await server.click_button(poll, "vote:2:6")
        await quiet.wait_acked()
        assert quiet.ack.type == 6 and server.messages[int(poll["id"])]["content"] == "Vote!"
    async with running_bot(ThrowawayBot(server, sync=False), server):  # a new process: no view was added
        edit = await server.click_button(poll, "vote:3:7")
        await edit.wait_done()
        assert edit.ack.type == 7 and server.messages[int(poll["id"])]["content"] == "voted 3"
    server.assert_clean()
