"""Members' side: questions by mention or in Q&A channels, /ask, /search, /sources, /status."""

from __future__ import annotations

import logging
import re
from dataclasses import replace

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.access import Access
from bot.i18n.errors import error_text
from bot.i18n.strings import lang_of, t
from bot.jobs import Jobs
from bot.options import filters_of
from bot.render import embeds as render
from bot.replies import NONE, cooling_down, wait_text
from bot.settings import Settings
from index.engine import Engine
from index.errors import IndexMissing, NewsdeskError
from index.lang import detect_language
from index.lang.cues import has_question_form
from index.records import Answer

log = logging.getLogger(__name__)

_MENTION = re.compile(r"<@!?\d+>")


def looks_like_question(text: str, min_chars: int, require_form: bool) -> bool:
    """Whether a Q&A-channel message is a question worth answering (not chatter)."""
    text = text.strip()
    if len(text) < min_chars:
        return False
    if not require_form:
        return True
    return text.endswith("?") or has_question_form(text)


class MoreView(discord.ui.View):
    """A "More" button that shows the next quotes of an answer."""

    def __init__(self, answer: Answer, lang: str, ephemeral: bool):
        super().__init__(timeout=900)
        self.answer = answer
        self.lang = lang
        self.ephemeral = ephemeral
        self.shown = len(answer.quotes)
        self.more.label = t("more", lang)

    @discord.ui.button(label="More", style=discord.ButtonStyle.secondary, custom_id="newsdesk:more")
    async def more(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        rest = self.answer.more[self.shown - len(self.answer.quotes) :]
        if not rest:
            await interaction.response.send_message(t("no_more", self.lang), ephemeral=True, allowed_mentions=NONE)
            return
        batch = rest[:3]
        start = self.shown + 1
        self.shown += len(batch)
        embed = render.answer_embed(self.answer, quotes=batch, start=start)
        await interaction.response.send_message(embed=embed, ephemeral=self.ephemeral, allowed_mentions=NONE)


class SourcesView(discord.ui.View):
    """Previous / next pages of the indexed articles."""

    def __init__(self, refs, lang: str):
        super().__init__(timeout=600)
        self.refs, self.lang, self.page = refs, lang, 0
        _, self.pages = render.sources_embed(refs, 0, lang)
        self._sync()

    def _sync(self) -> None:
        self.previous.disabled = self.page <= 0
        self.next.disabled = self.page >= self.pages - 1

    async def _show(self, interaction: discord.Interaction) -> None:
        self._sync()
        embed, _ = render.sources_embed(self.refs, self.page, self.lang)
        await interaction.response.edit_message(embed=embed, view=self, allowed_mentions=NONE)

    @discord.ui.button(label="◀", style=discord.ButtonStyle.secondary, custom_id="newsdesk:sources:prev")
    async def previous(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.page -= 1
        await self._show(interaction)

    @discord.ui.button(label="▶", style=discord.ButtonStyle.secondary, custom_id="newsdesk:sources:next")
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.page += 1
        await self._show(interaction)


class QACog(commands.Cog):
    """Questions by mention or in Q&A channels, /ask, /search, /sources, /status."""

    def __init__(self, bot: commands.Bot, *, engine: Engine, settings: Settings, jobs: Jobs, access: Access):
        self.bot, self.engine, self.settings, self.jobs, self.access = bot, engine, settings, jobs, access

    # --- messages --------------------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.bot.user is None:
            return
        settings = self.settings
        mentioned = settings.answer_mentions and self.bot.user in message.mentions
        in_qa = message.channel.id in settings.qa_channel_ids
        if not (mentioned or in_qa):
            return
        question = _MENTION.sub(" ", message.content).strip()
        if not mentioned and not looks_like_question(question, settings.min_question_chars,
                                                     settings.require_question_form):  # fmt: skip
            return
        if not question:
            return
        left = self.access.cooldown_left(message.author.id)
        if left > 0:
            await message.reply(wait_text(left, _lang_of_text(question)), allowed_mentions=NONE,
                                mention_author=False, delete_after=10)  # fmt: skip
            return
        async with message.channel.typing():
            try:
                answer = await self.jobs.offload(self.engine.ask, question)
                content = render.answer_text(answer)
            except NewsdeskError as exc:
                content = error_text(exc, _lang_of_text(question))
            except Exception:
                log.exception("answering a message failed")
                content = t("error_generic", _lang_of_text(question))
        await message.reply(content, allowed_mentions=NONE, mention_author=False)

    # --- slash commands --------------------------------------------------------------------------------

    @app_commands.command(name="ask", description=_("Answer a question with quotes from the articles"))
    @app_commands.describe(
        question=_("Your question"),
        source=_("Only articles whose source, link or title contains this"),
        since=_("Only articles published on or after this date (2025-05 or 2025-05-12)"),
        until=_("Only articles published on or before this date"),
        private=_("Show the answer to you only"),
    )
    async def ask(
        self,
        interaction: discord.Interaction,
        question: app_commands.Range[str, 1, 2000],
        source: app_commands.Range[str, 1, 100] | None = None,
        since: app_commands.Range[str, 4, 30] | None = None,
        until: app_commands.Range[str, 4, 30] | None = None,
        private: bool = False,
    ) -> None:
        filters = filters_of(source, since, until)
        if await cooling_down(interaction, self.access):
            return
        await interaction.response.defer(ephemeral=private, thinking=True)
        lang = lang_of(interaction.locale)
        answer = replace(await self.jobs.offload(self.engine.ask, question, None, filters), lang=lang)
        embed = render.answer_embed(answer)
        view = MoreView(answer, lang, private) if answer.answered and answer.more else None
        await interaction.edit_original_response(embed=embed, view=view, allowed_mentions=NONE)

    @app_commands.command(name="search", description=_("List the passages that match some words"))
    @app_commands.describe(query=_("Words to look for"), k=_("How many passages"))
    async def search(self, interaction: discord.Interaction, query: app_commands.Range[str, 1, 300],
                     k: app_commands.Range[int, 1, 10] = 5) -> None:  # fmt: skip
        await interaction.response.defer(thinking=True)
        hits = await self.jobs.offload(self.engine.search, query, k)
        embed = render.hits_embed(query, hits, lang_of(interaction.locale))
        await interaction.edit_original_response(embed=embed, allowed_mentions=NONE)

    @app_commands.command(name="sources", description=_("Browse the indexed articles, newest first"))
    @app_commands.describe(query=_("Words in the title or source"))
    async def sources(self, interaction: discord.Interaction, query: app_commands.Range[str, 1, 100] | None = None) -> None:
        await interaction.response.defer(thinking=True)
        refs = await self.jobs.offload(self.engine.articles, query)
        lang = lang_of(interaction.locale)
        embed, pages = render.sources_embed(refs, 0, lang)
        view = SourcesView(refs, lang) if pages > 1 else None
        await interaction.edit_original_response(embed=embed, view=view, allowed_mentions=NONE)

    @sources.autocomplete("query")
    async def sources_autocomplete(self, interaction: discord.Interaction, current: str):
        try:
            # engine.articles() can read every article's record: never on the event loop.
            refs = (await self.jobs.offload(self.engine.articles, current or None))[:25]
        except NewsdeskError:
            return []
        return [app_commands.Choice(name=render.cut(r.title, 100), value=render.cut(r.title, 100)) for r in refs]

    @app_commands.command(name="status", description=_("What the index holds and how the bot is doing"))
    async def status(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        try:
            stats = await self.jobs.offload(self.engine.stats)
        except IndexMissing:
            stats = None
        embed = render.status_embed(stats, self.bot.latency * 1000, lang_of(interaction.locale))
        await interaction.edit_original_response(embed=embed, allowed_mentions=NONE)


def _lang_of_text(text: str) -> str:
    """The language to answer a message in: French for a French question, else English."""
    return "fr" if detect_language(text) == "fr" else "en"
