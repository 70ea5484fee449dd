"""Following the news: /timeline, /follow, /unfollow, /following, and the alerts a reindex brings.

The matching lives in index/stories/follows.py and the timeline in index/stories/timeline.py; this cog parses interactions,
runs that work off the event loop, posts alerts (mentions disabled, an "Unfollow" button on each) and
disables the follows whose channel or member is gone, with a log line, instead of failing on every alert.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands, tasks

from bot.access import Access
from bot.i18n.strings import lang_of, t
from bot.jobs import Jobs
from bot.options import filters_of
from bot.render.embeds import cut, escape
from bot.render.follows import alert_embed, following_embed, timeline_pages
from bot.replies import NONE, cooling_down, send_ephemeral
from bot.settings import Settings
from index.engine import Engine
from index.errors import IndexMissing, NewsdeskError
from index.stories.follows import Due, FollowStore, check_follows, follows_path, model_of, story_of
from index.stories.timeline import build_timeline, topic_vector
from index.text.normalize import fold

log = logging.getLogger(__name__)

WATCH_SECONDS = 60  # how often the index is looked at for a reindex made elsewhere (`newsdesk reindex`)
# Discord's answers that mean a follow's destination is gone for good (not worth another try).
UNKNOWN_CHANNEL = 10003
CANNOT_DM = 50007


class UnfollowButton(discord.ui.DynamicItem[discord.ui.Button], template=r"newsdesk:unfollow:(?P<id>[0-9]{1,18})"):
    """The "Unfollow" button under every alert; it keeps working after a restart (the follow id is in it)."""

    def __init__(self, follow_id: int, lang: str = "en"):
        super().__init__(discord.ui.Button(label=t("unfollow_button", lang), style=discord.ButtonStyle.secondary,
                                           custom_id=f"newsdesk:unfollow:{follow_id}"))  # fmt: skip
        self.follow_id = follow_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]):
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog("FollowCog")
        if cog is not None:
            await cog.unfollow_by_button(interaction, self.follow_id)


class TimelineView(discord.ui.View):
    """Previous / next pages of a timeline."""

    def __init__(self, pages: list[discord.Embed]):
        super().__init__(timeout=900)
        self.pages, self.page = pages, 0
        self._sync()

    def _sync(self) -> None:
        self.previous.disabled = self.page <= 0
        self.next.disabled = self.page >= len(self.pages) - 1

    async def _show(self, interaction: discord.Interaction) -> None:
        self._sync()
        await interaction.response.edit_message(embed=self.pages[self.page], view=self, allowed_mentions=NONE)

    @discord.ui.button(label="◀", style=discord.ButtonStyle.secondary, custom_id="newsdesk:timeline:prev")
    async def previous(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.page = max(0, self.page - 1)
        await self._show(interaction)

    @discord.ui.button(label="▶", style=discord.ButtonStyle.secondary, custom_id="newsdesk:timeline:next")
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.page = min(len(self.pages) - 1, self.page + 1)
        await self._show(interaction)


def _cooldown_text(seconds: float, lang: str) -> str:
    if seconds >= 60:
        return t("minutes", lang, n=round(seconds / 60))
    return t("seconds", lang, n=round(seconds))


class FollowCog(commands.Cog):
    """/timeline, /follow, /unfollow, /following, and the alerts each reindex brings."""

    def __init__(self, bot: commands.Bot, *, engine: Engine, settings: Settings, jobs: Jobs, access: Access):
        self.bot, self.engine, self.settings, self.jobs, self.access = bot, engine, settings, jobs, access
        self.store = FollowStore(follows_path(settings.index_dir))
        self._checking = asyncio.Lock()
        self._wake: asyncio.Task | None = None
        self.checks = 0  # completed checks: what a test (or an operator's debugger) can wait on
        self.alerts_posted = 0

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(UnfollowButton)
        # Before any follow exists in this run: record what the index holds (on the first run), or queue what a
        # reindex made while the bot was stopped brought.
        await self._run_check()
        self.watch.start()

    async def cog_unload(self) -> None:
        self.watch.cancel()
        if self._wake is not None:
            self._wake.cancel()
        self.bot.remove_dynamic_items(UnfollowButton)
        self.store.close()

    # --- checks and alerts -----------------------------------------------------------------------------

    async def _run_check(self) -> None:
        try:
            # On the reindex's worker: a check asks once per follow, and questions keep both of theirs.
            await self.jobs.offload(check_follows, self.engine, self.store, writer=True)
        except IndexMissing:
            pass
        except NewsdeskError as exc:
            log.warning("follows: the index cannot be checked: %s", exc)
        except Exception:
            log.exception("follows: checking the index failed")

    async def check(self) -> None:
        """Match the follows against what changed in the index, then post what is due. One check at a time."""
        async with self._checking:
            await self._run_check()
            await self.deliver()
            self.checks += 1

    @commands.Cog.listener()
    async def on_newsdesk_index_changed(self, summary: Any) -> None:
        """Dispatched by the admin cog after each reindex, /add and scheduled feed refresh."""
        await self.check()

    @tasks.loop(seconds=WATCH_SECONDS)
    async def watch(self) -> None:
        await self.check()

    @watch.before_loop
    async def _before_watch(self) -> None:
        await self.bot.wait_until_ready()

    async def deliver(self) -> None:
        """Post each follow's queued alerts whose cool-down has passed; wake up again when the next one is due."""
        cooldown = self.settings.follow_cooldown
        due, next_due = await self.jobs.offload(lambda: (self.store.due(cooldown), self.store.next_due(cooldown)))
        for item in due:
            await self._post(item)
        if not due and next_due is not None:
            self._wake_at(next_due)
        elif due:
            later = await self.jobs.offload(self.store.next_due, cooldown)
            if later is not None:
                self._wake_at(later)

    def _wake_at(self, when: float) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.cancel()

        async def wake() -> None:
            await asyncio.sleep(max(0.0, when - time.time()) + 0.05)
            async with self._checking:
                await self.deliver()

        self._wake = asyncio.create_task(wake(), name="newsdesk-follow-wake")

    async def _post(self, item: Due) -> None:
        f = item.follow
        kind = discord.ChannelType.private if f.dm else discord.ChannelType.text
        channel = self.bot.get_partial_messageable(f.channel_id, guild_id=None if f.dm else f.guild_id, type=kind)
        view = discord.ui.View(timeout=None)
        view.add_item(UnfollowButton(f.id, f.lang))
        try:
            await channel.send(embed=alert_embed(f, item.alerts), view=view, allowed_mentions=NONE)
        except discord.HTTPException as exc:
            await self._undeliverable(item, exc)
            return
        finally:
            view.stop()  # the button is a dynamic item: nothing needs to stay in memory for it
        await self.jobs.offload(self.store.delivered, f.id, [a.article_key for a in item.alerts])
        self.alerts_posted += 1
        log.info("follow %d: posted %d new article(s) to %s %s", f.id, len(item.alerts), "DM" if f.dm else "channel",
                 f.channel_id)  # fmt: skip

    async def _undeliverable(self, item: Due, exc: discord.HTTPException) -> None:
        """A refused alert disables its follow (or its channel's follows) with a log line; a server error waits."""
        f = item.follow
        if exc.status >= 500 or exc.status == 429:
            log.warning("follow %d: Discord answered %s; the alert waits for the next check", f.id, exc.status)
            return
        if exc.code == UNKNOWN_CHANNEL:
            reason, where = "the channel was deleted", {"channel_id": f.channel_id}
        elif exc.code == CANNOT_DM:
            reason, where = "the member does not accept direct messages", {"follow_id": f.id}
        else:
            reason, where = f"Discord refused the alert ({exc.status}/{exc.code})", {"follow_id": f.id}
        for gone in await self.jobs.offload(lambda: self.store.disable(reason, **where)):
            log.warning("follow %d (%r) disabled: %s", gone.id, gone.topic, reason)

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        for gone in await self.jobs.offload(lambda: self.store.disable("the channel was deleted", channel_id=channel.id)):
            log.info("follow %d (%r) disabled: its channel %s was deleted", gone.id, gone.topic, channel.id)

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        """A member left (Discord sends this with the server members intent only: NEWSDESK_MEMBERS_INTENT)."""
        key = self.store.member_key(payload.guild_id, payload.user.id)
        for gone in await self.jobs.offload(lambda: self.store.disable("the member left the server",
                                                                      guild_id=payload.guild_id, member=key)):  # fmt: skip
            log.info("follow %d (%r) disabled: its member left guild %s", gone.id, gone.topic, payload.guild_id)

    # --- /timeline -----------------------------------------------------------------------------------------

    @app_commands.command(name="timeline", description=_("How a story unfolded: dated quotes, oldest first"))
    @app_commands.describe(
        topic=_("The story, in a few words"),
        since=_("Only articles published on or after this date (2025-05 or 2025-05-12)"),
        until=_("Only articles published on or before this date"),
        source=_("Only articles whose source, link or title contains this"),
    )
    async def timeline(
        self,
        interaction: discord.Interaction,
        topic: app_commands.Range[str, 1, 300],
        since: app_commands.Range[str, 4, 30] | None = None,
        until: app_commands.Range[str, 4, 30] | None = None,
        source: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        filters = filters_of(source, since, until)
        lang = lang_of(interaction.locale)
        if await cooling_down(interaction, self.access):
            return
        await interaction.response.defer(thinking=True)
        story = await self.jobs.offload(build_timeline, self.engine, topic, filters)
        pages = timeline_pages(story, lang)
        view = TimelineView(pages) if len(pages) > 1 else None
        await interaction.edit_original_response(embed=pages[0], view=view, allowed_mentions=NONE)

    # --- /follow, /unfollow, /following --------------------------------------------------------------------

    def _prepare(self, topic: str) -> tuple[Any, list[str], str]:
        """The topic's embedding, the keys of the articles it already matches (its story), the embedder."""
        vector = topic_vector(self.engine, topic)[0]
        story = story_of(self.engine, topic, vector) if self.engine.has_index() else []
        return vector, story, model_of(self.engine)

    @app_commands.command(name="follow", description=_("Get the new articles about a topic as they arrive"))
    @app_commands.describe(
        topic=_("The topic, in a few words"),
        channel=_("Where to post them (this channel by default)"),
        dm=_("Send them to you by direct message instead"),
    )
    @app_commands.guild_only()
    async def follow(self, interaction: discord.Interaction, topic: app_commands.Range[str, 2, 200],
                     channel: discord.TextChannel | None = None, dm: bool = False) -> None:  # fmt: skip
        lang = lang_of(interaction.locale)
        s = self.settings
        guild = interaction.guild
        assert guild is not None  # guild_only
        topic = " ".join(topic.split())
        await interaction.response.defer(ephemeral=True, thinking=True)
        member = self.store.member_key(guild.id, interaction.user.id)
        mine, everyone = await self.jobs.offload(lambda: (self.store.count(guild.id, member), self.store.count(guild.id)))
        if mine >= s.follows_per_member:
            await send_ephemeral(interaction, t("follow_limit_member", lang, n=mine))
            return
        if everyone >= s.follows_per_guild:
            await send_ephemeral(interaction, t("follow_limit_guild", lang, n=everyone))
            return
        if dm:
            try:
                target = await interaction.user.create_dm()
                await target.send(t("follow_dm_hello", lang, topic=escape(topic)), allowed_mentions=NONE)
            except discord.HTTPException as exc:
                log.info("follow refused for %s: no direct messages (%s/%s)", interaction.user.id, exc.status, exc.code)
                await send_ephemeral(interaction, t("follow_dm_refused", lang))
                return
            where = t("follow_dm", lang)
        else:
            target = channel or interaction.channel
            me = guild.me
            if not isinstance(target, discord.TextChannel | discord.Thread) or (
                    me is not None and not target.permissions_for(me).send_messages):  # fmt: skip
                await send_ephemeral(interaction, t("follow_channel_refused", lang))
                return
            where = target.mention
        if await self.jobs.offload(self.store.find, guild.id, member, target.id, topic):
            await send_ephemeral(interaction, t("follow_exists", lang, topic=escape(topic)))
            return
        vector, story, model = await self.jobs.offload(self._prepare, topic)
        added = await self.jobs.offload(lambda: self.store.add(guild_id=guild.id, channel_id=target.id, dm=dm,
                                                              member=member, topic=topic, lang=lang, model=model,
                                                              embedding=vector, story=story))  # fmt: skip
        log.info("follow %d added in guild %s (%d chars, %s, %d known articles)", added.id, guild.id, len(topic),
                 "DM" if dm else f"channel {target.id}", len(story))  # fmt: skip
        await send_ephemeral(interaction, cut(t("follow_done", lang, topic=escape(topic), where=where,
                                                cooldown=_cooldown_text(s.follow_cooldown, lang)), 2000))  # fmt: skip

    def _visible(self, interaction: discord.Interaction) -> tuple[list, bool]:
        """The follows this member may see and stop: their own, or the guild's for an admin."""
        guild = interaction.guild
        assert guild is not None
        if self.access.is_admin(interaction.user, interaction.permissions):
            return self.store.of_guild(guild.id), True
        return self.store.of_member(guild.id, self.store.member_key(guild.id, interaction.user.id)), False

    @app_commands.command(name="unfollow", description=_("Stop following a topic"))
    @app_commands.describe(topic=_("The topic to stop following"))
    @app_commands.guild_only()
    async def unfollow(self, interaction: discord.Interaction, topic: app_commands.Range[str, 1, 200]) -> None:
        lang = lang_of(interaction.locale)
        follows, _admin = await self.jobs.offload(self._visible, interaction)
        wanted = " ".join(fold(topic).split())
        chosen = [f for f in follows if str(f.id) == topic.strip()] or [
            f for f in follows if " ".join(fold(f.topic).split()) == wanted and
            f.member == self.store.member_key(f.guild_id, interaction.user.id)]  # fmt: skip
        if not chosen:
            await send_ephemeral(interaction, t("unfollow_none", lang))
            return
        for f in chosen:
            await self.jobs.offload(self.store.remove, f.id)
            log.info("follow %d removed by %s", f.id, interaction.user.id)
        await send_ephemeral(interaction, cut(t("unfollow_done", lang, topic=escape(chosen[0].topic)), 2000))

    @unfollow.autocomplete("topic")
    async def unfollow_autocomplete(self, interaction: discord.Interaction, current: str):
        follows, _admin = self._visible(interaction)  # a few indexed rows: quick enough for the loop
        q = fold(current or "")
        out = []
        for f in follows:
            if q in fold(f.topic):
                where = "DM" if f.dm else f"#{getattr(self.bot.get_channel(f.channel_id), 'name', f.channel_id)}"
                out.append(app_commands.Choice(name=cut(f"{f.topic} · {where}", 100), value=str(f.id)))
        return out[:25]

    @app_commands.command(name="following", description=_("List your follows (admins: the whole server's)"))
    @app_commands.guild_only()
    async def following(self, interaction: discord.Interaction) -> None:
        follows, guild_wide = await self.jobs.offload(self._visible, interaction)
        embed = following_embed(follows, lang_of(interaction.locale), guild_wide=guild_wide)
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NONE)

    async def unfollow_by_button(self, interaction: discord.Interaction, follow_id: int) -> None:
        lang = lang_of(interaction.locale)
        f = await self.jobs.offload(self.store.get, follow_id)
        if f is None:
            await send_ephemeral(interaction, t("unfollow_none", lang))
            return
        owner = self.store.member_key(f.guild_id, interaction.user.id) == f.member
        admin = interaction.guild is not None and interaction.guild.id == f.guild_id and self.access.is_admin(
            interaction.user, interaction.permissions)  # fmt: skip
        if not (owner or admin):
            await send_ephemeral(interaction, t("unfollow_not_yours", lang))
            return
        await self.jobs.offload(self.store.remove, f.id)
        log.info("follow %d removed by %s (button)", f.id, interaction.user.id)
        await send_ephemeral(interaction, cut(t("unfollow_done", lang, topic=escape(f.topic)), 2000))
