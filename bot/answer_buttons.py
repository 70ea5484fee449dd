"""The buttons under an answer: the feedback votes and "Follow up in a thread".

Both are persistent (discord.ui.DynamicItem): what they need is in their custom_id or in the message that
carries them, so they keep working after a restart. Their callbacks hand over to the cogs.
"""

from __future__ import annotations

import re
import secrets

import discord

from bot.i18n.strings import t
from index.feedback import VOTES

_STYLES = {"helpful": discord.ButtonStyle.success, "wrong_quote": discord.ButtonStyle.danger,
           "outdated": discord.ButtonStyle.secondary}  # fmt: skip
_VOTE_ID = "|".join(VOTES)


def new_answer_id() -> str:
    """A random answer id (16 hex characters), made before the answer is sent: the buttons carry it."""
    return secrets.token_hex(8)


class FeedbackButton(discord.ui.DynamicItem[discord.ui.Button],
                     template=rf"nd:fb:(?P<vote>{_VOTE_ID}):(?P<id>[0-9a-f]{{16}})"):  # fmt: skip
    """One vote on one answer: "nd:fb:<vote>:<answer id>"."""

    def __init__(self, vote: str, answer_id: str, lang: str = "en"):
        super().__init__(discord.ui.Button(label=t(f"vote_{vote}", lang), style=_STYLES[vote], row=0,
                                           custom_id=f"nd:fb:{vote}:{answer_id}"))  # fmt: skip
        self.vote, self.answer_id = vote, answer_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]):
        return cls(match["vote"], match["id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog("FeedbackCog")
        if cog is not None:
            await cog.vote(interaction, self.vote, self.answer_id)


class ThreadButton(discord.ui.DynamicItem[discord.ui.Button], template=r"nd:thread"):
    """Opens a thread from the answer it is under (the thread's id is the message's: its conversation's key)."""

    def __init__(self, lang: str = "en"):
        super().__init__(discord.ui.Button(label=t("thread_button", lang), style=discord.ButtonStyle.primary,
                                           row=1, custom_id="nd:thread"))  # fmt: skip

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]):
        return cls()

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog("QACog")
        if cog is not None:
            await cog.thread_from_button(interaction)


def with_answer_buttons(view: discord.ui.View | None, answer_id: str | None, lang: str, *,
                        thread: bool) -> discord.ui.View | None:  # fmt: skip
    """`view` (or a new one) with the votes (when the answer is on record) and the thread button (when asked)."""
    if answer_id is None and not thread:
        return view
    view = view if view is not None else discord.ui.View(timeout=None)
    if answer_id is not None:
        for vote in VOTES:
            view.add_item(FeedbackButton(vote, answer_id, lang))
    if thread:
        view.add_item(ThreadButton(lang))
    return view
