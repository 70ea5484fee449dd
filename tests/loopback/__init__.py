"""A loopback Discord for end-to-end tests: a fake Discord (REST API v10 + gateway) on 127.0.0.1 that an
unmodified discord.py client talks to. Production code needs no test hooks.

How a test starts a bot against it::

    import discord
    from discord.ext import commands
    from tests.loopback import loopback_discord, running_bot

    async def test_answers_a_mention():
        async with loopback_discord() as server:          # server on a free port; discord.py redirected
            intents = discord.Intents.default()
            intents.message_content = True
            bot = commands.Bot(command_prefix="!", intents=intents,
                               guild_ready_timeout=0.05)   # else on_ready waits 2 s after GUILD_CREATE
            ...                                            # add listeners / app commands; sync in setup_hook
            async with running_bot(bot, server):           # bot.start(server.token) as a task, waits on_ready,
                await server.send_user_message("hi", mention_bot=True)   # closes the bot at the end
                reply = await server.wait_for_message("general")
                handle = await server.invoke_command("ask", {"question": "why?"})
                await handle.wait_done()
                assert "because" in handle.text
            server.assert_clean()

Without the context managers: ``server = await LoopbackDiscord().start()``, ``with point_discord_at(server):``,
``task = await start_bot(bot, server)`` ... ``await stop_bot(bot, task)``, ``await server.close()``.
``point_discord_at`` must be active when the bot logs in (discord.py builds each URL when a Route is made).

The guild: @everyone (id == guild id), "Admin" (Manage Server), "Moderator" (no Manage Server); channels
"general" and "ask"; members: the bot, "owner" (guild owner), "admin" (Admin), "alice" (no role), "bob"
(Moderator). Address them by name or id: ``server.guild.member("alice").id``, ``server.guild.channel("ask")``.

DMs: the bot opens them with POST /users/@me/channels; ``server.wait_for_dm("alice")`` and
``server.dm_messages("alice")`` read them, ``server.block_dms("bob")`` makes sends to bob fail with 403/50007 (as
for a member who left). ``await server.delete_channel("ask")`` (CHANNEL_DELETE, then 404/10003 on sends) and
``await server.remove_member("alice")`` (GUILD_MEMBER_REMOVE, with the members intent only) change the guild.

Replies and threads (DISCORD_LOOPBACK.md section 8): ``send_user_message(text, reply_to=bot_message, ping=False)``
is a member's reply (type 19 with ``message_reference`` and ``referenced_message``; ``ping=False``: the bot is not
mentioned). ``POST /channels/{c}/messages/{m}/threads`` opens a public thread (type 11, the message's id, THREAD_CREATE
on the gateway); ``server.thread_of(message)`` finds it and ``send_user_message(text, channel=thread.id)`` posts in it.
``server.await deny_bot("general", CREATE_PUBLIC_THREADS)`` (bits from ``tests.loopback.world``) makes opening threads
there fail with 403/50013, as ``SEND_MESSAGES_IN_THREADS`` does for posting in its threads. ``click_button(...,
locale="fr")`` clicks as a French-speaking member.
"""

from .harness import loopback_discord, point_discord_at, running_bot, start_bot, stop_bot
from .records import (
    Ack,
    CommandNotPermitted,
    CommandNotSynced,
    InteractionFailed,
    InteractionHandle,
    RecordedRequest,
    RequestError,
    Send,
)
from .server import LoopbackDiscord
from .world import FakeChannel, FakeGuild, FakeRole, FakeUser

__all__ = [
    "Ack",
    "CommandNotPermitted",
    "CommandNotSynced",
    "FakeChannel",
    "FakeGuild",
    "FakeRole",
    "FakeUser",
    "InteractionFailed",
    "InteractionHandle",
    "LoopbackDiscord",
    "RecordedRequest",
    "RequestError",
    "Send",
    "loopback_discord",
    "point_discord_at",
    "running_bot",
    "start_bot",
    "stop_bot",
]
