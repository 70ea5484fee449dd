"""Re-rank the best passages by how well their best sentence answers the question.

Two formulas. Today's, hand-set: the fused score plus `sentence_weight` times the best sentence's word score
(plus `cosine_weight` times its cosine with the question, normalized over the pool). A profile's fitted one
(`Profile.rerank_weights`, benchmarks/fit_rerank.py): a weighted sum of the `FEATURES` each passage of the pool
shows, one weight table for the passages in the question's language and one ("x") for those in another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from index.answer.answer_type import type_match
from index.answer.fuse import Candidate, scaled
from index.answer.question import QuestionTerms
from index.answer.quotes import choose_quote
from index.answer.sentences import best_cosine, best_cosines
from index.records import Passage, Quote
from index.store.base import Store
from index.tuning import CROSS_SENTENCE_CREDIT

# Whether a pool mixing passages in the question's language and in another is ranked by both fitted tables, each
# passage by its case's, where both cases have one (an English question; a French one has no table). Off. On English
# questions over a corpus half English, half German they rank better than the hand-set formula (`python -m
# benchmarks.mixed_corpus`: R@1 0.856 -> 0.884 on the German side, 0.962 -> 0.967 on the English, three splits
# alike), but on the samples' short "Ariane 6" timeline topic they quote the first flight's background ("L'Europe
# ne disposait plus de lanceur lourd...") instead of its lead ("Ariane 6 a décollé pour la première fois le mardi
# 9 juillet 2024..."; tests/bot/test_follow_e2e.py), and before the quotes' cut-off read the hand-set scores
# (Reranked.cutoff) that timeline took in an article on a bike lane in Lyon. Beside the hand-set formula (a French
# question) the "x" table let English articles on other subjects outrank French ones
# (tests/index/stories/test_follow_matching.py): never mixed.
MIXED_POOLS = False

# What the fitted formula reads of each passage of the pool (all in about 0..1):
FEATURES = (
    "fused",  # its fused score (index/answer/fuse.py; date and conversation boosts included)
    "dense",  # its cosine with the question, min-max normalized over the pool
    "lexical",  # its BM25 score over the pool's best
    "sentence",  # its best sentence's word score (choose_quote; CROSS_SENTENCE_CREDIT added across languages)
    "sentence_dense",  # its best sentence's cosine with the question (the passage's own where none is known)
    "sentence_dense_pool",  # the same, min-max normalized over the pool (the hand-set `cosine_weight` term)
    "answer_type",  # one of its sentences holds a span of the asked answer type (1, 0.5 a weak kind, 0)
    "answer_type_quote",  # its quote does
)


@dataclass(frozen=True)
class Reranked:
    """The pool re-ranked, with what was read on the way: each passage's quote and final score."""

    order: list[Candidate]  # best first; passages the store no longer holds are left out
    final: Mapping[int, float]  # passage id -> its re-ranked score (the hand-set formula or the fitted one)
    quotes: Mapping[int, Quote | None]  # passage id -> its quote (None: no verifiable one), not highlighted
    passages: Mapping[int, Passage]
    # passage id -> its FEATURES, when the fitted formula ranked (what benchmarks/fit_rerank.py records)
    signals: Mapping[int, Mapping[str, float]] = field(default_factory=dict)
    # passage id -> its hand-set score, whatever ranked: what the quotes' relative cut-off reads (`cutoff`)
    hand: Mapping[int, float] = field(default_factory=dict)

    def cutoff(self) -> Mapping[int, float]:
        """The scores the quotes' relative cut-off compares: the hand-set formula's. A fitted table's offset
        lifts every passage of its case (the cross-language one about 0.5), so a weak passage stood at 0.6 of the
        best on its scale: "When did Ariane 6 fly for the first time?" over French articles showed one on a
        government falling. `final` where no hand-set score is kept."""
        return self.hand or self.final


def rerank(pool: Sequence[Candidate], store: Store, terms: QuestionTerms, sentence_weight: float,
           cosines: Mapping[int, np.ndarray] | None = None, cosine_weight: float = 0.0, *,
           weights: Mapping[str, Mapping[str, float]] | None = None, lang: str = "*") -> Reranked:  # fmt: skip
    """Add each passage's best sentence score to its fused score, and sort again.

    The passage that holds the answer usually has one sentence that covers the question, not just the same
    topic words. With `cosines` (each sentence's cosine with the question, index/answer/sentences.py), the
    passage's best sentence cosine, min-max normalized over the pool, adds `cosine_weight` times itself.
    With `weights` (a profile's fitted tables, keyed like its confidence weights: the question's language `lang`,
    "*" for any other, "x" for a passage in another language than the question), the final score is the fitted
    formula instead (`fitted`) when the pool is of one case that has a table (`case_tables`); otherwise the
    hand-set formula.
    """
    passages = store.passages(c.pid for c in pool)
    quotes: dict[int, Quote | None] = {}
    sentences: dict[int, float] = {}
    texts: dict[int, str] = {}
    for cand in pool:
        p = passages.get(cand.pid)
        if p is None:
            continue
        texts[cand.pid] = store.article_text(p.article_id)
        quote, sentence = choose_quote(terms, p, texts[cand.pid], store.articles[p.article_id], cand.fused,
                                       highlight=False)  # fmt: skip
        quotes[cand.pid] = quote
        if cand.cross:
            sentence += CROSS_SENTENCE_CREDIT  # words cannot be expected across languages (index/tuning.py)
        sentences[cand.pid] = sentence
    kept = [c for c in pool if c.pid in sentences]
    signals: dict[int, dict[str, float]] = {}
    meaning = best_cosines(cosines, [c.pid for c in pool]) if cosines and cosine_weight else {}
    hand = {c.pid: c.fused + sentence_weight * sentences[c.pid] + cosine_weight * meaning.get(c.pid, 0.0)
            for c in kept}  # fmt: skip
    final = hand
    tables = case_tables(weights, lang, kept)
    if tables is not None:
        signals = pool_signals(kept, passages, texts, sentences, quotes, cosines or {}, terms.answer_type)
        final = fitted(kept, signals, tables)
    order = sorted(kept, key=lambda c: -final[c.pid])
    return Reranked(order=order, final=final, quotes=quotes, passages=passages, signals=signals, hand=hand)


