"""Pure functions from engine records to Discord messages, always within Discord's limits.

Article text is markdown-escaped (a quoted `**` or `[x](y)` shows as written); question terms are bolded
from the quote's highlight spans, after escaping. Metadata (title, date, source) is made one clean line and
escaped; a link is built only from a URL that passes `clean_url` here, whatever the index holds (an index
written by an older version may hold any string). Nothing here sends anything.
"""

from __future__ import annotations

import math
import re

import discord

from bot.i18n.strings import t
from index.records import Answer, ArticleRef, Hit, IndexStats, Quote
from index.sources.urls import clean_url
from index.text.normalize import normalize_line

CONTENT_MAX = 2000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
FIELDS_MAX = 25
EMBED_TOTAL_MAX = 6000
QUOTE_MAX = 700  # a quote longer than this is cut at a word boundary
COLOUR = discord.Colour(0x2B6CB0)
NOT_FOUND_COLOUR = discord.Colour(0x718096)
SOURCES_PER_PAGE = 8


# What Discord turns into a link by itself (its autolink rule): kept as written but for brackets and
# backslashes, since an escape inside it would become part of the link.
_URL_SPAN = re.compile(r"(?:https?|steam)://[^\s<]+[^<.,:;\"'\]\s]")
_MARKUP = re.compile(r"[\\\[\]*_~`|<>#]")  # escaped one by one, wherever they are
_IN_URL = re.compile(r"[\\\[\]]")
_LIST = re.compile(r"^([ \t]*)-", re.MULTILINE)  # "- item" and "-# small text" at the start of a line


def escape(text: str) -> str:
    """Escape Markdown and neutralise mentions-looking text (shown as written, never parsed).

    Every character Markdown could act on gets its own backslash (discord.utils.escape_markdown escapes a
    whole `[a](b) ... [c](d)` span with one backslash, leaving the second link and what lies between live).
    Brackets are escaped even inside a bare URL: a `](` can never end a masked link's title and start another.
    """
    out, last = [], 0
    for m in _URL_SPAN.finditer(text):
        out.append(_MARKUP.sub(r"\\\g<0>", text[last : m.start()]))
        out.append(_IN_URL.sub(r"\\\g<0>", m.group()))
        last = m.end()
    out.append(_MARKUP.sub(r"\\\g<0>", text[last:]))
    return _LIST.sub(r"\1\\-", "".join(out)).replace("@", "@\u200b")


def link_text(text: str) -> str:
    """`text` for the inside of a masked link `[text](<url>)`: one line, escaped, and without square brackets.

    Discord's link rule reads the title up to the first `](` before any escape is applied, so an escaped
    bracket is not enough there: `[` and `]` become parentheses.
    """
    return escape(_line(text).replace("[", "(").replace("]", ")"))


