"""The answer pipeline: parse -> (follow-up) -> retrieve -> fuse -> rerank -> feedback -> diversify -> quotes -> abstain.

Each stage is a small function of its own module with typed hand-offs; `Pipeline` wires them and holds the
stage an evaluation may swap (the fusion: index/evaluation.py measures BM25 alone, dense alone and RRF so).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from index.answer import abstain
from index.answer.adjust import apply_feedback
from index.answer.config import SearchConfig
from index.answer.conversation import FollowUp, Turn, boosted, plan
from index.answer.diversify import diversify
from index.answer.evidence import evidence
from index.answer.fuse import Candidate, Fusion, convex, ranked, with_dates
from index.answer.question import Question, date_hint, parse, weighed
from index.answer.quotes import pick_quotes, requote_by_meaning
from index.answer.rerank import read_by_meaning, rerank
from index.answer.retrieve import retrieve, selection
from index.answer.sentences import meaning_of, sentence_cosines
from index.embedding import Embedder
from index.feedback import FeedbackEffects
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
    feedback: FeedbackEffects | None = None  # what readers' votes change (index/feedback/); None: nothing


@dataclass(frozen=True)
class Pipeline:
    """The stages that can be swapped; the rest is the same for every pipeline."""

    fuse: Fusion = convex

    def ask(self, ctx: Context, text: str, k: int | None = None, filters: Filters | None = None, *,
            query_vector: np.ndarray | None = None, turns: Sequence[Turn] = ()) -> Answer:  # fmt: skip
        """Answer `text` with up to `k` verified quotes, or abstain and list related articles.

        `turns` are the conversation's earlier questions, oldest first: an elliptic question, or one its own
        words do not answer confidently, borrows their terms and articles (index/answer/conversation.py).
        Raises EmptyQuestion, QuestionTooLong, ValueError (k), what loading the store raises.
        """
        started = time.perf_counter()
        question = parse(text, ctx.config.max_question_chars)
        k = _at_least_one(ctx.config.k if k is None else k)
        store = ctx.store()
        qvec = None
        if store.size:
            qvec = ctx.embedder.encode_queries([question.text]) if query_vector is None else _row(query_vector)
        follow = plan(question, turns) if turns and store.size else None
        alone = None
        if follow is None or follow.check_alone:
            alone = self.answer(ctx, store, question, qvec, k, filters)
        if follow is not None and (alone is None or not alone.answered):  # its own words do not answer it
            mixed = follow.vector(qvec, ctx.embedder.encode_queries(list(follow.vectors)))
            answer = self.answer(ctx, store, question, mixed, k, filters, follow, own=qvec)
            # A question with words of its own is not answered from the conversation's article unless the quote
            # holds some of them: "a lemon tart recipe?" after a story about OpenAI is not about OpenAI.
            if alone is None or (answer.answered and follow.quotes_own_words(question, answer)):
                alone = replace(answer, context_from=follow.source)
        took = (time.perf_counter() - started) * 1000
        log.debug("ask: %d chars, lang %s, confidence %.3f, context %s, %.1f ms", len(question.text),
                  question.lang, alone.confidence, alone.context_from is not None, took)  # fmt: skip
        return replace(alone, took_ms=took)

    def answer(self, ctx: Context, store: Store, question: Question, qvec: np.ndarray | None, k: int,
               filters: Filters | None, follow: FollowUp | None = None,
               own: np.ndarray | None = None) -> Answer:  # fmt: skip
        """The stages after parsing: the answer to `question` (with what it borrows from its conversation: `qvec` is
        then the conversation's mix, `own` the question's own vector)."""
        cfg, profile = ctx.config, ctx.profile
        hint = date_hint(question, filters)
        asked = follow.question(question) if follow else question
        cands = self.candidates(store, profile, cfg, asked, qvec, filters, hint, follow.boosts if follow else None)
        terms = weighed(asked.terms, store.terms(profile.bm25_k1, profile.bm25_b) if store.size else None)
        if follow:
            terms = follow.weigh(terms)
        pool = cands[: cfg.rerank_depth]
        meaning = read_by_meaning(pool, profile.rerank_weights, question.lang, profile.rerank_dense)
        # Read from the index only: embedding a pool's sentences at question time costs about half a second.
        cosines = sentence_cosines(store, ctx.embedder, meaning, qvec, embed=False) if meaning else {}
        top = rerank(pool, store, terms, profile.sentence_weight, cosines, profile.rerank_dense,
                     weights=profile.rerank_weights, lang=question.lang)  # fmt: skip
        top = apply_feedback(top, store, qvec, ctx.feedback)
        best = diversify(top.order + cands[cfg.rerank_depth :], cfg.max_per_article,
                         max(cfg.ranking_depth, k + cfg.more))  # fmt: skip
        cosines = meaning_of(store, ctx.embedder, profile, best[:k], qvec, top.passages, cosines)
        features = evidence(store, asked, terms, best, top.final, top.passages, k1=profile.bm25_k1,
                            b=profile.bm25_b, cosines=cosines) if best else None  # fmt: skip
        confidence = abstain.confidence(features, profile.confidence(question.lang, best[0].cross)) if features else 0.0
        # A follow-up's quote answers what it asks now: its sentences are judged by the question's own vector, not by
        # the mix that found the conversation's article ("And the unemployment rate?" after one on the Fed's rate).
        if own is not None:
            cosines = meaning_of(store, ctx.embedder, profile, best[:k], own, top.passages, {})
        chosen = {**top.quotes, **requote_by_meaning(store, terms, best[:k], top.passages, top.quotes, cosines,
                                                     cross=profile.sentence_dense, same=profile.sentence_dense_same)}
        quotes = pick_quotes(best, chosen, top.final, top.passages, terms, limit=k + cfg.more, cutoff=top.cutoff(),
                             min_relative=profile.min_relative_score, overlap=cfg.duplicate_overlap)  # fmt: skip
        answered = bool(quotes) and confidence >= profile.min_confidence
        return Answer(
            question=question.text,
            answered=answered,
            quotes=tuple(quotes[:k]) if answered else (),
            more=tuple(quotes[k:]) if answered else (),
            related=() if answered else abstain.related(best, store.articles, top.passages),
            took_ms=0.0,  # set by `ask`
            articles_searched=len(store.articles),
            lang=question.lang,
            confidence=confidence,
            date_hint=hint.phrase if hint else None,
            terms=tuple(question.terms.weights),
            ranking=tuple(c.article for c in best[: cfg.ranking_depth]),
            names=tuple(sorted(question.terms.names | question.numbers)),
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
                   qvec: np.ndarray | None, filters: Filters | None, hint: DateHint | None,
                   boosts: Mapping[int, float] | None = None) -> list[Candidate]:  # fmt: skip
        """Retrieve and fuse: the candidates best first (`hint` boosts the articles dated in its range, `boosts`
        the articles a conversation quoted)."""
        if qvec is None:  # an empty index
            return []
        found = retrieve(store, question, qvec, selection(store, filters), k=min(cfg.candidates, store.size),
                         k1=profile.bm25_k1, b=profile.bm25_b, multilingual=profile.multilingual)  # fmt: skip
        if found is None:
            return []
        fused = self.fuse(found, profile.weight(question.lang))
        scores = with_dates(found, fused.scores, store.articles, hint, cfg.date_boost)
        return ranked(found, boosted(found, scores, boosts) if boosts else scores, fused.cross)


def _at_least_one(k: int) -> int:
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    return k


def _row(vector: np.ndarray) -> np.ndarray:
    """A kept query vector (a follow's topic) as the one-row float32 matrix the store searches with."""
    return np.ascontiguousarray(np.asarray(vector, dtype=np.float32).reshape(1, -1))
