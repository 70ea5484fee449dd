"""Plain-text rendering of answers for the terminal (the chat and `newsdesk ask`): pure functions.

Everything here ends up on an operator's terminal, and most of it comes from articles, feeds and file names that
anyone could have written: every field goes through `terminal_safe`, and the CLI passes whatever it prints through
it once more (`multiline=True`), so no control sequence from the data reaches the terminal.
"""

from __future__ import annotations

import json
import re
import textwrap

from bot.i18n.strings import t
from index.files import iso_utc as iso
from index.records import Answer, ArticleRef, Hit, IndexStats, Quote, ReindexSummary

# What a terminal may act on instead of showing: C0 and C1 controls and DEL (ESC, CSI, OSC, BEL, CR, newlines...),
# the line and paragraph separators, the bidirectional overrides and isolates (they reorder what follows), and
# lone surrogates (an undecodable file name; printing one raises UnicodeEncodeError).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_UNSAFE_KEEP_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                                "\u2066-\u2069\ud800-\udfff]")  # fmt: skip
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match) -> str:
    ch = match.group()
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(value: object, multiline: bool = False) -> str:
    """`value` as text a terminal only displays: each control character is shown escaped (`\\x1b`, `\\n`, `\\u202e`).

    Single-line fields (titles, sources, links, file names, error messages) escape newlines and tabs too, so one
    field cannot print a line of its own; `multiline=True` keeps newlines and tabs (a rendered block, a quote's
    paragraphs) and escapes the rest.
    """
    text = "" if value is None else str(value)
    return (_UNSAFE_KEEP_LINES if multiline else _UNSAFE).sub(_escape, text)


def json_text(obj: object) -> str:
    """`obj` as one line of JSON that is also safe on a terminal.

    json.dumps escapes C0 controls, but with ensure_ascii=False it writes DEL, C1 controls, the bidi controls, the
    line separators and lone surrogates as they are; those only occur inside strings, where `\\uXXXX` means the same.
    """
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(obj, ensure_ascii=False))


def _one(value: object) -> str:
    return terminal_safe(value)


def source_line(ref: ArticleRef, with_date: bool = True) -> str:
    """Title · date · source, and the link on the next line (`with_date=False` where the date leads already)."""
    parts = [_one(ref.title)]
    if ref.date and with_date:
        parts.append(_one(ref.date))
    if ref.source:
        parts.append(_one(ref.source))
    link = ref.url or ref.path
    return " · ".join(parts) + (f"\n    {_one(link)}" if link else "")


def _wrap(text: str, indent: str = "    ") -> str:
    text = terminal_safe(text, multiline=True)
    return "\n".join(textwrap.fill(p, 100, initial_indent=indent, subsequent_indent=indent) for p in text.split("\n"))


def render_quote(n: int, quote: Quote, lang: str | None = None) -> str:
    """One quote under its source line; `[fr]` marks a quote in another language than the question."""
    other = quote.article.lang
    mark = f"[{_one(other)}] " if other and lang and other != lang else ""
    return f"[{n}] {mark}{source_line(quote.article)}\n{_wrap(quote.highlighted)}"


def _nothing_found(key: str, lang: str, related) -> str:
    """The "not in the articles" text under `key`, and the related reading when there is some."""
    lines = [t(key, lang)]
    if related:
        lines.append(t("related", lang))
        lines += [f"  - {source_line(r)}" for r in related]
    return "\n".join(lines)


def render_answer(answer: Answer) -> str:
    lang = answer.lang
    if not answer.answered:
        return _following_up(answer) + _nothing_found("not_found", lang, answer.related)
    lines = [render_quote(i, q, lang) for i, q in enumerate(answer.quotes, start=1)]
    lines.append(t("footer", lang, articles=answer.articles_searched, ms=round(answer.took_ms)))
    return _following_up(answer) + "\n\n".join(lines)


def _following_up(answer: Answer) -> str:
    """The line that says an answer took the conversation's context, and from which earlier question."""
    if answer.context_from is None:
        return ""
    return f"({t('following_up', answer.lang, question=_one(answer.context_from))})\n"


def render_hits(hits: list[Hit]) -> str:
    if not hits:
        return "No matching passages."
    out = []
    for i, h in enumerate(hits, start=1):
        text = h.passage.text if len(h.passage.text) <= 400 else h.passage.text[:400].rsplit(" ", 1)[0] + " …"
        out.append(f"[{i}] {source_line(h.article)}  (score {h.score:.3f})\n{_wrap(text)}")
    return "\n\n".join(out)


