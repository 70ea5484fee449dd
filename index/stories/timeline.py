"""A story's timeline: the articles about a topic in date order, one verbatim quote each.

Relevance is the answer's: the topic is asked as a question (same retrieval, same confidence bar), and a
timeline is only drawn when that answer passes the bar. Each article the answer quotes is then judged on its
own, against the rest of the corpus without the story's other articles (`judge_alone`): it stays only when
that answer passes the bar too and quotes it first, so a weak match never makes an entry (a short timeline is
better than a long one of loose matches). Near-duplicates (one wire story in two outlets) become one entry
naming every outlet. Undated articles come after the dated ones.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from index.errors import EmptyQuestion
from index.records import Answer, ArticleRef, Filters, Quote
from index.stories.duplicates import groups


@dataclass(frozen=True)
class TimelineEntry:
    """One article (with its near-duplicates from other outlets) and the sentence it is quoted for."""

    quote: Quote
    also: tuple[ArticleRef, ...] = ()  # the same story in other outlets (near-duplicate text)
    newest: bool = False

    @property
    def article(self) -> ArticleRef:
        return self.quote.article

    @property
    def undated(self) -> bool:
        return not self.quote.article.date

    def to_dict(self) -> dict:
        return {"quote": self.quote.to_dict(), "also": [a.to_dict() for a in self.also], "newest": self.newest,
                "undated": self.undated}  # fmt: skip


@dataclass(frozen=True)
class Timeline:
    topic: str
    entries: tuple[TimelineEntry, ...]  # oldest first, undated last
    related: tuple[ArticleRef, ...]  # the closest articles, when there is no entry
    confidence: float  # of the topic's answer
    took_ms: float
    articles_searched: int
    lang: str

    def to_dict(self) -> dict:
        return {
            "topic": self.topic,
            "entries": [e.to_dict() for e in self.entries],
            "related": [r.to_dict() for r in self.related],
            "confidence": round(self.confidence, 4),
            "took_ms": round(self.took_ms, 1),
        }


def topic_vector(engine, topic: str) -> np.ndarray:
    """The topic's query embedding (one row), encoded once for the several asks below."""
    topic = " ".join((topic or "").split())
    if not topic:
        raise EmptyQuestion()
    return engine.embedder.encode_queries([topic])


def quoted(answer: Answer) -> list[Quote]:
    """The answer's quotes, the "More" ones included, one per article (the best), best first."""
    out: dict[int, Quote] = {}
    for q in (*answer.quotes, *answer.more):
        out.setdefault(q.article.id, q)
    return list(out.values()) if answer.answered else []


def judge_alone(engine, topic: str, vector: np.ndarray, article_id: int, others: Iterable[int],
                filters: Filters | None = None) -> Quote | None:  # fmt: skip
    """The quote of `article_id` when the topic, asked without the articles `others`, is answered with it first.

    Leaving out the story's other articles makes the article compete with what the topic does not match, as
    the first article on a story would: it must be the best answer there, and pass the confidence bar (judged
    with no other passage at all, a single article would always look like a clear answer).
    """
    scoped = replace(filters or Filters(), exclude_articles=frozenset(others) - {article_id})
    answer = engine.ask(topic, k=engine.config.k, filters=scoped, query_vector=vector)
    best = quoted(answer)[:1]
    return best[0] if best and best[0].article.id == article_id else None


def build_timeline(engine, topic: str, filters: Filters | None = None, *, limit: int | None = None) -> Timeline:
    """The timeline of `topic` over the engine's index (at most `limit` articles, the best matches).

    Raises what Engine.ask raises (EmptyQuestion, QuestionTooLong, IndexMissing, ModelMismatch).
    """
    started = time.perf_counter()
    vector = topic_vector(engine, topic)
    # ask() quotes from its re-ranked passages only: that is the most one answer can hold.
    limit = limit or engine.config.rerank_depth
    answer = engine.ask(topic, k=limit, filters=filters, query_vector=vector)
    snap = engine.snapshot
    story = {q.article.id: q for q in quoted(answer)}
    # The answer leaves out a quote that repeats a kept one (the same dispatch twice): its article is still in
    # the ranking, and joins its twin's group here.
    extra = [aid for aid in answer.ranking if aid not in story and aid in snap.articles]
    kept_groups = [g for g in groups([*story, *extra], snap.article_text) if any(a in story for a in g)]
    told = {a for g in kept_groups for a in g}  # the whole story, every outlet's copy included
    entries = []
    for group in kept_groups:
        lead = next(a for a in group if a in story)  # the copy the answer quoted best
        quote = judge_alone(engine, topic, vector, lead, told, filters)
        if quote is not None:
            also = tuple(snap.articles[a] for a in group if a != lead)
            entries.append(TimelineEntry(quote=quote, also=also))
    entries = _in_order(entries)
    related = answer.related if not entries else ()
    if not entries and not related:
        related = tuple(snap.articles[a] for a in answer.ranking[:3] if a in snap.articles)
    return Timeline(topic=answer.question, entries=tuple(entries), related=tuple(related),
                    confidence=answer.confidence, took_ms=(time.perf_counter() - started) * 1000,
                    articles_searched=answer.articles_searched, lang=answer.lang)  # fmt: skip


def _chronological(ref: ArticleRef) -> tuple:
    return (ref.date is None or ref.date == "", ref.date or "", ref.id)


def _in_order(entries: Sequence[TimelineEntry]) -> list[TimelineEntry]:
    """Oldest first (partial dates such as 2025-03 before 2025-03-06), undated last; the newest marked."""
    ordered = sorted(entries, key=lambda e: _chronological(e.article))
    dated = [i for i, e in enumerate(ordered) if not e.undated]
    if dated:
        ordered[dated[-1]] = replace(ordered[dated[-1]], newest=True)
    return ordered
