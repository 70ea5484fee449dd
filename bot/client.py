"""The discord.py Bot: holds the engine and the services, hands them to the cogs, syncs commands deliberately."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sqlite3
import sys
from typing import Any

import discord
from discord.ext import commands

from bot.access import Access
from bot.cogs.admin import AdminCog
from bot.cogs.feedback import FeedbackCog
from bot.cogs.follow import FollowCog
from bot.cogs.qa import QACog
from bot.compose import feedback_store, make_engine
from bot.conversations import Conversations
from bot.i18n.commands import NewsdeskTranslator
from bot.jobs import Jobs
from bot.replies import NONE
from bot.settings import Settings
from bot.tree import NewsdeskTree
from index.engine import Engine
from index.feedback import FeedbackStore

log = logging.getLogger(__name__)


class NewsdeskBot(commands.Bot):
    """Newsdesk on Discord. Build the engine (and the feedback store, when on) first and hand them in (see
    discord.py's advanced_startup)."""

    def __init__(self, settings: Settings, engine: Engine, *, message_content: bool = True,
                 members: bool | None = None, feedback: FeedbackStore | None = None, **kwargs: Any):  # fmt: skip
        intents = discord.Intents.default()
        intents.message_content = message_content
        # The server members intent (privileged, off unless NEWSDESK_MEMBERS_INTENT) only tells the follows cog
        # that a member left; members are never requested in bulk.
        intents.members = settings.members_intent if members is None else members
        kwargs.setdefault("chunk_guilds_at_startup", False)
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=NONE,
            help_command=None,
            tree_cls=NewsdeskTree,
            **kwargs,
        )
        self.settings = settings
        self.engine = engine
        self.jobs = Jobs()
        self.access = Access(settings)
        self.feedback = feedback
        # In memory only: a restart forgets the conversations (the next question is answered on its own).
        self.conversations = Conversations(settings.conversation_turns, settings.conversation_minutes)

    async def setup_hook(self) -> None:
        # Hand the GIL back to the event loop more often than every 5 ms while workers run Python code.
        sys.setswitchinterval(0.001)
        # Before the gateway connects: loading the model and the index must not delay heartbeats later.
        await self.jobs.offload(self.engine.warm_up)
        await self.tree.set_translator(NewsdeskTranslator())
        services = {"engine": self.engine, "settings": self.settings, "jobs": self.jobs, "access": self.access}
        await self.add_cog(QACog(self, **services, feedback=self.feedback, conversations=self.conversations))
        await self.add_cog(AdminCog(self, **services))
        await self.add_cog(FollowCog(self, **services))
        await self.add_cog(FeedbackCog(self, **services, feedback=self.feedback))
        # Guild commands update at once; global ones take up to an hour and creates are rate-limited:
        # sync only the configured guilds here, and globally only through `newsdesk sync-commands --global`.
        for gid in self.settings.guild_ids:
            guild = discord.Object(gid)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
            log.info("synced slash commands to guild %s", gid)
        if not self.intents.message_content:
            log.error("the message content intent is off: questions in Q&A channels cannot be read; mentions "
                      "and slash commands still work. Enable it in the Developer Portal (Bot > Privileged "
                      "Gateway Intents) to answer Q&A channels.")  # fmt: skip

    async def on_message(self, message: discord.Message) -> None:
        """No text commands: questions are handled by the QA cog's listener, commands are slash commands."""

    async def on_ready(self) -> None:
        log.info("connected as %s to %d guild(s)", self.user, len(self.guilds))

    async def close(self) -> None:
        await self.jobs.cancel_reindex()
        await super().close()
        self.jobs.shutdown()


async def serve(settings: Settings, engine: Engine, stop: asyncio.Event, **bot_kwargs: Any) -> None:
    """Run the bot until `stop` is set; without the message-content intent, fall back to mentions and commands."""
    token = settings.discord_token.get_secret_value() if settings.discord_token else ""
    message_content, members = True, settings.members_intent
    while True:
        bot = NewsdeskBot(settings, engine, message_content=message_content, members=members, **bot_kwargs)
        async with bot:
            runner = asyncio.create_task(bot.start(token))
            stopper = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if stopper in done:
                await bot.close()
                with contextlib.suppress(BaseException):
                    await runner
                return
            stopper.cancel()
            try:
                runner.result()
                return
            except discord.PrivilegedIntentsRequired:
                if members:  # the one asked for by a setting goes first
                    log.error("the server members intent is not enabled for this bot in the Developer Portal; "
                              "reconnecting without it (follows of members who leave stay on)")  # fmt: skip
                    members = False
                    continue
                if not message_content:
                    raise
                log.error("the message content intent is not enabled for this bot in the Developer Portal; "
                          "reconnecting without it (mentions and slash commands keep working)")  # fmt: skip
                message_content = False


def run_bot(settings: Settings) -> int:
    """Entry point of `newsdesk run`: build the engine, connect, close cleanly on SIGINT/SIGTERM."""
    engine = make_engine(settings)
    if not engine.has_index():
        log.warning("no index at %s yet: an admin can run /reindex", settings.index_dir)
    elif engine.outdated():
        log.warning("the index at %s was written by an older Newsdesk: updating it (vectors are reused)",
                    settings.index_dir)  # fmt: skip
        log.info("%s", engine.reindex(settings.articles_dir, who="newsdesk run (index update)"))
    try:
        feedback = feedback_store(settings, engine)
    except (OSError, sqlite3.Error) as exc:
        log.error("the feedback store beside %s cannot be opened (%s): answers go out without vote buttons",
                  settings.index_dir, exc)  # fmt: skip
        feedback = None

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await serve(settings, engine, stop, feedback=feedback)

    try:
        asyncio.run(main())
    except discord.LoginFailure:
        log.error("Discord refused the token: check DISCORD_TOKEN")
        return 1
    finally:
        if feedback is not None:
            feedback.close()
    return 0


def sync_commands(settings: Settings, global_: bool = False) -> int:
    """`newsdesk sync-commands`: publish the slash commands to the configured guilds, or globally."""
    engine = make_engine(settings)

    async def main() -> None:
        bot = NewsdeskBot(settings.model_copy(update={"guild_ids": []}), engine, message_content=False)
        async with bot:
            await bot.login(settings.discord_token.get_secret_value())
            if global_:
                synced = await bot.tree.sync()
                print(f"synced {len(synced)} commands globally (Discord may take up to an hour to show them)")
            for gid in settings.guild_ids:
                guild = discord.Object(gid)
                bot.tree.copy_global_to(guild=guild)
                synced = await bot.tree.sync(guild=guild)
                print(f"synced {len(synced)} commands to guild {gid}")

    asyncio.run(main())
    return 0
