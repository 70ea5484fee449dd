"""The discord.py Bot: holds the engine, loads the cogs, syncs commands deliberately, offloads CPU work."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n.commands import NewsdeskTranslator
from bot.i18n.strings import lang_of, t
from bot.settings import Settings
from index.engine import Engine
from index.errors import BadFilter, NewsdeskError

log = logging.getLogger(__name__)
T = TypeVar("T")
NONE = discord.AllowedMentions.none()


@dataclass
class ReindexJob:
    """The one reindex that may run at a time: who started it, its progress, how to cancel it."""

    who: str
    cancel: threading.Event = field(default_factory=threading.Event)
    stage: str = "reading"
    done: int = 0
    total: int = 0
    started: float = field(default_factory=time.monotonic)
    task: asyncio.Task | None = None

    def progress(self, stage: str, done: int, total: int) -> None:  # called from the worker thread
        self.stage, self.done, self.total = stage, done, total


class NewsdeskBot(commands.Bot):
    """Newsdesk on Discord. Build the engine first and hand it in (see discord.py's advanced_startup)."""

    def __init__(self, settings: Settings, engine: Engine, *, message_content: bool = True,
                 members: bool | None = None, **kwargs: Any):  # fmt: skip
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
            **kwargs,
        )
        self.settings = settings
        self.engine = engine
        self.job: ReindexJob | None = None
        self._cooldowns: dict[int, float] = {}
        # Few worker threads: each holds the GIL in slices while it tokenizes or scores, and the event loop
        # thread competes with all of them. Two for questions, one for the reindex, so neither waits for the other.
        self._query_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="newsdesk-query")
        self._write_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsdesk-reindex")

    async def setup_hook(self) -> None:
        # Hand the GIL back to the event loop more often than every 5 ms while workers run Python code.
        sys.setswitchinterval(0.001)
        from bot.cogs.admin import AdminCog
        from bot.cogs.follow import FollowCog
        from bot.cogs.qa import QACog

        # Before the gateway connects: loading the model and the index must not delay heartbeats later.
        await self.offload(self.engine.warm_up)
        await self.tree.set_translator(NewsdeskTranslator())
        self.tree.on_error = self.on_app_command_error
        await self.add_cog(QACog(self))
        await self.add_cog(AdminCog(self))
        await self.add_cog(FollowCog(self))
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

    async def offload(self, fn: Callable[..., T], /, *args: Any, writer: bool = False, **kwargs: Any) -> T:
        """Run CPU work (embedding, search, reindex) in a worker thread, never on the event loop."""
        pool = self._write_pool if writer else self._query_pool
        return await asyncio.get_running_loop().run_in_executor(pool, functools.partial(fn, *args, **kwargs))

    def cooldown_left(self, user_id: int) -> float:
        """Seconds the user must still wait; records the question when there is none to wait."""
        now = time.monotonic()
        left = self._cooldowns.get(user_id, 0.0) + self.settings.question_cooldown - now
        if left > 0:
            return left
        self._cooldowns[user_id] = now
        return 0.0

    def is_admin(self, user: discord.abc.User, permissions: discord.Permissions | None) -> bool:
        """Manage Server, a configured admin role, or a configured admin user (checked at run time)."""
        if user.id in self.settings.admin_user_ids:
            return True
        roles = {r.id for r in getattr(user, "roles", [])}
        if roles & set(self.settings.admin_role_ids):
            return True
        return bool(permissions and (permissions.manage_guild or permissions.administrator))

    async def on_app_command_error(self, interaction: discord.Interaction,
                                   error: app_commands.AppCommandError) -> None:  # fmt: skip
        """The one error handler: domain errors get a short message; anything else an apology and a log."""
        lang = lang_of(interaction.locale)
        cause = getattr(error, "original", error)
        if isinstance(cause, NewsdeskError):
            text = str(cause)
        elif isinstance(error, app_commands.CheckFailure):
            text = t("reindex_refused", lang)
        else:
            log.error("command %s failed", interaction.command and interaction.command.qualified_name,
                      exc_info=cause)  # fmt: skip
            text = t("error_generic", lang)
        await send_ephemeral(interaction, text)

    async def close(self) -> None:
        if self.job is not None:
            log.info("cancelling the running reindex (started by %s)", self.job.who)
            self.job.cancel.set()
            if self.job.task is not None:
                with contextlib.suppress(BaseException):
                    await asyncio.wait_for(asyncio.shield(self.job.task), timeout=10)
        await super().close()
        self._query_pool.shutdown(wait=False, cancel_futures=True)
        self._write_pool.shutdown(wait=False, cancel_futures=True)


async def send_ephemeral(interaction: discord.Interaction, text: str) -> None:
    """Answer with a message only the user sees; after a defer, replace the "thinking…" message instead."""
    with contextlib.suppress(discord.HTTPException):
        if not interaction.response.is_done():
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NONE)
        elif interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
            await interaction.edit_original_response(content=text, embed=None, view=None, allowed_mentions=NONE)
        else:
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NONE)


def parse_filter_date(value: str | None) -> str | None:
    from index.text.dates import parse_date

    if value is None:
        return None
    iso = parse_date(value)
    if iso is None:
        raise BadFilter(f"“{value}” is not a date (use 2025-05 or 2025-05-12).")
    return iso


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
    engine = settings.make_engine()
    if not engine.has_index():
        log.warning("no index at %s yet: an admin can run /reindex", settings.index_dir)
    elif engine.outdated():
        log.warning("the index at %s was written by an older Newsdesk: updating it (vectors are reused)",
                    settings.index_dir)  # fmt: skip
        log.info("%s", engine.reindex(settings.articles_dir, who="newsdesk run (index update)"))

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await serve(settings, engine, stop)

    try:
        asyncio.run(main())
    except discord.LoginFailure:
        log.error("Discord refused the token: check DISCORD_TOKEN")
        return 1
    return 0


def sync_commands(settings: Settings, global_: bool = False) -> int:
    """`newsdesk sync-commands`: publish the slash commands to the configured guilds, or globally."""
    engine = settings.make_engine()

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
