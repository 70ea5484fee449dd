"""Typed, frozen records that flow out of the engine. Nothing here knows how they are shown."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Article:
    """One article as ingested: normalized text plus its metadata.

    `key` identifies the article across reindexes (its URL, or its file path, plus `#n` for one record of a
    JSON file without URL); `content_hash` detects a changed article.
    """

    key: str
    title: str
    text: str
    date: str | None = None
    url: str | None = None
    path: str | None = None
    source: str | None = None
    author: str | None = None
    lang: str | None = None
    content_hash: str = ""


@dataclass(frozen=True)
class ArticleRef:
    """What a reader needs to find an article again: shown under every quote."""

    id: int
    title: str
    date: str | None
    url: str | None
    path: str | None
    source: str | None
    lang: str | None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Passage:
    """A window of whole sentences from an article, with character offsets into the article text."""

    id: int
    article_id: int
    position: int
    start: int
    end: int
    text: str
    sentences: tuple[tuple[int, int], ...]  # offsets into the article text
    lang: str | None = None


@dataclass(frozen=True)
class Hit:
    """A retrieved passage with its scores (fused score first; component scores for diagnostics)."""

    passage: Passage
    article: ArticleRef
    score: float
    dense: float = 0.0
    lexical: float = 0.0


@dataclass(frozen=True)
class Quote:
    """Verbatim sentence(s) from an article: `text == article.text[start:end]`, checked before it is returned.

    `highlights` are (start, end) spans of question terms, relative to `text`.
    """

    text: str
    start: int
    end: int
    score: float
    passage_id: int
    article: ArticleRef
    highlights: tuple[tuple[int, int], ...] = ()

    @property
    def highlighted(self) -> str:
        """The quote with question terms wrapped in ** (for plain-text and JSON output)."""
        out, last = [], 0
        for s, e in self.highlights:
            out += [self.text[last:s], "**", self.text[s:e], "**"]
            last = e
        out.append(self.text[last:])
        return "".join(out)

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "highlighted": self.highlighted,
            "score": round(self.score, 4),
            "passage_id": self.passage_id,
            "article": self.article.to_dict(),
        }


@dataclass(frozen=True)
class Filters:
    """Restrictions on what may be quoted: source name or URL fragment, date range (ISO), language."""

    source: str | None = None
    since: str | None = None
    until: str | None = None
    lang: str | None = None
    # Article ids left out of retrieval altogether (a followed story's known articles: index/stories/follows.py).
    exclude_articles: frozenset[int] = frozenset()

    def is_empty(self) -> bool:
        return not (self.source or self.since or self.until or self.lang or self.exclude_articles)


@dataclass(frozen=True)
class Answer:
    """The engine's reply to a question.

    `answered` is False when the evidence is too weak: then `quotes` is empty and `related` lists the closest
    articles as further reading. `more` holds the next quotes for a "More" button.
    """

    question: str
    answered: bool
    quotes: tuple[Quote, ...]
    related: tuple[ArticleRef, ...]
    took_ms: float
    articles_searched: int
    lang: str
    confidence: float = 0.0
    more: tuple[Quote, ...] = ()
    date_hint: str | None = None
    terms: tuple[str, ...] = field(default=(), repr=False)
    ranking: tuple[int, ...] = field(default=(), repr=False)  # article ids, best first (evaluation)
    # The question's names: stems of its capitalised words, its numbers and years (what a follow-up borrows).
    names: tuple[str, ...] = field(default=(), repr=False)
    # The earlier question of the conversation whose context answered this one (None: answered on its own).
    context_from: str | None = None
    # The abstention features of the best passage (index/answer/evidence.py), for evaluation and fitting.
    evidence: dict | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        out = {
            "question": self.question,
            "answered": self.answered,
            "quotes": [q.to_dict() for q in self.quotes],
            "related": [r.to_dict() for r in self.related],
            "took_ms": round(self.took_ms, 1),
            "confidence": round(self.confidence, 4),
            "lang": self.lang,
        }
        if self.context_from is not None:
            out["context_from"] = self.context_from
        return out


@dataclass(frozen=True)
class Failure:
    path: str
    reason: str


@dataclass(frozen=True)
class ReindexSummary:
    added: int
    updated: int
    removed: int
    unchanged: int
    failed: tuple[Failure, ...]
    passages_embedded: int
    articles: int
    passages: int
    seconds: float
    sources: tuple[dict, ...] = ()

    def to_dict(self) -> dict:
        out = {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "failed": [{"path": f.path, "reason": f.reason} for f in self.failed],
            "passages_embedded": self.passages_embedded,
            "articles": self.articles,
            "passages": self.passages,
            "seconds": round(self.seconds, 3),
        }
        if self.sources:
            out["sources"] = list(self.sources)
        return out


@dataclass(frozen=True)
class IndexStats:
    articles: int
    passages: int
    languages: dict[str, int]
    model: str
    dimension: int
    index_type: str
    last_reindex: str | None
    size_bytes: int
    newest: str | None = None
    # The model a forced reindex would move the index to (the default model, when the index was built with
    # another and no model is configured); None when it already uses it.
    upgrade: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)
