"""Pointing discord.py at the loopback, and running a bot against it inside a test."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

import discord
import discord.gateway
import discord.http
import yarl

from .server import LoopbackDiscord

ClientT = TypeVar("ClientT", bound=discord.Client)


@contextlib.contextmanager
def point_discord_at(server: LoopbackDiscord) -> Iterator[None]:
    """Redirects every discord.py client created or logging in inside the block to ``server``.

    Sets ``discord.http.Route.BASE`` (REST, interaction callbacks and webhooks all build their URLs from it,
    when each Route is constructed) and ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``; restores both.
    """
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = server.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(server.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


@contextlib.asynccontextmanager
async def loopback_discord(**kwargs: Any) -> AsyncIterator[LoopbackDiscord]:
    """Starts a :class:`LoopbackDiscord` (kwargs go to its constructor) and points discord.py at it."""
    async with LoopbackDiscord(**kwargs) as server:
        with point_discord_at(server):
            yield server


async def start_bot(
    bot: discord.Client, server: LoopbackDiscord, *, ready_timeout: float = 10.0
) -> asyncio.Task[None]:
    """Starts ``bot.start(server.token)`` as a task and returns it once the bot dispatched ``on_ready``.

    If the bot fails to start (bad token, 4014, a crash in setup_hook) the bot is closed and the exception
    re-raised here. Stop it with :func:`stop_bot`.
    """
    ready = asyncio.Event()

    async def on_ready() -> None:
        ready.set()

    add_listener = getattr(bot, "add_listener", None)
    if add_listener is not None:
        add_listener(on_ready, "on_ready")
    task: asyncio.Task[None] = asyncio.create_task(bot.start(server.token), name="loopback-bot")
    waiter = asyncio.create_task(_wait_ready(bot, ready, add_listener is not None), name="loopback-ready")
    try:
        done, _ = await asyncio.wait(
            {task, waiter}, timeout=ready_timeout, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiter
        remove = getattr(bot, "remove_listener", None)
        if remove is not None:
            remove(on_ready, "on_ready")
    if task in done:
        await stop_bot(bot, task)  # re-raises the start failure
        raise AssertionError("bot.start() returned before the bot was ready")
    if not done:
        await stop_bot(bot, task, reraise=False)
        raise TimeoutError(f"bot was not ready within {ready_timeout}s")
    return task


async def _wait_ready(bot: discord.Client, ready: asyncio.Event, via_listener: bool) -> None:
    if via_listener:
        await ready.wait()
        return
    while not bot.is_ready():  # plain discord.Client has no add_listener
        await asyncio.sleep(0.01)


async def stop_bot(
    bot: discord.Client, task: asyncio.Task[None], *, reraise: bool = True, timeout: float = 5.0
) -> None:
    """Closes the bot, stops its views (their timeout timers are tasks ``close()`` leaves behind), then waits
    for its ``start`` task. Re-raises what the task raised, if anything."""
    await bot.close()
    _stop_views(bot)
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout)
    except asyncio.TimeoutError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        raise
    except Exception:
        if reraise:
            raise


def _stop_views(bot: discord.Client) -> None:
    store = getattr(getattr(bot, "_connection", None), "_view_store", None)
    if store is None:
        return
    views: list[Any] = list(getattr(store, "_synced_message_views", {}).values())
    views += list(getattr(store, "_modals", {}).values())
    for items in getattr(store, "_views", {}).values():
        views += [getattr(item, "view", None) for item in items.values()]
    for view in views:
        if view is not None and hasattr(view, "stop"):
            view.stop()


@contextlib.asynccontextmanager
async def running_bot(
    bot: ClientT, server: LoopbackDiscord, *, ready_timeout: float = 10.0
) -> AsyncIterator[ClientT]:
    """``async with running_bot(bot, server): ...``: the bot is connected and ready inside the block and
    closed (its task awaited) at the end. Construct the bot with ``guild_ready_timeout=0.05``."""
    task = await start_bot(bot, server, ready_timeout=ready_timeout)
    try:
        yield bot
    finally:
        await stop_bot(bot, task)
