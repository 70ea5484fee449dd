"""Choose the sentence(s) of a passage that best answer a question, verify them verbatim, mark the terms."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from index.lang.analyzer import analyze_spans, stem_prefixes, term_set
from index.records import ArticleRef, Passage, Quote
from index.text.normalize import fold

MAX_QUOTE_WORDS = 75  # a quote grows to neighbouring sentences while it stays under this
MAX_QUOTE_SENTENCES = 3
PREFIX_MATCH = 0.5  # credit for a question word found only by its prefix ("exiler" in "exila")

# Answer-type cues: what kind of words a sentence needs to answer this kind of question.
_NUMBER_Q = re.compile(r"\b(combien|how (many|much)|quel(le)?s? (est|sont|etait|était) (le|la|les) (nombre|montant|"
                       r"prix|taux|population|pourcentage|somme)|what (percentage|number|amount))\b")  # fmt: skip
_DATE_Q = re.compile(r"\b(quand|when|en quelle annee|quelle annee|quelle date|what year|which year|what date|"
                     r"in what year|depuis quand|a quelle (date|epoque|periode))\b")  # fmt: skip
_WHO_Q = re.compile(r"\b(qui|who|whom|whose|par qui|by whom)\b")
_WHERE_Q = re.compile(r"\b(ou|where|dans quel(le)? (pays|ville|region))\b")
_HAS_NUMBER = re.compile(r"\d|\b(milliers?|millions?|milliards?|billions?|thousands?|hundreds?|dozens?|douzaines?|"
                         r"centaines?|dizaines?|trillions?)\b", re.IGNORECASE)
_HAS_DATE = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b|\b(janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|"
                       r"octobre|novembre|decembre|january|february|march|april|may|june|july|august|september|"
                       r"october|november|december)\b")  # fmt: skip
_NAME_WORD = re.compile(r"(?<!^)(?<![.!?¿¡] )\b[A-ZÀ-Þ][\w-]*")
_HAS_NAME = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][a-zà-ÿ]+")


@dataclass(frozen=True)
class QuestionTerms:
    """The question's stems with their weights (idf), and the kind of answer it expects.

    `prefixes` maps each stem to the prefix term of the question word it came from (see analyzer.analyze).
    """

    weights: Mapping[str, float]
    wants_number: bool = False
    wants_date: bool = False
    wants_name: bool = False
    wants_place: bool = False
    prefixes: Mapping[str, str] = field(default_factory=dict)
    names: frozenset[str] = frozenset()  # stems of the capitalised words inside the question (names)

    @property
    def total(self) -> float:
        return sum(self.weights.values()) or 1.0

    def matched(self, present: frozenset[str] | set[str]) -> dict[str, float]:
        """Per stem found in `present` (a term_set): 1 for the stem itself, PREFIX_MATCH for its prefix only."""
        out = {}
        for s in self.weights:
            if s in present:
                out[s] = 1.0
            elif self.prefixes.get(s) in present:
                out[s] = PREFIX_MATCH
        return out


def question_terms(question: str, lang: str, idf: Mapping[str, float] | None = None) -> QuestionTerms:
    prefixes: dict[str, str] = {}
    for stem, prefix in stem_prefixes(question, lang):
        prefixes.setdefault(stem, prefix)
    q = fold(question)
    return QuestionTerms(
        weights={s: (idf or {}).get(s, 1.0) for s in prefixes},
        wants_number=bool(_NUMBER_Q.search(q)),
        wants_date=bool(_DATE_Q.search(q)),
        wants_name=bool(_WHO_Q.search(q)),
        wants_place=bool(_WHERE_Q.search(q)),
        prefixes=prefixes,
        names=frozenset(t for w in _NAME_WORD.findall(question) for t, _ in stem_prefixes(w, lang)),
    )


def _sentence_score(terms: QuestionTerms, present: frozenset[str], local: Mapping[str, float], text: str,
                    index: int) -> float:  # fmt: skip
    found = terms.matched(present)
    score = sum(terms.weights[s] * local[s] * m for s, m in found.items()) / terms.total
    if terms.wants_number and _HAS_NUMBER.search(text):
        score += 0.15
    if terms.wants_date and _HAS_DATE.search(fold(text)):
        score += 0.2
    if terms.wants_name and _HAS_NAME.search(text):
        score += 0.05
    # A lead sentence states the story's main facts; later ones are a little less likely to answer.
    return score - 0.01 * min(index, 5)


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
    sets = [term_set(x, passage.lang) for x in texts]
    # A question term found in every sentence (the story's subject) tells sentences apart less than a term
    # found in one: weigh each term by its rarity among this passage's sentences too.
    n = len(texts)
    norm = math.log(1 + (n + 1) / 0.5)
    local = {}
    for s, prefix in terms.prefixes.items():
        df = sum(s in st or prefix in st for st in sets)
        local[s] = math.log(1 + (n + 1) / (0.5 + df)) / norm
    scores = [_sentence_score(terms, sets[i], local, x, i) for i, x in enumerate(texts)]
    if similarity is not None and len(similarity) == n and similarity_weight:
        sims = [float(v) for v in similarity]
        low, high = min(sims), max(sims)
        if high > low:
            scores = [sc + similarity_weight * (v - low) / (high - low) for sc, v in zip(scores, sims, strict=True)]
    best = max(range(n), key=lambda i: scores[i])
    lengths = [len(x.split()) for x in texts]
    first, last, words = best, best, lengths[best]
    while last - first + 1 < MAX_QUOTE_SENTENCES:
        options = [(scores[i], i) for i in (first - 1, last + 1)
                   if 0 <= i < n and words + lengths[i] <= MAX_QUOTE_WORDS]  # fmt: skip
        if not options:
            break
        i = max(options)[1]
        first, last, words = min(first, i), max(last, i), words + lengths[i]
    start, end = sentences[first][0], sentences[last][1]
    text = article_text[start:end]
    if not text or text not in passage.text or article_text[start:end] != text:
        return None, 0.0
    quote = Quote(text=text, start=start, end=end, score=score, passage_id=passage.id, article=article)
    if highlight:
        quote = with_highlights(terms, quote, passage.lang)
    return quote, scores[best]


def with_highlights(terms: QuestionTerms, quote: Quote, lang: str | None) -> Quote:
    return replace(quote, highlights=highlight_spans(terms, quote.text, lang))


def highlight_spans(terms: QuestionTerms, text: str, lang: str | None) -> tuple[tuple[int, int], ...]:
    """Spans of `text` holding a question term (by stem, or by prefix for the words the stemmer keeps apart)."""
    prefixes = set(terms.prefixes.values())
    return tuple((s, e) for s, e, t, p in analyze_spans(text, lang, prefixes=True)
                 if t in terms.weights or p in prefixes)  # fmt: skip
