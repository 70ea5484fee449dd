"""Choose the sentence(s) of a passage that best answer a question, verify them verbatim, mark the terms.

Also the last stage of an answer: which of the ranked passages' quotes are shown (no repeats, none much weaker
than the first), and quotes chosen by meaning as well as words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import lru_cache

import numpy as np

from index.answer.fuse import Candidate
from index.answer.question import QuestionTerms
from index.lang.analyzer import analyze_spans, term_set
from index.lang.cues import HOLDS_DATE as _HAS_DATE
from index.lang.cues import HOLDS_NUMBER as _HAS_NUMBER
from index.records import ArticleRef, Passage, Quote
from index.store.base import Store
from index.text.normalize import fold
from index.tuning import (
    DATE_CUE,
    LATER_SENTENCE,
    LATER_SENTENCES_COUNTED,
    MAX_QUOTE_SENTENCES,
    MAX_QUOTE_WORDS,
    NAME_CUE,
    NUMBER_CUE,
)

_HAS_NAME = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][a-zà-ÿ]+")


def word_scores(terms: QuestionTerms, texts: Sequence[str], lang: str | None) -> list[float]:
    """Each sentence's share of the question's weight that its words cover. A question term found in every
    sentence (the story's subject) tells sentences apart less than a term found in one: each term is weighed
    by its rarity among these sentences too."""
    sets = [term_set(x, lang) for x in texts]
    n = len(texts)
    norm = math.log(1 + (n + 1) / 0.5)
    local = {}
    for s, prefix in terms.prefixes.items():
        df = sum(s in st or prefix in st for st in sets)
        local[s] = math.log(1 + (n + 1) / (0.5 + df)) / norm
    total = terms.total or 1.0
    return [sum(terms.weights[s] * local[s] * m for s, m in terms.matched(st).items()) / total for st in sets]


def cue_score(terms: QuestionTerms, text: str, index: int) -> float:
    """What a sentence earns beside its words: a number, date or name where one is asked, less a little for
    each sentence before it (up to LATER_SENTENCES_COUNTED)."""
    score = 0.0
    if terms.wants_number and _HAS_NUMBER.search(text):
        score += NUMBER_CUE
    if terms.wants_date and _HAS_DATE.search(fold(text)):
        score += DATE_CUE
    if terms.wants_name and _HAS_NAME.search(text):
        score += NAME_CUE
    return score - LATER_SENTENCE * min(index, LATER_SENTENCES_COUNTED)


def with_meaning(scores: Sequence[float], similarity: Sequence[float], weight: float) -> list[float]:
    """`scores` plus `weight` times each sentence's cosine with the question, min-max normalized."""
    sims = [float(v) for v in similarity]
    low, high = min(sims, default=0.0), max(sims, default=0.0)
    if high <= low or not weight:
        return list(scores)
    return [sc + weight * (v - low) / (high - low) for sc, v in zip(scores, sims, strict=True)]


def grow(scores: Sequence[float], lengths: Sequence[int]) -> tuple[int, int]:
    """The first and last sentence of the quote: the best one, grown to its better neighbour (up to
    MAX_QUOTE_SENTENCES) while the quote stays under MAX_QUOTE_WORDS (`lengths` in words)."""
    n = len(scores)
    best = max(range(n), key=lambda i: scores[i])
    first, last, words = best, best, lengths[best]
    while last - first + 1 < MAX_QUOTE_SENTENCES:
        options = [(scores[i], i) for i in (first - 1, last + 1)
                   if 0 <= i < n and words + lengths[i] <= MAX_QUOTE_WORDS]  # fmt: skip
        if not options:
            break
        i = max(options)[1]
        first, last, words = min(first, i), max(last, i), words + lengths[i]
    return first, last


def choose_quote(
    terms: QuestionTerms,
    passage: Passage,
    article_text: str,
    article: ArticleRef,
    score: float,
    *,
    highlight: bool = True,
    similarity: Sequence[float] | None = None,
    similarity_weight: float = 0.0,
) -> tuple[Quote | None, float]:
    """Return the best few consecutive sentences of `passage` as a verified quote, and the best sentence's score.

    The best sentence grows to its better neighbour (up to MAX_QUOTE_SENTENCES) while the quote stays under
    MAX_QUOTE_WORDS: the answer is often in the sentence after the one that repeats the question's words.
    The quote is cut from the stored article text by offsets and checked to be exactly that text, so what
    is shown can never differ from the article. `highlight=False` leaves the highlights for later.
    `similarity` (each sentence's cosine with the question) adds `similarity_weight` times its min-max
    normalized value to the sentence scores: meaning where the words are not shared (another language).
    """
    sentences = list(passage.sentences)
    if not sentences:
        return None, 0.0
    texts = [article_text[s:e] for s, e in sentences]
    words = word_scores(terms, texts, passage.lang)
    scores = [w + cue_score(terms, x, i) for i, (w, x) in enumerate(zip(words, texts, strict=True))]
    if similarity is not None and len(similarity) == len(texts):
        scores = with_meaning(scores, similarity, similarity_weight)
    first, last = grow(scores, [len(x.split()) for x in texts])
    start, end = sentences[first][0], sentences[last][1]
    text = article_text[start:end]
    if not text or text not in passage.text or article_text[start:end] != text:
        return None, 0.0
    quote = Quote(text=text, start=start, end=end, score=score, passage_id=passage.id, article=article)
    if highlight:
        quote = with_highlights(terms, quote, passage.lang)
    return quote, max(scores)


def with_highlights(terms: QuestionTerms, quote: Quote, lang: str | None) -> Quote:
    return replace(quote, highlights=highlight_spans(terms, quote.text, lang))


def highlight_spans(terms: QuestionTerms, text: str, lang: str | None) -> tuple[tuple[int, int], ...]:
    """Spans of `text` holding a question term (by stem, or by prefix for the words the stemmer keeps apart)."""
    prefixes = set(terms.prefixes.values())
    return tuple((s, e) for s, e, t, p in analyze_spans(text, lang, prefixes=True)
                 if t in terms.weights or p in prefixes)  # fmt: skip


def pick_quotes(ranked: Sequence[Candidate], chosen: Mapping[int, Quote | None], final: Mapping[int, float],
                passages: Mapping[int, Passage], terms: QuestionTerms, *, limit: int, min_relative: float,
                overlap: float, cutoff: Mapping[int, float] | None = None) -> list[Quote]:  # fmt: skip
    """The quotes to show, best first: no repeat of a kept one, none under `min_relative` times the first on the
    `cutoff` scores (`final` where not given; Reranked.cutoff).

    Each carries its passage's re-ranked score and its highlights.
    """
    scale = cutoff or final
    quotes: list[Quote] = []
    first = 0.0
    for cand in ranked:
        quote = chosen.get(cand.pid)
        if quote is None or is_duplicate(quote, quotes, overlap):
            continue
        if quotes and scale[cand.pid] < min_relative * first:
            break  # the rest is much weaker than the best: related at most, not an answer
        quote = with_highlights(terms, quote, passages[cand.pid].lang)
        if not quotes:
            first = scale[cand.pid]
        quotes.append(replace(quote, score=final[cand.pid]))
        if len(quotes) >= limit:
            break
    return quotes


def is_duplicate(quote: Quote, kept: Sequence[Quote], overlap: float) -> bool:
    """True when `quote` says what a kept quote already says (the same story twice, overlapping windows)."""
    words = _word_set(quote.text)
    for other in kept:
        if other.article.id == quote.article.id and not (quote.end <= other.start or quote.start >= other.end):
            return True
        theirs = _word_set(other.text)
        if words and theirs and len(words & theirs) / min(len(words), len(theirs)) >= overlap:
            return True
    return False


@lru_cache(maxsize=4096)
def _word_set(text: str) -> frozenset[str]:
    return frozenset(fold(text).split())


def requote_by_meaning(store: Store, terms: QuestionTerms, cands: Sequence[Candidate],
                       passages: Mapping[int, Passage], chosen: Mapping[int, Quote | None],
                       cosines: Mapping[int, np.ndarray], *, cross: float, same: float) -> dict[int, Quote]:  # fmt: skip
    """Quotes chosen by meaning as well as words, for the passages of `cands` whose sentence cosines are known.

    A passage in another language than the question shares no words with it, so the word-based choice falls
    back to its first sentence: there the cosine, times `cross`, leads the choice. In the question's language
    it is added with `same` beside the words: a sentence may answer in other words than the question's.
    """
    out = {}
    for cand in cands:
        weight = cross if cand.cross else same
        p = passages.get(cand.pid)
        if weight <= 0 or p is None or cand.pid not in chosen or cand.pid not in cosines:
            continue
        quote, _ = choose_quote(terms, p, store.article_text(p.article_id), store.articles[p.article_id], cand.fused,
                                highlight=False, similarity=cosines[cand.pid], similarity_weight=weight)  # fmt: skip
        if quote is not None:
            out[cand.pid] = quote
    return out
