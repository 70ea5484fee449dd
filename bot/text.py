"""Plain-text rendering of answers for the terminal (the chat and `newsdesk ask`): pure functions."""

from __future__ import annotations

import textwrap

from index.models import Answer, ArticleRef, Hit, IndexStats, Quote, ReindexSummary

from .strings import t


def source_line(ref: ArticleRef) -> str:
    parts = [ref.title]
    if ref.date:
        parts.append(ref.date)
    if ref.source:
        parts.append(ref.source)
    link = ref.url or ref.path
    return " · ".join(parts) + (f"\n    {link}" if link else "")


def _wrap(text: str, indent: str = "    ") -> str:
    return "\n".join(textwrap.fill(p, 100, initial_indent=indent, subsequent_indent=indent) for p in text.split("\n"))


def render_quote(n: int, quote: Quote) -> str:
    return f"[{n}] {source_line(quote.article)}\n{_wrap(quote.highlighted)}"


def render_answer(answer: Answer) -> str:
    lang = answer.lang
    if not answer.answered:
        lines = [t("not_found", lang)]
        if answer.related:
            lines.append(t("related", lang))
            lines += [f"  - {source_line(r)}" for r in answer.related]
        return "\n".join(lines)
    lines = [render_quote(i, q) for i, q in enumerate(answer.quotes, start=1)]
    lines.append(t("footer", lang, articles=answer.articles_searched, ms=round(answer.took_ms)))
    return "\n\n".join(lines)


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
        f"languages     {langs}",
        f"model         {stats.model} (dimension {stats.dimension}, {stats.index_type} index)",
        f"last reindex  {stats.last_reindex or '-'}",
        f"newest        {stats.newest or '-'}",
        f"size on disk  {stats.size_bytes / 1e6:.1f} MB",
    ])  # fmt: skip


def render_summary(s: ReindexSummary) -> str:
    lines = [
        f"added {s.added}, updated {s.updated}, removed {s.removed}, unchanged {s.unchanged}, failed {len(s.failed)}",
        f"passages embedded {s.passages_embedded}; index holds {s.articles} articles, {s.passages} passages;"
        f" {s.seconds:.1f} s",
    ]
    lines += [f"  skipped {f.path}: {f.reason}" for f in s.failed]
    for src in s.sources:
        lines.append(f"  source {src.get('url')}: {src.get('status')}" + (f" ({src['error']})" if src.get("error") else ""))
    return "\n".join(lines)
