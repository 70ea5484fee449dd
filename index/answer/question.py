"""Parse a question once: checked text, language, date hint, BM25 terms and the stems quotes are chosen by."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from index.answer.answer_type import expected_type
from index.errors import EmptyQuestion, QuestionTooLong
from index.lang import detect_language
from index.lang.analyzer import CAPITAL, analyze, stem_prefixes
from index.lang.cues import DATE_QUESTION as _DATE_Q
from index.lang.cues import NUMBER_QUESTION as _NUMBER_Q
from index.lang.cues import WHERE_QUESTION as _WHERE_Q
from index.lang.cues import WHO_QUESTION as _WHO_Q
from index.records import Filters
from index.store.base import Terms
from index.text.dates import DateHint, question_dates
from index.text.normalize import fold
from index.tuning import LOWERCASE_NAME, PREFIX_MATCH

_NUMBER = re.compile(r"\d+")
_NAME_WORD = re.compile(r"(?<!^)(?<![.!?¿¡] )\b[A-ZÀ-Þ][\w-]*")


@dataclass(frozen=True)
class QuestionTerms:
    """The question's stems with their weights (1, or their idf once `weighed`), and the answer it expects.

    `prefixes` maps each stem to the prefix term of the question word it came from (see analyzer.analyze).
    """

    weights: Mapping[str, float]
    wants_number: bool = False
    wants_date: bool = False
    wants_name: bool = False
    wants_place: bool = False
    prefixes: Mapping[str, str] = field(default_factory=dict)
    names: frozenset[str] = frozenset()  # stems of the capitalised words inside the question (names)
    answer_type: str = "other"  # what it asks for: one of index/answer/answer_type.py's TYPES

    @property
    def total(self) -> float:
        return sum(self.weights.values()) or 1.0

    def matched(self, present: frozenset[str] | set[str]) -> dict[str, float]:
        """Per stem found in `present` (a term_set): 1 for the stem itself, PREFIX_MATCH for its prefix only; a
        name of the question ("Euro" in "Who won Euro 2024?") that `present` holds only written in lower case
        ("la zone euro") counts LOWERCASE_NAME times that: the same word, most often not the same thing."""
        out = {}
        for s in self.weights:
            prefix = self.prefixes.get(s)
            if s in present:
                out[s] = 1.0
            elif prefix in present:
                out[s] = PREFIX_MATCH
            else:
                continue
            if s in self.names and CAPITAL + s not in present and CAPITAL + str(prefix) not in present:
                out[s] *= LOWERCASE_NAME
        return out


@dataclass(frozen=True)
class Question:
    """A question as every stage reads it, analysed once."""

    text: str  # whitespace runs made one space
    lang: str
    analyzed: tuple[str, ...]  # the BM25 query: stems and prefix terms, a repeated word counted twice
    terms: QuestionTerms  # unweighted: `weighed` gives them the index's idf
    dates: DateHint | None  # a date range the question names ("en mai 2025", "last week")
    numbers: frozenset[str]  # the digit runs it holds

    @property
    def answer_type(self) -> str:
        """What the question asks for ("money", "person"...): one of index/answer/answer_type.py's TYPES."""
        return self.terms.answer_type


def parse(text: str, max_chars: int) -> Question:
    """Check and analyse `text`. Raises EmptyQuestion, QuestionTooLong."""
    q = " ".join((text or "").split())
    if not q:
        raise EmptyQuestion()
    if len(q) > max_chars:
        raise QuestionTooLong(len(q), max_chars)
    lang = detect_language(q)
    return Question(text=q, lang=lang, analyzed=tuple(analyze(q, lang)), terms=question_terms(q, lang),
                    dates=question_dates(q), numbers=numbers_in(q))  # fmt: skip


def numbers_in(text: str) -> frozenset[str]:
    """The digit runs of `text` ("1962", "331")."""
    return frozenset(_NUMBER.findall(text))


def question_terms(question: str, lang: str) -> QuestionTerms:
    """The stems of `question` (each weighing 1) and the kind of answer its wording asks for.

    `wants_*` are the crude cues the quotes were tuned with; `answer_type` is the question analysis.
    """
    prefixes: dict[str, str] = {}
    for stem, prefix in stem_prefixes(question, lang):
        prefixes.setdefault(stem, prefix)
    q = fold(question)
    return QuestionTerms(
        weights=dict.fromkeys(prefixes, 1.0),
        wants_number=bool(_NUMBER_Q.search(q)),
        wants_date=bool(_DATE_Q.search(q)),
        wants_name=bool(_WHO_Q.search(q)),
        wants_place=bool(_WHERE_Q.search(q)),
        prefixes=prefixes,
        names=frozenset(t for w in _NAME_WORD.findall(question) for t, _ in stem_prefixes(w, lang)),
        answer_type=expected_type(question, lang),
    )


def weighed(terms: QuestionTerms, corpus: Terms | None) -> QuestionTerms:
    """`terms` with each stem weighted by its idf in `corpus` (None, an empty index: left at 1)."""
    if corpus is None or not terms.weights:
        return terms
    return replace(terms, weights={s: corpus.idf(s) for s in terms.weights})


def date_hint(question: Question, filters: Filters | None) -> DateHint | None:
    """The question's date range, unless the filters already bound the dates."""
    return question.dates if filters is None or not (filters.since or filters.until) else None
