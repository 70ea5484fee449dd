"""Admins' side: /reindex and /add, one reindex at a time, in the background; scheduled feed refresh.

Each finished reindex dispatches `newsdesk_index_changed` (with its summary): the follows cog matches the
new articles against the followed topics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands, tasks

from bot.access import Access
from bot.i18n.errors import error_text
from bot.i18n.strings import lang_of, t
from bot.jobs import Jobs, ReindexJob, reindex_job
from bot.render.embeds import CONTENT_MAX, cut, escape
from bot.replies import NONE, send_ephemeral
from bot.settings import Settings
from index.build.reindex import Cancelled
from index.engine import Engine
from index.errors import NewsdeskError, ReindexRunning
from index.records import ArticleRef, ReindexSummary
from index.sources.feeds import FetchPolicy, fetch_page

log = logging.getLogger(__name__)


def summary_text(s: ReindexSummary, lang: str) -> str:
    text = t("reindex_done", lang, seconds=f"{s.seconds:.1f}", added=s.added, updated=s.updated, removed=s.removed,
             unchanged=s.unchanged, failed=len(s.failed), articles=s.articles, passages=s.passages)  # fmt: skip
    lines = [text] + [f"- {t('reindex_failed_item', lang, path=f.path.rsplit('/', 1)[-1], reason=f.reason)}"
                      for f in s.failed[:10]]  # fmt: skip
    if len(s.failed) > 10:
        lines.append(f"- … (+{len(s.failed) - 10})")
    return cut(escape("\n".join(lines)), CONTENT_MAX)


class AdminCog(commands.Cog):
    """/reindex and /add (every command here is for Newsdesk admins), and the scheduled feed refresh."""

    def __init__(self, bot: commands.Bot, *, engine: Engine, settings: Settings, jobs: Jobs, access: Access):
        self.bot, self.engine, self.settings, self.jobs, self.access = bot, engine, settings, jobs, access
        if settings.refresh_minutes > 0 and settings.feeds:
            self.refresh.change_interval(minutes=settings.refresh_minutes)
            self.refresh.start()

    async def cog_unload(self) -> None:
        self.refresh.cancel()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        # Discord's permission gate (default_permissions) can be opened to everyone by a server owner.
        return self.access.require_admin(interaction)

    async def _start_job(self, interaction: discord.Interaction) -> ReindexJob | None:
        """Claim the one reindex slot for the caller; None (and they are told why) when a reindex runs."""
        job = self.jobs.claim(f"{interaction.user} ({interaction.user.id})")
        if job is None:
            await send_ephemeral(interaction, error_text(ReindexRunning(self.jobs.current.who),
                                                         lang_of(interaction.locale)))  # fmt: skip
        return job

    @app_commands.command(name="reindex", description=_("Rebuild the index from the articles folder (admins)"))
    @app_commands.describe(force=_("Rebuild everything: repairs the index, moves it to the default model, allows large removals"))
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def reindex(self, interaction: discord.Interaction, force: bool = False) -> None:
        lang = lang_of(interaction.locale)
        job = await self._start_job(interaction)
        if job is None:
            return
        log.info("reindex started by %s (force=%s)", job.who, force)
        await interaction.response.send_message(t("reindex_started", lang), allowed_mentions=NONE)
        job.task = asyncio.create_task(self._run(interaction, job, force, lang))

    async def _run(self, interaction: discord.Interaction, job: ReindexJob, force: bool, lang: str) -> None:
        work = asyncio.create_task(self.jobs.offload(reindex_job, self.engine, self.settings, job, force, writer=True))
        last_shown = None
        try:
            while not work.done():
                await asyncio.wait({work}, timeout=self.settings.reindex_progress_every)
                shown = (job.stage, job.done, job.total)
                if not work.done() and shown != last_shown and job.total:
                    last_shown = shown
                    text = t("reindex_progress", lang, stage=t(f"stage_{job.stage}", lang), done=job.done,
                             total=job.total)  # fmt: skip
                    with contextlib.suppress(discord.HTTPException):
                        await interaction.edit_original_response(content=text, allowed_mentions=NONE)
            text = self._outcome(work, job, lang)
        finally:
            # Free before the last word is shown: an admin who reads "Reindex done" may start the next at once.
            self.jobs.release()
        with contextlib.suppress(discord.HTTPException):
            await interaction.edit_original_response(content=text, allowed_mentions=NONE)

    def _outcome(self, work: asyncio.Task, job: ReindexJob, lang: str) -> str:
        """The last word of a /reindex: its summary, or why it stopped (logged)."""
        try:
            summary = work.result()
        except Cancelled as exc:
            log.info("reindex by %s cancelled", job.who)
            return error_text(exc, lang)
        except NewsdeskError as exc:
            log.warning("reindex by %s failed: %s", job.who, exc)
            return t("reindex_error", lang, error=error_text(exc, lang))
        except Exception:
            log.exception("reindex by %s failed", job.who)
            return t("reindex_error", lang, error=t("error_generic", lang))
        log.info("reindex by %s done: %s", job.who, summary.to_dict())
        self.bot.dispatch("newsdesk_index_changed", summary)  # follows are matched (bot/cogs/follow.py)
        return summary_text(summary, lang)

    @app_commands.command(name="add", description=_("Fetch one article page and index it (admins)"))
    @app_commands.describe(url=_("Address of the article (https://…)"))
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def add(self, interaction: discord.Interaction, url: app_commands.Range[str, 8, 2000]) -> None:
        lang = lang_of(interaction.locale)
        job = await self._start_job(interaction)
        if job is None:
            return
        s = self.settings
        try:
            await interaction.response.defer(thinking=True)
            path, status = await self.jobs.offload(fetch_page, url, s.articles_dir[0],
                                                   FetchPolicy(allow_hosts=tuple(s.allow_hosts)))  # fmt: skip
            if path is None:
                error = status.error or status.status
                await send_ephemeral(interaction, cut(t("add_failed", lang, url=escape(status.url), error=escape(str(error))), 2000))
                return
            summary = await self.jobs.offload(self.engine.reindex, s.articles_dir, who=job.who, writer=True)
        finally:
            self.jobs.release()
        self.bot.dispatch("newsdesk_index_changed", summary)
        log.info("%s added %s", job.who, url)
        ref = await self.jobs.offload(self._added, path)
        title = ref.title if ref else (status.title or url)
        date = (ref.date if ref else None) or t("unknown_date", lang)
        await interaction.edit_original_response(content=cut(t("add_done", lang, title=escape(title), date=date), 2000),
                                                 allowed_mentions=NONE)  # fmt: skip

    def _added(self, path: Path) -> ArticleRef | None:
        """The indexed article read from `path` (engine.articles() reads every article: a worker's job)."""
        return next((r for r in self.engine.articles() if r.path and str(path) in r.path), None)

    @tasks.loop(minutes=60)
    async def refresh(self) -> None:
        """Pull the feeds and reindex what changed, in the background, when no reindex is running."""
        job = self.jobs.claim("scheduled refresh")
        if job is None:
            log.info("scheduled refresh skipped: a reindex is running")
            return
        started = time.monotonic()
        try:
            summary = await self.jobs.offload(reindex_job, self.engine, self.settings, job, writer=True)
            log.info("scheduled refresh in %.1f s: %s", time.monotonic() - started, summary.to_dict())
            self.bot.dispatch("newsdesk_index_changed", summary)
        except Exception:
            log.exception("scheduled refresh failed")
        finally:
            self.jobs.release()

    @refresh.before_loop
    async def _before_refresh(self) -> None:
        await self.bot.wait_until_ready()