def cut(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut `text` to at most `limit` characters at a word boundary, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    head = text[: max(0, limit - len(ellipsis))]
    if " " in head[len(head) // 2 :]:
        head = head[: head.rfind(" ")]
    return head.rstrip() + ellipsis


def _quote_markdown(quote: Quote, limit: int = QUOTE_MAX) -> str:
    """The quote, escaped, with question terms in bold, cut at a word boundary to fit `limit`."""
    text = quote.text
    spans = list(quote.highlights)
    shown = cut(text, limit - 40)
    cut_at = len(shown.removesuffix("…")) if shown != text else len(text)
    out, last = [], 0
    for s, e in spans:
        if e > cut_at:
            break
        out += [escape(text[last:s]), "**", escape(text[s:e]), "**"]
        last = e
    out.append(escape(text[last:cut_at]))
    body = "".join(out) + ("…" if cut_at < len(text) else "")
    if len(body) > limit:  # escaping can lengthen text; fall back to plain escaped text
        body = escape(cut(text, limit // 2))
    return body


def language_mark(quote: Quote, lang: str) -> str:
    """"`FR` " before a quote in another language than the question (quotes are shown as written)."""
    other = _line(quote.article.lang)
    return f"`{other.upper()}` " if other and lang and other != lang and other.isalpha() and len(other) <= 3 else ""


def _line(text: str | None) -> str:
    """A metadata value as one line without control, bidi or invisible characters (not escaped)."""
    return normalize_line(text) if text else ""


def source_markdown(ref: ArticleRef, lang: str) -> str:
    """The article as "[title](<url>) · date · source": one link at most, to a URL clean_url accepts."""
    title = link_text(cut(_line(ref.title) or "…", 200))
    url = clean_url(ref.url) if isinstance(ref.url, str) else None
    link = f"[{title}](<{url}>)" if url else f"**{title}**"
    bits = [link, escape(_line(ref.date)) or t("unknown_date", lang)]
    if source := _line(ref.source):
        bits.append(escape(cut(source, 80)))
    return " · ".join(bits)


def _fit(embed: discord.Embed) -> discord.Embed:
    """Drop trailing fields until the embed is within Discord's 6,000-character total."""
    while len(embed) > EMBED_TOTAL_MAX and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    return embed


def following_up(answer: Answer) -> str:
    """"-# Following up on “earlier question”" when the answer took its conversation's context, else ""."""
    if answer.context_from is None:
        return ""
    earlier = escape(cut(_line(answer.context_from), 150))
    return f"-# ↪ {t('following_up', answer.lang, question=earlier)}\n"


def answer_embed(answer: Answer, quotes: tuple[Quote, ...] | None = None, start: int = 1) -> discord.Embed:
    """The answer as one embed: quotes with linked sources, or "not in the articles" with related reading."""
    lang = answer.lang
    footer = t("footer", lang, articles=answer.articles_searched, ms=round(answer.took_ms))
    context = following_up(answer) if start == 1 else ""
    if not answer.answered:
        embed = discord.Embed(title=t("not_found_title", lang), colour=NOT_FOUND_COLOUR,
                              description=context + t("not_found", lang))  # fmt: skip
        if answer.related:
            lines = [f"• {source_markdown(r, lang)}" for r in answer.related]
            embed.add_field(name=t("related", lang), value=cut("\n".join(lines), FIELD_VALUE_MAX), inline=False)
        embed.set_footer(text=cut(footer, FOOTER_MAX))
        return _fit(embed)
    quotes = answer.quotes if quotes is None else quotes
    embed = discord.Embed(title=cut(t("answer_title", lang), TITLE_MAX), colour=COLOUR)
    blocks = []
    for n, q in enumerate(quotes, start=start):
        blocks.append(f"**{n}.** {language_mark(q, lang)}« {_quote_markdown(q)} »\n— {source_markdown(q.article, lang)}")
    description = context + "\n\n".join(blocks)
    while len(description) > DESCRIPTION_MAX and len(blocks) > 1:
        blocks.pop()
        description = context + "\n\n".join(blocks)
    embed.description = cut(description, DESCRIPTION_MAX)
    embed.set_footer(text=cut(footer, FOOTER_MAX))
    return _fit(embed)


def answer_text(answer: Answer) -> str:
    """The answer as plain message content (replies to messages), within 2,000 characters."""
    lang = answer.lang
    context = following_up(answer)
    if not answer.answered:
        lines = [context + t("not_found", lang)]
        if answer.related:
            lines.append(t("related", lang))
            lines += [f"• {source_markdown(r, lang)}" for r in answer.related]
        return cut("\n".join(lines), CONTENT_MAX)
    parts = [context.rstrip("\n")] if context else []
    budget = CONTENT_MAX - 80
    for n, q in enumerate(answer.quotes, start=1):
        block = f"**{n}.** {language_mark(q, lang)}« {_quote_markdown(q, 600)} »\n— {source_markdown(q.article, lang)}"
        if len("\n\n".join([*parts, block])) > budget:
            break
        parts.append(block)
    parts.append(f"-# {t('footer', lang, articles=answer.articles_searched, ms=round(answer.took_ms))}")
    return cut("\n\n".join(parts), CONTENT_MAX)


def hits_embed(query: str, hits: list[Hit], lang: str) -> discord.Embed:
    embed = discord.Embed(title=cut(t("search_title", lang, query=query), TITLE_MAX), colour=COLOUR)
    if not hits:
        embed.description = t("search_none", lang)
        return embed
    for n, h in enumerate(hits[:FIELDS_MAX], start=1):
        name = cut(f"{n}. {escape(cut(_line(h.article.title), 200))}", FIELD_NAME_MAX)
        value = cut(f"{escape(cut(h.passage.text, 600))}\n— {source_markdown(h.article, lang)}", FIELD_VALUE_MAX)
        embed.add_field(name=name, value=value, inline=False)
    return _fit(embed)


def sources_embed(refs: list[ArticleRef], page: int, lang: str) -> tuple[discord.Embed, int]:
    """One page of indexed articles, newest first; returns the embed and the number of pages."""
    pages = max(1, math.ceil(len(refs) / SOURCES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    embed = discord.Embed(title=t("sources_title", lang), colour=COLOUR)
    chunk = refs[page * SOURCES_PER_PAGE : (page + 1) * SOURCES_PER_PAGE]
    embed.description = cut("\n".join(f"• {source_markdown(r, lang)}" for r in chunk) or t("sources_none", lang),
                            DESCRIPTION_MAX)  # fmt: skip
    embed.set_footer(text=t("page", lang, page=page + 1, pages=pages, total=len(refs)))
    return embed, pages


def status_embed(stats: IndexStats | None, latency_ms: float, lang: str) -> discord.Embed:
    embed = discord.Embed(title=t("status_title", lang), colour=COLOUR)
    if stats is None:
        embed.description = t("no_index", lang)
    else:
        langs = ", ".join(f"{k} ({v})" for k, v in stats.languages.items()) or "-"
        embed.add_field(name=t("status_articles", lang), value=str(stats.articles))
        embed.add_field(name=t("status_passages", lang), value=str(stats.passages))
        embed.add_field(name=t("status_languages", lang), value=cut(langs, FIELD_VALUE_MAX))
        model = f"{stats.model} · {stats.index_type}"
        if stats.upgrade:
            model += " → " + t("status_upgrade", lang, model=stats.upgrade)
        embed.add_field(name=t("status_model", lang), value=cut(model, FIELD_VALUE_MAX))
        embed.add_field(name=t("status_last", lang), value=stats.last_reindex or "-")
    lat = "-" if latency_ms != latency_ms or math.isinf(latency_ms) else f"{latency_ms:.0f} ms"
    embed.add_field(name=t("status_latency", lang), value=lat)
    return embed
