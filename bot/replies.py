"""Replies every cog sends the same way: ephemeral answers, the cool-down notice, mentions always off."""

from __future__ import annotations

import contextlib

import discord

from bot.access import Access
from bot.i18n.strings import lang_of, t

# Quoted text can hold @everyone or a member's mention: nothing the bot sends pings anyone.
NONE = discord.AllowedMentions.none()


async def send_ephemeral(interaction: discord.Interaction, text: str) -> None:
    """Answer with a message only the user sees; after a defer, replace the "thinking…" message instead."""
    with contextlib.suppress(discord.HTTPException):
        if not interaction.response.is_done():
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NONE)
        elif interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
            await interaction.edit_original_response(content=text, embed=None, view=None, allowed_mentions=NONE)
        else:
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NONE)


def wait_text(left: float, lang: str) -> str:
    """How long to wait before the next question (whole seconds, rounded up from half a second)."""
    return t("cooldown", lang, seconds=round(left + 0.5))


async def cooling_down(interaction: discord.Interaction, access: Access) -> bool:
    """Whether the member asked too recently; if so, they are told how long to wait."""
    left = access.cooldown_left(interaction.user.id)
    if left > 0:
        await send_ephemeral(interaction, wait_text(left, lang_of(interaction.locale)))
        return True
    return False
