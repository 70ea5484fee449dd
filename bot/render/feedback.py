"""The admins' view of the votes (/feedback) as one embed, within Discord's limits. Nothing here sends anything."""

from __future__ import annotations

import discord

from bot.i18n.strings import t
from bot.render.embeds import COLOUR, DESCRIPTION_MAX, FIELD_VALUE_MAX, cut, escape
from index.feedback import VOTES, FeedbackSummary, Flagged
from index.text.normalize import normalize_line


def _tally(votes: dict[str, int], lang: str) -> str:
    return " · ".join(f"{t(f'vote_{v}', lang)} {votes.get(v, 0)}" for v in VOTES)


def _lines(items: tuple[Flagged, ...], lang: str, *, with_lang: bool) -> str:
    lines = []
    for f in items:
        label = escape(cut(normalize_line(f.label) or f.key, 150))
        where = f" (`{f.key}`)" if with_lang and f.key.isalpha() and len(f.key) <= 3 else ""
        lines.append(f"• {label}{where} — {_tally(f.votes, lang)}")
    return cut("\n".join(lines), FIELD_VALUE_MAX)


def feedback_embed(summary: FeedbackSummary, lang: str) -> discord.Embed:
    """Counts per vote over the period, the most flagged articles and questions, and when effects were reset."""
    embed = discord.Embed(title=t("feedback_title", lang), colour=COLOUR)
    days = summary.since_days
    period = t("feedback_all", lang) if days is None else t("feedback_since", lang, days=f"{days:g}")
    if not summary.answers:
        embed.description = f"{t('feedback_none', lang)} ({period})"
        return embed
    lines = [t("feedback_counts", lang, answers=summary.answers, period=period), _tally(summary.votes, lang)]
    if summary.effects_since:
        lines.append(t("feedback_reset", lang, date=summary.effects_since[:10]))
    embed.description = cut("\n".join(lines), DESCRIPTION_MAX)
    if summary.articles:
        embed.add_field(name=t("feedback_articles", lang), value=_lines(summary.articles, lang, with_lang=False),
                        inline=False)  # fmt: skip
    if summary.questions:
        embed.add_field(name=t("feedback_questions", lang), value=_lines(summary.questions, lang, with_lang=True),
                        inline=False)  # fmt: skip
    return embed
