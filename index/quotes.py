"""Choose the sentence(s) of a passage that best answer a question, verify them verbatim, mark the terms."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .analyzer import analyze, analyze_spans, term_set
from .models import ArticleRef, Passage, Quote
from .text import fold

MAX_QUOTE_WORDS = 60

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
_HAS_NAME = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][a-zà-ÿ]+")


@dataclass(frozen=True)
class QuestionTerms:
    """The question's stems with their weights (idf), and the kind of answer it expects."""

    weights: Mapping[str, float]
    wants_number: bool = False
    wants_date: bool = False
    wants_name: bool = False
    wants_place: bool = False

    @property
    def total(self) -> float:
        return sum(self.weights.values()) or 1.0


def question_terms(question: str, lang: str, idf: Mapping[str, float] | None = None) -> QuestionTerms:
    stems = dict.fromkeys(analyze(question, lang))
    weights = {s: (idf or {}).get(s, 1.0) for s in stems}
    q = fold(question)
    return QuestionTerms(
        weights=weights,
        wants_number=bool(_NUMBER_Q.search(q)),
        wants_date=bool(_DATE_Q.search(q)),
        wants_name=bool(_WHO_Q.search(q)),
        wants_place=bool(_WHERE_Q.search(q)),
    )


def coverage(terms: QuestionTerms, text: str, lang: str | None) -> float:
    """Share of the question's weighted stems that occur in `text` (0..1)."""
    present = term_set(text, lang)
    return sum(w for s, w in terms.weights.items() if s in present) / terms.total


_TUNE = {"ext_words": 18, "num": 0.15, "date": 0.2, "name": 0.05, "lead": 0.01, "prev_anaphor": 0.0,
         "next_bias": 0.0, "bigram": 0.0, "local": 1.0, "novel": False}
_ANAPHOR = re.compile(r"^(il|elle|ils|elles|ce|cette|ces|cet|celui|celle|ceux|celles|ceci|cela|on|lui|leur|"
                      r"he|she|they|it|its|this|these|those|his|her|their|there|such)\b", re.IGNORECASE)


def _sentence_score(terms: QuestionTerms, present: set[str], local: dict[str, float], text: str,
                    index: int) -> float:  # fmt: skip
    t = _TUNE
    score = sum(w * (local[s] if t["local"] else 1.0) for s, w in terms.weights.items() if s in present) / terms.total
    folded = fold(text)
    if terms.wants_number and _HAS_NUMBER.search(text):
        score += t["num"]
    if terms.wants_date and _HAS_DATE.search(folded):
        score += t["date"]
    if terms.wants_name and _HAS_NAME.search(text):
        score += t["name"]
    # A lead sentence states the story's main facts; later ones are a little less likely to answer.
    return score - t["lead"] * min(index, 5)


def choose_quote(
    terms: QuestionTerms,
    passage: Passage,
    article_text: str,
    article: ArticleRef,
    score: float,
    *,
    highlight: bool = True,
) -> tuple[Quote | None, float]:
    """Return the best one or two consecutive sentences of `passage` as a verified quote, and its score.

    The quote is cut from the stored article text by offsets and checked to be exactly that text, so what
    is shown can never differ from the article.
    """
    t = _TUNE
    sentences = list(passage.sentences)
    if not sentences:
        return None, 0.0
    texts = [article_text[s:e] for s, e in sentences]
    stems = [term_set(x, passage.lang) for x in texts]
    # A question term found in every sentence (the story's subject) tells sentences apart less than a term
    # found in one: weigh each term by its rarity among this passage's sentences too.
    n = len(texts)
    local = {s: math.log(1 + (n + 1) / (0.5 + sum(s in st for st in stems))) / math.log(1 + (n + 1) / 0.5)
             for s in terms.weights}  # fmt: skip
    scores = [_sentence_score(terms, stems[i], local, x, i) for i, x in enumerate(texts)]
    best = max(range(len(sentences)), key=lambda i: scores[i])
    start, end = sentences[best]
    words = len(texts[best].split())
    # A short sentence rarely stands alone: add the better neighbour while the quote stays short.
    if words < t["ext_words"] and len(sentences) > 1:
        anaphor = bool(_ANAPHOR.match(texts[best]))

        def pref(i: int) -> float:
            bonus = t["prev_anaphor"] if (i < best and anaphor) else 0.0
            bonus += t["next_bias"] if i > best else 0.0
            return scores[i] + bonus

        neighbours = [i for i in (best - 1, best + 1) if 0 <= i < len(sentences)]
        j = max(neighbours, key=lambda i: (pref(i), -abs(i - best - 0.5)))
        if words + len(texts[j].split()) <= MAX_QUOTE_WORDS:
            start, end = min(start, sentences[j][0]), max(end, sentences[j][1])
    text = article_text[start:end]
    if not text or text not in passage.text or article_text[start:end] != text:
        return None, 0.0
    return Quote(
        text=text,
        start=start,
        end=end,
        score=score,
        passage_id=passage.id,
        article=article,
        highlights=highlight_spans(terms, text, passage.lang) if highlight else (),
    ), scores[best]


def highlight_spans(terms: QuestionTerms, text: str, lang: str | None) -> tuple[tuple[int, int], ...]:
    return tuple((s, e) for s, e, t in analyze_spans(text, lang) if t in terms.weights)
