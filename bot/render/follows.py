"""Pure rendering of timelines, follow alerts and follow lists as Discord embeds, within Discord's limits.

The same rules as bot/render/embeds.py: article text and metadata escaped, links only through clean_url (in
`source_markdown`), nothing sent from here.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.i18n.strings import t
from bot.render.embeds import (
    COLOUR,
    DESCRIPTION_MAX,
    EMBED_TOTAL_MAX,
    FIELD_VALUE_MAX,
    FOOTER_MAX,
    NOT_FOUND_COLOUR,
    TITLE_MAX,
    _quote_markdown,
    cut,
    escape,
    source_markdown,
)
from index.files import iso_utc as iso
from index.records import ArticleRef
from index.stories.follows import Alert, Follow
from index.stories.timeline import Timeline, TimelineEntry

TIMELINE_PER_PAGE = 5  # entries per embed: five quotes of the longest kind still fit in its description
ALERT_QUOTES_MAX = 8  # matches shown in one alert; the rest are counted


def _others(refs: Sequence[ArticleRef], lang: str, limit: int = 900) -> str:
    """ "also in: [title](<url>) · date · source ; …": the same story in other outlets (whole links only)."""
    out = f"*{t('also_in', lang)}* "
    parts: list[str] = []
    for ref in refs:
        part = source_markdown(ref, lang)
        if parts and len(out + " ; ".join([*parts, part])) > limit:
            parts.append(f"(+{len(refs) - len(parts)})")
            break
        parts.append(part)
    return out + " ; ".join(parts)


def _entry_block(entry: TimelineEntry, lang: str) -> str:
    ref = entry.article
    date = escape(ref.date) if ref.date else f"*{t('unknown_date', lang)}*"
    head = f"**{date}**" + (f" · **{t('newest', lang)}**" if entry.newest else "")
    block = f"{head}\n« {_quote_markdown(entry.quote, 600)} »\n— {source_markdown(ref, lang)}"
    if entry.also:
        block += "\n— " + _others(entry.also, lang)
    return block


def timeline_pages(timeline: Timeline, lang: str) -> list[discord.Embed]:
    """The timeline as embeds of TIMELINE_PER_PAGE entries (oldest first), or one "not told" embed."""
    title = cut(t("timeline_title", lang, topic=escape(" ".join(timeline.topic.split()))), TITLE_MAX)
    if not timeline.entries:
        embed = discord.Embed(title=title, colour=NOT_FOUND_COLOUR, description=t("timeline_none", lang))
        if timeline.related:
            lines = [f"• {source_markdown(r, lang)}" for r in timeline.related]
            embed.add_field(name=t("related", lang), value=cut("\n".join(lines), FIELD_VALUE_MAX), inline=False)
        return [embed]
    # Pages of up to TIMELINE_PER_PAGE entries, fewer when long quotes would overflow the description.
    chunks: list[list[str]] = [[]]
    for entry in timeline.entries:
        block = _entry_block(entry, lang)
        page = chunks[-1]
        if page and (len(page) >= TIMELINE_PER_PAGE or len("\n\n".join([*page, block])) > DESCRIPTION_MAX):
            chunks.append(page := [])
        page.append(block)
    out = []
    total = len(timeline.entries)
    for n, blocks in enumerate(chunks, start=1):
        embed = discord.Embed(title=title, colour=COLOUR, description=cut("\n\n".join(blocks), DESCRIPTION_MAX))
        embed.set_footer(text=cut(t("timeline_footer", lang, page=n, pages=len(chunks), total=total), FOOTER_MAX))
        out.append(embed)
    return out


def alert_embed(follow: Follow, alerts: Sequence[Alert]) -> discord.Embed:
    """One message for the queued matches of a follow: each article's quote with its title, date, source, link."""
    lang = follow.lang
    title = cut(t("alert_title", lang, topic=escape(" ".join(follow.topic.split()))), TITLE_MAX)
    embed = discord.Embed(title=title, colour=COLOUR)
    blocks = []
    for alert in alerts[:ALERT_QUOTES_MAX]:
        block = f"« {_quote_markdown(alert.quote, 500)} »\n— {source_markdown(alert.quote.article, lang)}"
        if alert.also:
            block += "\n— " + _others(alert.also, lang)
        blocks.append(block)
    rest = len(alerts) - len(blocks)
    description = "\n\n".join(blocks) + (f"\n\n(+{rest})" if rest > 0 else "")
    while len(description) > DESCRIPTION_MAX and len(blocks) > 1:
        blocks.pop()
        rest += 1
        description = "\n\n".join(blocks) + f"\n\n(+{rest})"
    embed.description = cut(description, DESCRIPTION_MAX)
    since = (iso(follow.created_at) or "")[:10]
    embed.set_footer(text=cut(t("alert_footer", lang, n=len(alerts), date=since), FOOTER_MAX))
    return embed


def following_embed(follows: Sequence[Follow], lang: str, *, guild_wide: bool) -> discord.Embed:
    """The follows of a member (or of the guild, for admins): topic, where, since when, last alert, state."""
    embed = discord.Embed(title=t("following_guild" if guild_wide else "following_mine", lang), colour=COLOUR)
    if not follows:
        embed.description = t("following_none", lang)
        return embed
    lines = []
    for f in follows:
        where = t("follow_dm", lang) if f.dm else f"<#{f.channel_id}>"
        bits = [f"`{f.id}` **{escape(cut(' '.join(f.topic.split()), 150))}**", where,
                t("following_since", lang, date=(iso(f.created_at) or "")[:10])]  # fmt: skip
        if f.last_alerted_at:
            bits.append(t("following_last", lang, date=(iso(f.last_alerted_at) or "")[:10]))
        if not f.active:
            bits.append(t("following_paused", lang, reason=escape(f.disabled_reason or "?")))
        lines.append(" · ".join(bits))
    shown = []
    for line in lines:
        if len("\n".join([*shown, line])) > DESCRIPTION_MAX - 20:
            shown.append(f"(+{len(lines) - len(shown)})")
            break
        shown.append(line)
    embed.description = "\n".join(shown)
    while len(embed) > EMBED_TOTAL_MAX:  # the title and footer are short: the description always fits
        embed.description = cut(embed.description, len(embed.description) - 100)
    return embed
