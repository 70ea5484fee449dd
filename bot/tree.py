"""The one command tree: every slash command's error becomes a short, ephemeral sentence in the member's language."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.access import NotAdmin
from bot.i18n.errors import error_text, refusal_text
from bot.i18n.strings import lang_of, t
from bot.replies import send_ephemeral
from index.errors import NewsdeskError

log = logging.getLogger(__name__)


def error_reply(error: app_commands.AppCommandError, command: str | None, lang: str) -> str:
    """What the member reads: the domain error's words, what a check refused, or an apology (logged)."""
    cause = getattr(error, "original", error)
    if isinstance(cause, NewsdeskError):
        log.info("command %s: %s", command, cause)
        return error_text(cause, lang)
    if isinstance(error, app_commands.CheckFailure):
        return refusal_text(command, lang, admin=isinstance(error, NotAdmin))
    log.error("command %s failed", command, exc_info=cause)
    return t("error_generic", lang)


class NewsdeskTree(app_commands.CommandTree):
    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        command = interaction.command.qualified_name if interaction.command else None
        await send_ephemeral(interaction, error_reply(error, command, lang_of(interaction.locale)))
