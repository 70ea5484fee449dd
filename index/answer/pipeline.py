"""The answer pipeline: parse -> retrieve -> fuse -> rerank -> diversify -> quotes -> abstain.

Each stage is a small function of its own module with typed hand-offs; `Pipeline` wires them and holds the
stage an evaluation may swap (the fusion: index/evaluation.py measures BM25 alone, dense alone and RRF so).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from index.answer import abstain
from index.answer.config import SearchConfig
from index.answer.diversify import diversify
from index.answer.evidence import evidence
from index.answer.fuse import Candidate, Fusion, convex, ranked, with_dates
from index.answer.question import Question, date_hint, parse, weighed
from index.answer.quotes import pick_quotes, requote_across_languages
from index.answer.rerank import rerank
from index.answer.retrieve import retrieve, selection
from index.embedding import Embedder
from index.records import Answer, Filters, Hit
from index.store.base import Store
from index.text.dates import DateHint
from index.tuning import Profile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Context:
    """What one question is answered with."""

    store: Callable[[], Store]  # the index version, loaded once the question is known to be valid
    embedder: Embedder
    profile: Profile
    config: SearchConfig


@dataclass(frozen=True)
class Pipeline:
    """The stages that can be swapped; the rest is the same for every pipeline."""

    fuse: Fusion = convex

    def ask(self, ctx: Context, text: str, k: int | None = None, filters: Filters | None = None, *,
            query_vector: np.ndarray | None = None) -> Answer:  # fmt: skip
        """Answer `text` with up to `k` verified quotes, or abstain and list related articles.

        Raises EmptyQuestion, QuestionTooLong, ValueError (k), what loading the store raises.
        """
        started = time.perf_counter()
        cfg, profile = ctx.config, ctx.profile
        question = parse(text, cfg.max_question_chars)
        k = _at_least_one(cfg.k if k is None else k)
        store = ctx.store()
        hint = date_hint(question, filters)
        qvec = None
        if store.size:
            qvec = ctx.embedder.encode_queries([question.text]) if query_vector is None else _row(query_vector)
        cands = self.candidates(store, profile, cfg, question, qvec, filters, hint)
        terms = weighed(question.terms, store.terms(profile.bm25_k1, profile.bm25_b) if store.size else None)
        top = rerank(cands[: cfg.rerank_depth], store, terms, profile.sentence_weight)
        best = diversify(top.order + cands[cfg.rerank_depth :], cfg.max_per_article,
                         max(cfg.ranking_depth, k + cfg.more))  # fmt: skip
        features = evidence(store, question, terms, best, top.final, top.passages, k1=profile.bm25_k1,
                            b=profile.bm25_b) if best else None  # fmt: skip
        confidence = abstain.confidence(features, profile.confidence(question.lang, best[0].cross)) if features else 0.0
        chosen = {**top.quotes, **requote_across_languages(store, ctx.embedder, terms, best[:k], top.passages,
                                                             top.quotes, qvec, profile.sentence_dense)}  # fmt: skip
        quotes = pick_quotes(best, chosen, top.final, top.passages, terms, limit=k + cfg.more,
                             min_relative=profile.min_relative_score, overlap=cfg.duplicate_overlap)  # fmt: skip
        answered = bool(quotes) and confidence >= profile.min_confidence
        took = (time.perf_counter() - started) * 1000
        log.debug("ask: %d chars, lang %s, confidence %.3f, %.1f ms", len(question.text), question.lang,
                  confidence, took)  # fmt: skip
        return Answer(
            question=question.text,
            answered=answered,
            quotes=tuple(quotes[:k]) if answered else (),
            more=tuple(quotes[k:]) if answered else (),
            related=() if answered else abstain.related(best, store.articles),
            took_ms=took,
            articles_searched=len(store.articles),
            lang=question.lang,
            confidence=confidence,
            date_hint=hint.phrase if hint else None,
            terms=tuple(terms.weights),
            ranking=tuple(c.article for c in best[: cfg.ranking_depth]),
            evidence=dict(features or {}, cross=float(best[0].cross)) if best else None,
        )

    def search(self, ctx: Context, text: str, k: int = 5, filters: Filters | None = None) -> list[Hit]:
        """The `k` best passages for `text` (a lookup: no re-ranking, no quote, no abstention)."""
        _at_least_one(k)
        question = parse(text, ctx.config.max_question_chars)
        store = ctx.store()
        qvec = ctx.embedder.encode_queries([question.text]) if store.size else None
        cands = diversify(self.candidates(store, ctx.profile, ctx.config, question, qvec, filters, None),
                          ctx.config.max_per_article, k)  # fmt: skip
        passages = store.passages(c.pid for c in cands)
        return [
            Hit(passage=passages[c.pid], article=store.articles[passages[c.pid].article_id], score=c.fused,
                dense=c.dense, lexical=c.lexical)
            for c in cands if c.pid in passages
        ]  # fmt: skip

    def candidates(self, store: Store, profile: Profile, cfg: SearchConfig, question: Question,
                   qvec: np.ndarray | None, filters: Filters | None, hint: DateHint | None) -> list[Candidate]:  # fmt: skip
        """Retrieve and fuse: the candidates best first (`hint` boosts the articles dated in its range)."""
        if qvec is None:  # an empty index
            return []
        found = retrieve(store, question, qvec, selection(store, filters), k=min(cfg.candidates, store.size),
                         k1=profile.bm25_k1, b=profile.bm25_b, multilingual=profile.multilingual)  # fmt: skip
        if found is None:
            return []
        fused = self.fuse(found, profile.weight(question.lang))
        return ranked(found, with_dates(found, fused.scores, store.articles, hint, cfg.date_boost), fused.cross)


def _at_least_one(k: int) -> int:
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    return k


def _row(vector: np.ndarray) -> np.ndarray:
    """A kept query vector (a follow's topic) as the one-row float32 matrix the store searches with."""
    return np.ascontiguousarray(np.asarray(vector, dtype=np.float32).reshape(1, -1))
