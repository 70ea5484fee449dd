"""Members' side: questions by mention, in Q&A channels, by reply and in the bot's threads; /ask, /search,
/sources, /status.

A reply to one of the bot's answers, or a question in a thread the bot opened from one, is a follow-up: it is
asked with its conversation's turns (bot/conversations.py, in memory only). Every answer with quotes is kept in
the feedback store before it is sent (when the store is on), so that its vote buttons can be recorded.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.access import Access
from bot.answer_buttons import ThreadButton, new_answer_id, with_answer_buttons
from bot.conversations import Conversations
from bot.i18n.errors import error_text
from bot.i18n.strings import lang_of, t
from bot.jobs import Jobs
from bot.options import filters_of
from bot.render import embeds as render
from bot.replies import NONE, cooling_down, wait_text
from bot.settings import Settings
from index.answer.conversation import Turn
from index.engine import Engine
from index.errors import IndexMissing, NewsdeskError
from index.feedback import FeedbackStore
from index.lang import detect_language
from index.lang.cues import has_question_form
from index.records import Answer, Filters
from index.stories.follows import model_of
from index.text.normalize import normalize_line

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


def thread_name(question: str, lang: str) -> str:
    """A thread's name from its first question: one line, at most 100 characters (Discord's limit)."""
    return render.cut(normalize_line(question), 100) or t("thread_name", lang)


def remember_answer(engine: Engine, store: FeedbackStore, answer_id: str, answer: Answer, guild_id: int | None,
                    channel_id: int | None) -> None:  # fmt: skip
    """Keep an answer in the feedback store with its question's vector (in a worker thread: it embeds)."""
    vector = engine.embedder.encode_queries([answer.question])[0]
    store.remember(answer_id, guild_id=guild_id, channel_id=channel_id, answer=answer, model=model_of(engine),
                   question_vector=vector)  # fmt: skip


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
    """Questions by mention, in Q&A channels, by reply and in its threads; /ask, /search, /sources, /status."""

    def __init__(self, bot: commands.Bot, *, engine: Engine, settings: Settings, jobs: Jobs, access: Access,
                 feedback: FeedbackStore | None = None, conversations: Conversations | None = None):  # fmt: skip
        self.bot, self.engine, self.settings, self.jobs, self.access = bot, engine, settings, jobs, access
        self.feedback = feedback
        if conversations is None:
            conversations = Conversations(settings.conversation_turns, settings.conversation_minutes)
        self.conversations = conversations

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(ThreadButton)

    # --- messages --------------------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.bot.user is None:
            return
        addressed = self._addressed(message)
        if addressed is None:
            return
        question, key = addressed
        lang = _lang_of_text(question)
        left = self.access.cooldown_left(message.author.id)
        if left > 0:
            await message.reply(wait_text(left, lang), allowed_mentions=NONE, mention_author=False, delete_after=10)
            return
        answer = answer_id = None
        async with message.channel.typing():
            try:
                answer, answer_id = await self._answer(question, key, message.guild, message.channel)
                content = render.answer_text(answer)
            except NewsdeskError as exc:
                content = error_text(exc, lang)
            except Exception:
                log.exception("answering a message failed")
                content = t("error_generic", lang)
        view = with_answer_buttons(None, answer_id, lang, thread=self._offers_thread(message.channel))
        sent = await message.reply(content, view=view, allowed_mentions=NONE, mention_author=False)
        if answer is not None:
            await self._continue(key, answer, sent, question)

    def _addressed(self, message: discord.Message) -> tuple[str, int | None] | None:
        """The question a message asks the bot and the conversation it continues; None when it is not for the bot.

        A mention is always for the bot; a message in a Q&A channel, in one of the bot's threads or in reply to
        one of its messages is when it looks like a question (chatter there is left alone).
        """
        settings, me = self.settings, self.bot.user
        mentioned = settings.answer_mentions and me in message.mentions
        key = self._thread_key(message.channel)
        reference = message.reference
        replied = key is None and reference is not None and reference.message_id is not None and (
            self.conversations.key_of(reference.message_id) is not None
            or getattr(reference.resolved, "author", None) == me)  # fmt: skip
        if replied:
            key = self.conversations.key_of(reference.message_id)
        in_thread = isinstance(message.channel, discord.Thread) and message.channel.owner_id == me.id
        if not (mentioned or message.channel.id in settings.qa_channel_ids or in_thread or replied):
            return None
        question = _MENTION.sub(" ", message.content).strip()
        if not mentioned and not looks_like_question(question, settings.min_question_chars,
                                                     settings.require_question_form):  # fmt: skip
            return None
        return (question, key) if question else None

    def _thread_key(self, channel: object) -> int | None:
        """In a thread the bot opened from an answer: its conversation (the answer's, while remembered)."""
        if not (isinstance(channel, discord.Thread) and self.bot.user and channel.owner_id == self.bot.user.id):
            return None
        return self.conversations.key_of(channel.id) or channel.id

    def _offers_thread(self, channel: object) -> bool:
        """Whether an answer here gets the "Follow up in a thread" button."""
        return self.settings.answer_threads == "on-request" and isinstance(channel, discord.TextChannel)

    async def _answer(self, question: str, key: int | None, guild: discord.Guild | None, channel: object,
                      filters: Filters | None = None) -> tuple[Answer, str | None]:  # fmt: skip
        """Ask with the conversation's turns, off the event loop; the answer and its id in the feedback store."""
        turns = self.conversations.turns(key)
        answer = await self.jobs.offload(self.engine.ask, question, None, filters, context=turns)
        return answer, await self._remember(answer, guild.id if guild else None, getattr(channel, "id", None))

    async def _remember(self, answer: Answer, guild_id: int | None, channel_id: int | None) -> str | None:
        """Keep an answer with quotes for its votes; None (sent without vote buttons) when the store is off or fails."""
        if self.feedback is None or not answer.answered:
            return None
        answer_id = new_answer_id()
        try:
            await self.jobs.offload(remember_answer, self.engine, self.feedback, answer_id, answer, guild_id,
                                    channel_id)  # fmt: skip
        except Exception:
            log.exception("the feedback store could not keep an answer: it is sent without vote buttons")
            return None
        return answer_id

    async def _continue(self, key: int | None, answer: Answer, sent: discord.Message, question: str) -> None:
        """Add the turn to its conversation (a new one is keyed by this answer); open a thread when always on."""
        self.conversations.add(key or sent.id, Turn.of(answer), sent.id)
        if key is None and self.settings.answer_threads == "always":
            await self._open_thread(sent, question, answer.lang)

    async def _open_thread(self, message: discord.Message, question: str, lang: str) -> discord.Thread | None:
        """A thread from the answer, where the channel allows it; else None (the answer stays in the channel)."""
        channel = message.channel
        if not isinstance(channel, discord.TextChannel):
            return None
        if not channel.permissions_for(channel.guild.me).create_public_threads:
            log.info("no thread from the answer in #%s: the bot may not open threads there", channel)
            return None
        try:
            return await message.create_thread(name=thread_name(question, lang), auto_archive_duration=1440)
        except discord.HTTPException as exc:
            log.warning("no thread from the answer in #%s: %s", channel, exc)
            return None

    async def thread_from_button(self, interaction: discord.Interaction) -> None:
        """ "Follow up in a thread": open it from the answer that carries the button (or say why not)."""
        lang = lang_of(interaction.locale)
        message = interaction.message
        await interaction.response.defer()
        turns = self.conversations.turns(self.conversations.key_of(message.id))
        try:
            await message.create_thread(name=thread_name(turns[0].question if turns else "", lang),
                                        auto_archive_duration=1440)  # fmt: skip
            return
        except discord.HTTPException as exc:
            log.info("thread button in #%s: %s", interaction.channel, exc)
            text = t("thread_exists", lang, thread=message.id) if exc.code == 160004 else t("thread_refused", lang)
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NONE)

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
        key = None if private else self._thread_key(interaction.channel)
        answer, answer_id = await self._answer(question, key, interaction.guild, interaction.channel, filters)
        shown = replace(answer, lang=lang)  # the member's language; the turn keeps the question's
        embed = render.answer_embed(shown)
        view = MoreView(shown, lang, private) if answer.answered and answer.more else None
        view = with_answer_buttons(view, answer_id, lang, thread=not private and self._offers_thread(interaction.channel))
        sent = await interaction.edit_original_response(embed=embed, view=view, allowed_mentions=NONE)
        if not private:
            await self._continue(key, answer, sent, question)

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