def hand_set(sentence_weight: float, cosine_weight: float = 0.0) -> dict[str, float]:
    """Today's hand-set formula as a weight table of the fitted one."""
    return {"fused": 1.0, "sentence": sentence_weight, "sentence_dense_pool": cosine_weight}


def table_for(weights: Mapping[str, Mapping[str, float]], lang: str,
              cross: bool) -> Mapping[str, float] | None:  # fmt: skip
    """The weight table of a passage: "x" across languages, else the question's language's, else "*"."""
    if cross:
        return weights.get("x")
    return weights.get(lang) or weights.get("*")


def case_tables(weights: Mapping[str, Mapping[str, float]] | None, lang: str,
                pool: Sequence[Candidate]) -> dict[bool, Mapping[str, float]] | None:  # fmt: skip
    """The fitted table of each case of `pool` (keyed by `Candidate.cross`: in another language than the question or
    not, `table_for`) when the pool is of one case that has one (with MIXED_POOLS, when every case it holds has
    one); else None, and the hand-set formula ranks the whole pool."""
    cases = {c.cross for c in pool}
    if not weights or not cases or (len(cases) > 1 and not MIXED_POOLS):
        return None
    tables = {cross: table_for(weights, lang, cross) for cross in cases}
    return None if any(t is None for t in tables.values()) else tables  # type: ignore[return-value]


def fitted(pool: Sequence[Candidate], signals: Mapping[int, Mapping[str, float]],
           tables: Mapping[bool, Mapping[str, float]]) -> dict[int, float]:  # fmt: skip
    """Passage id -> the weighted sum of its signals by its case's table ("bias" standing for a constant 1; a
    feature nobody computes counts 0)."""

    def score(seen: Mapping[str, float], table: Mapping[str, float]) -> float:
        return float(sum(w * seen.get(name, 1.0 if name == "bias" else 0.0) for name, w in table.items()))

    return {c.pid: score(signals[c.pid], tables[c.cross]) for c in pool}


def read_by_meaning(pool: Sequence[Candidate], weights: Mapping[str, Mapping[str, float]] | None, lang: str,
                    cosine_weight: float = 0.0) -> list[Candidate]:  # fmt: skip
    """The passages of `pool` whose sentences' cosines the re-ranking reads (they must be known before it): all of
    them for the hand-set formula with a `cosine_weight`, else, where fitted tables rank the pool (`case_tables`),
    those whose table names a cosine feature, at any weight (benchmarks/fit_rerank.py records the hand-set formula
    so)."""
    if cosine_weight > 0:
        return list(pool)
    tables = case_tables(weights, lang, pool) or {}
    return [c for c in pool if c.cross in tables and {"sentence_dense", "sentence_dense_pool"} & set(tables[c.cross])]


def pool_signals(pool: Sequence[Candidate], passages: Mapping[int, Passage], texts: Mapping[int, str],
                 sentences: Mapping[int, float], quotes: Mapping[int, Quote | None],
                 cosines: Mapping[int, np.ndarray], wanted: str) -> dict[int, dict[str, float]]:  # fmt: skip
    """Passage id -> its FEATURES, normalized over `pool` where they say so (`wanted`: the asked answer type)."""
    pids = [c.pid for c in pool]
    dense = scaled({c.pid: c.dense for c in pool})
    top_lexical = max((c.lexical for c in pool), default=0.0)
    meaning = best_cosines(cosines, pids) if cosines else {}
    out = {}
    for cand in pool:
        p = passages[cand.pid]
        quote = quotes.get(cand.pid)
        text = texts[cand.pid]
        kinds = [type_match(text[a:b], wanted, p.lang) for a, b in p.sentences]
        out[cand.pid] = {
            "fused": cand.fused,
            "dense": dense[cand.pid],
            "lexical": cand.lexical / top_lexical if top_lexical > 0 else 0.0,
            "sentence": sentences[cand.pid],
            "sentence_dense": best_cosine(cosines, cand.pid, cand.dense),
            "sentence_dense_pool": meaning.get(cand.pid, 0.0),
            "answer_type": max((k or 0.0 for k in kinds), default=0.0),
            "answer_type_quote": (type_match(quote.text, wanted, p.lang) or 0.0) if quote else 0.0,
        }
    return out