def render_stats(stats: IndexStats) -> str:
    langs = ", ".join(f"{k} {v}" for k, v in stats.languages.items()) or "-"
    return "\n".join([
        f"articles      {stats.articles}",
        f"passages      {stats.passages}",
        f"languages     {_one(langs)}",
        f"model         {_one(stats.model)} (dimension {stats.dimension}, {_one(stats.index_type)} index)",
        f"last reindex  {_one(stats.last_reindex or '-')}",
        f"newest        {_one(stats.newest or '-')}",
        f"size on disk  {stats.size_bytes / 1e6:.1f} MB",
        *([f"upgrade       `newsdesk reindex --force` moves the index to {_one(stats.upgrade)}"] if stats.upgrade else []),
    ])  # fmt: skip


def render_summary(s: ReindexSummary) -> str:
    lines = [
        f"added {s.added}, updated {s.updated}, removed {s.removed}, unchanged {s.unchanged}, failed {len(s.failed)}",
        f"passages embedded {s.passages_embedded}; index holds {s.articles} articles, {s.passages} passages;"
        f" {s.seconds:.1f} s",
    ]
    lines += [f"  skipped {_one(f.path)}: {_one(f.reason)}" for f in s.failed]
    for src in s.sources:
        error = f" ({_one(src['error'])})" if src.get("error") else ""
        lines.append(f"  source {_one(src.get('url'))}: {_one(src.get('status'))}{error}")
    return "\n".join(lines)


def render_timeline(timeline) -> str:
    """A timeline (index.stories.timeline.Timeline) for the terminal: one block per entry, oldest first."""
    lang = timeline.lang
    if not timeline.entries:
        return _nothing_found("timeline_none", lang, timeline.related)
    out = [f"{t('timeline_title', lang, topic=_one(timeline.topic))} ({len(timeline.entries)} articles, oldest first)"]
    for n, entry in enumerate(timeline.entries, start=1):
        date = _one(entry.article.date) if entry.article.date else t("unknown_date", lang)
        newest = f" ({t('newest', lang)})" if entry.newest else ""
        block = f"[{n}] {date}{newest} · {source_line(entry.article, with_date=False)}\n{_wrap(entry.quote.highlighted)}"
        for other in entry.also:
            block += f"\n    {t('also_in', lang)}: {source_line(other)}"
        out.append(block)
    return "\n\n".join(out)


def render_follows(follows, pending: dict[int, int]) -> str:
    """The follows store for the operator (`newsdesk follows`): one line each, disabled ones with their reason."""
    if not follows:
        return "No follows."
    lines = []
    for f in follows:
        state = "active" if f.active else f"disabled ({_one(f.disabled_reason)})"
        where = f"DM {f.channel_id}" if f.dm else f"channel {f.channel_id}"
        lines.append(f"#{f.id} {state} · guild {f.guild_id} · {where} · member {f.member[:12]}… · “{_one(f.topic)}” "
                     f"({_one(f.lang)}) · since {iso(f.created_at)} · last alert {iso(f.last_alerted_at) or '-'} · "
                     f"pending {pending.get(f.id, 0)}")  # fmt: skip
    return "\n".join(lines)



def render_feedback(summary) -> str:
    """Readers' votes for the operator (`newsdesk feedback`): counts, then the most flagged articles and questions."""
    if summary is None or not summary.answers:
        return "No feedback yet."
    span = f"last {summary.since_days:g} days" if summary.since_days is not None else "all time"
    v = summary.votes
    lines = [f"Feedback ({span}): {sum(v.values())} votes on {summary.answers} answers: helpful {v['helpful']} · "
             f"wrong quote {v['wrong_quote']} · outdated {v['outdated']}"]  # fmt: skip
    if summary.effects_since:
        lines.append(f"votes change answers since {summary.effects_since} (the last `newsdesk feedback --reset`)")

    def flags(f) -> str:
        return f"{f.flags} flags (wrong quote {f.votes['wrong_quote']}, outdated {f.votes['outdated']}, helpful " \
               f"{f.votes['helpful']})"  # fmt: skip

    if summary.articles:
        lines.append("Most flagged articles:")
        lines += [f"  {flags(a)} · {_one(a.label)} · {_one(a.key)}" for a in summary.articles]
    if summary.questions:
        lines.append("Most flagged questions:")
        lines += [f"  {flags(q)} · “{_one(q.label)}” ({_one(q.key)})" for q in summary.questions]
    return "\n".join(lines)
