"""Feedback on answers: the vote buttons under every answer (any member, one vote each, a second click changes
it) and /feedback for admins. The store is index/feedback/; what the votes change in the next answers is
applied by the engine (index/answer/adjust.py)."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.access import Access
from bot.answer_buttons import FeedbackButton
from bot.i18n.strings import lang_of, t
from bot.jobs import Jobs
from bot.render.feedback import feedback_embed
from bot.replies import NONE, send_ephemeral
from bot.settings import Settings
from index.engine import Engine
from index.feedback import FeedbackStore

log = logging.getLogger(__name__)


class FeedbackCog(commands.Cog):
    """The vote buttons' answers and /feedback (admins only)."""

    def __init__(self, bot: commands.Bot, *, engine: Engine, settings: Settings, jobs: Jobs, access: Access,
                 feedback: FeedbackStore | None = None):  # fmt: skip
        self.bot, self.engine, self.settings, self.jobs, self.access = bot, engine, settings, jobs, access
        self.feedback = feedback

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(FeedbackButton)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        # Discord's permission gate (default_permissions) can be opened to everyone by a server owner.
        return self.access.require_admin(interaction)

    async def vote(self, interaction: discord.Interaction, vote: str, answer_id: str) -> None:
        """A member pressed a vote button: record it (an admin's "outdated" counts as an admin's mark)."""
        lang = lang_of(interaction.locale)
        if self.feedback is None:
            await send_ephemeral(interaction, t("feedback_off", lang))
            return
        # The store runs in a worker thread, which may be busy with questions: acknowledge within 3 s first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        admin = vote == "outdated" and self.access.is_admin(interaction.user, interaction.permissions)
        try:
            outcome = await self.jobs.offload(self.feedback.vote, answer_id, guild_id=interaction.guild_id,
                                              user_id=interaction.user.id, vote=vote, admin=admin)  # fmt: skip
        except Exception:
            log.exception("recording a vote failed")
            outcome = "failed"
        log.info("vote %s on answer %s: %s%s", vote, answer_id, outcome, " (admin)" if admin else "")
        await send_ephemeral(interaction, t(f"voted_{outcome}", lang, vote=t(f"vote_{vote}", lang)))

    @app_commands.command(name="feedback", description=_("What members said about the answers (admins)"))
    @app_commands.describe(days=_("Only the votes of the last days"))
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def feedback_summary(self, interaction: discord.Interaction,
                               days: app_commands.Range[int, 1, 3650] | None = None) -> None:  # fmt: skip
        lang = lang_of(interaction.locale)
        if self.feedback is None:
            await send_ephemeral(interaction, t("feedback_off", lang))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        summary = await self.jobs.offload(self.feedback.summary, days)
        await interaction.edit_original_response(embed=feedback_embed(summary, lang), allowed_mentions=NONE)
