"""Re-rank the best passages by how well their best sentence answers the question."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from index.answer.fuse import Candidate
from index.answer.question import QuestionTerms
from index.answer.quotes import choose_quote
from index.answer.sentences import best_cosines
from index.records import Passage, Quote
from index.store.base import Store
from index.tuning import CROSS_SENTENCE_CREDIT


@dataclass(frozen=True)
class Reranked:
    """The pool re-ranked, with what was read on the way: each passage's quote and final score."""

    order: list[Candidate]  # best first; passages the store no longer holds are left out
    final: Mapping[int, float]  # passage id -> fused score + sentence_weight * its best sentence's score
    quotes: Mapping[int, Quote | None]  # passage id -> its quote (None: no verifiable one), not highlighted
    passages: Mapping[int, Passage]


def rerank(pool: Sequence[Candidate], store: Store, terms: QuestionTerms, sentence_weight: float,
           cosines: Mapping[int, np.ndarray] | None = None, cosine_weight: float = 0.0) -> Reranked:  # fmt: skip
    """Add each passage's best sentence score to its fused score, and sort again.

    The passage that holds the answer usually has one sentence that covers the question, not just the same
    topic words. With `cosines` (each sentence's cosine with the question, index/answer/sentences.py), the
    passage's best sentence cosine, min-max normalized over the pool, adds `cosine_weight` times itself.
    """
    meaning = best_cosines(cosines, [c.pid for c in pool]) if cosines and cosine_weight else {}
    passages = store.passages(c.pid for c in pool)
    quotes: dict[int, Quote | None] = {}
    final: dict[int, float] = {}
    for cand in pool:
        p = passages.get(cand.pid)
        if p is None:
            continue
        quote, sentence = choose_quote(terms, p, store.article_text(p.article_id), store.articles[p.article_id],
                                       cand.fused, highlight=False)  # fmt: skip
        quotes[cand.pid] = quote
        if cand.cross:
            sentence += CROSS_SENTENCE_CREDIT  # words cannot be expected across languages (index/tuning.py)
        final[cand.pid] = cand.fused + sentence_weight * sentence + cosine_weight * meaning.get(cand.pid, 0.0)
    order = sorted((c for c in pool if c.pid in final), key=lambda c: -final[c.pid])
    return Reranked(order=order, final=final, quotes=quotes, passages=passages)
