"""Admins' side: /reindex and /add, one reindex at a time, in the background; scheduled feed refresh.

Each finished reindex dispatches `newsdesk_index_changed` (with its summary): the follows cog matches the
new articles against the followed topics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands, tasks

from bot.client import NONE, ReindexJob, send_ephemeral
from bot.i18n.strings import lang_of, t
from bot.render.embeds import CONTENT_MAX, cut, escape
from index.build.reindex import Cancelled
from index.errors import NewsdeskError
from index.records import ReindexSummary
from index.sources.feeds import FetchPolicy, fetch_page, refresh_feeds

if TYPE_CHECKING:
    from bot.client import NewsdeskBot

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
    def __init__(self, bot: NewsdeskBot):
        self.bot = bot
        if bot.settings.refresh_minutes > 0 and bot.settings.feeds:
            self.refresh.change_interval(minutes=bot.settings.refresh_minutes)
            self.refresh.start()

    async def cog_unload(self) -> None:
        self.refresh.cancel()

    async def _start_job(self, interaction: discord.Interaction, what: str, refusal: str) -> ReindexJob | None:
        """Check the caller is an admin and no reindex runs, then claim the one job slot; else answer why not."""
        lang = lang_of(interaction.locale)
        if not self.bot.is_admin(interaction.user, interaction.permissions):
            log.warning("refused %s for %s (%s): not an admin", what, interaction.user, interaction.user.id)
            await send_ephemeral(interaction, t(refusal, lang))
            return None
        if self.bot.job is not None:
            await send_ephemeral(interaction, t("reindex_running", lang, who=self.bot.job.who))
            return None
        self.bot.job = ReindexJob(who=f"{interaction.user} ({interaction.user.id})")
        return self.bot.job

    def _pull_feeds(self) -> list[dict]:
        s = self.bot.settings
        if not s.feeds:
            return []
        statuses = refresh_feeds(s.feeds, s.articles_dir[0], FetchPolicy(allow_hosts=tuple(s.allow_hosts)))
        for st in statuses:
            log.info("feed %s: %s%s", st.url, st.status, f" ({st.error})" if st.error else "")
        return [st.to_dict() for st in statuses]

    def _reindex(self, job: ReindexJob, force: bool) -> ReindexSummary:
        """The whole reindex, in a worker thread: feeds first, then the folders."""
        self._pull_feeds()
        return self.bot.engine.reindex(self.bot.settings.articles_dir, force=force, progress=job.progress,
                                       cancel=job.cancel, who=job.who)  # fmt: skip

    @app_commands.command(name="reindex", description=_("Rebuild the index from the articles folder (admins)"))
    @app_commands.describe(force=_("Rebuild everything: repairs the index, moves it to the default model, allows large removals"))
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def reindex(self, interaction: discord.Interaction, force: bool = False) -> None:
        lang = lang_of(interaction.locale)
        job = await self._start_job(interaction, "/reindex", "reindex_refused")
        if job is None:
            return
        log.info("reindex started by %s (force=%s)", job.who, force)
        await interaction.response.send_message(t("reindex_started", lang), allowed_mentions=NONE)
        job.task = asyncio.create_task(self._run(interaction, job, force, lang))

    async def _run(self, interaction: discord.Interaction, job: ReindexJob, force: bool, lang: str) -> None:
        work = asyncio.create_task(self.bot.offload(self._reindex, job, force, writer=True))
        last_shown = None
        try:
            while not work.done():
                await asyncio.wait({work}, timeout=self.bot.settings.reindex_progress_every)
                shown = (job.stage, job.done, job.total)
                if not work.done() and shown != last_shown and job.total:
                    last_shown = shown
                    text = t("reindex_progress", lang, stage=t(f"stage_{job.stage}", lang), done=job.done,
                             total=job.total)  # fmt: skip
                    with contextlib.suppress(discord.HTTPException):
                        await interaction.edit_original_response(content=text, allowed_mentions=NONE)
            try:
                summary = work.result()
                text = summary_text(summary, lang)
                log.info("reindex by %s done: %s", job.who, summary.to_dict())
                self.bot.dispatch("newsdesk_index_changed", summary)  # follows are matched (bot/cogs/follow.py)
            except Cancelled:
                text = t("reindex_cancelled", lang)
                log.info("reindex by %s cancelled", job.who)
            except NewsdeskError as exc:
                text = t("reindex_error", lang, error=str(exc))
                log.warning("reindex by %s failed: %s", job.who, exc)
            except Exception:
                log.exception("reindex by %s failed", job.who)
                text = t("reindex_error", lang, error=t("error_generic", lang))
            with contextlib.suppress(discord.HTTPException):
                await interaction.edit_original_response(content=text, allowed_mentions=NONE)
        finally:
            self.bot.job = None

    @app_commands.command(name="add", description=_("Fetch one article page and index it (admins)"))
    @app_commands.describe(url=_("Address of the article (https://…)"))
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def add(self, interaction: discord.Interaction, url: app_commands.Range[str, 8, 2000]) -> None:
        lang = lang_of(interaction.locale)
        job = await self._start_job(interaction, "/add", "add_refused")
        if job is None:
            return
        s = self.bot.settings
        try:
            await interaction.response.defer(thinking=True)
            path, status = await self.bot.offload(fetch_page, url, s.articles_dir[0],
                                                  FetchPolicy(allow_hosts=tuple(s.allow_hosts)))  # fmt: skip
            if path is None:
                raise NewsdeskError(f"{status.url}: {status.error or status.status}")
            summary = await self.bot.offload(self.bot.engine.reindex, s.articles_dir, who=job.who, writer=True)
        finally:
            self.bot.job = None
        self.bot.dispatch("newsdesk_index_changed", summary)
        log.info("%s added %s", job.who, url)
        ref = next((r for r in self.bot.engine.articles() if r.path and str(path) in r.path), None)
        title = ref.title if ref else (status.title or url)
        date = (ref.date if ref else None) or t("unknown_date", lang)
        await interaction.edit_original_response(content=cut(t("add_done", lang, title=escape(title), date=date), 2000),
                                                 allowed_mentions=NONE)  # fmt: skip

    @tasks.loop(minutes=60)
    async def refresh(self) -> None:
        """Pull the feeds and reindex what changed, in the background, when no reindex is running."""
        if self.bot.job is not None:
            log.info("scheduled refresh skipped: a reindex is running")
            return
        job = self.bot.job = ReindexJob(who="scheduled refresh")
        started = time.monotonic()
        try:
            summary = await self.bot.offload(self._reindex, job, False, writer=True)
            log.info("scheduled refresh in %.1f s: %s", time.monotonic() - started, summary.to_dict())
            self.bot.dispatch("newsdesk_index_changed", summary)
        except Exception:
            log.exception("scheduled refresh failed")
        finally:
            self.bot.job = None

    @refresh.before_loop
    async def _before_refresh(self) -> None:
        await self.bot.wait_until_ready()
