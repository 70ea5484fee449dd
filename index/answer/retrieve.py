"""Find the candidate passages of a question: the nearest by meaning (dense) and the best by words (BM25)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from index.answer.question import Question
from index.records import ArticleRef, Filters
from index.store.base import Store
from index.text.dates import in_range
from index.text.normalize import fold


@dataclass(frozen=True)
class Found:
    """The candidates, in passage id order, with the two scores the fusion reads."""

    pids: tuple[int, ...]
    articles: tuple[int, ...]  # the article of each
    dense: np.ndarray  # inner product with the question's vector (float32)
    lexical: np.ndarray  # BM25 score (float32)
    # In another language than the question, for a model that reads across languages (its profile says so).
    cross: np.ndarray


def selection(store: Store, filters: Filters | None) -> object | None:
    """The store's selection of the passages `filters` allow (None: every live passage)."""
    if filters is None or filters.is_empty():
        return None
    exclude = filters.exclude_articles  # scoped asking: a followed story's known articles (index/stories/)
    rest = replace(filters, exclude_articles=frozenset())
    allowed = None if rest.is_empty() else [aid for aid, ref in store.articles.items() if passes(ref, rest)]
    return store.select(allowed, exclude)


def passes(ref: ArticleRef, filters: Filters) -> bool:
    """True when the article matches the source, language and date filters."""
    src = fold(filters.source) if filters.source else None
    if src and src not in fold(ref.source or "") and src not in fold(ref.url or "") and src not in fold(ref.title):
        return False
    if filters.lang and (ref.lang or "") != filters.lang:
        return False
    return in_range(ref.date, filters.since, filters.until)


def retrieve(store: Store, question: Question, qvec: np.ndarray, within: object | None, *, k: int, k1: float,
             b: float, multilingual: bool) -> Found | None:  # fmt: skip
    """The `k` nearest passages of `within` and its `k` best by BM25 (k1, b), each with both scores; None when
    there are none."""
    dense = store.dense(qvec, k, within)
    lexical = store.lexical(question.analyzed, k, within, k1=k1, b=b, also=list(dense))
    pids = sorted(set(dense) | set(lexical))
    if not pids:
        return None
    missing = [p for p in pids if p not in dense]
    if missing:  # found by words only: their cosine is read back
        dense.update(store.similarity(qvec, missing))
    articles = store.article_of(pids)
    refs = store.articles
    cross = [multilingual and _other_language(question.lang, refs.get(articles[p])) for p in pids]
    return Found(pids=tuple(pids), articles=tuple(articles[p] for p in pids),
                 dense=np.array([dense[p] for p in pids], dtype=np.float32),
                 lexical=np.array([lexical[p] for p in pids], dtype=np.float32),
                 cross=np.array(cross, dtype=bool))  # fmt: skip


def _other_language(lang: str, ref: ArticleRef | None) -> bool:
    """True when the passage's article is known to be in another language than the question."""
    return bool(ref is not None and ref.lang and lang and ref.lang != lang)
