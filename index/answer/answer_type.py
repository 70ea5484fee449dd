"""What a question asks for (its expected answer type) and which spans of that type a sentence holds.

The question's type is read from its wording, in its language's table (`answer_types` in index/lang/fr.py,
en.py): the first pattern that matches the folded question names it; a language without a table, or a
question no pattern matches, asks for "other". A sentence's spans are read from its digits, symbols and
capitalized words, and from its language's words for units, currencies, causes and titles (every known
language's words for a language that has none of its own: German and Spanish passages still show their
numbers, years and names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from index.lang import LANGUAGES, words_of
from index.lang.vocabulary import Vocabulary
from index.text.normalize import fold

TYPES = ("number", "percentage", "money", "date", "duration", "person", "organisation", "place", "reason",
         "yes_no", "definition", "other")  # fmt: skip
# The span kinds that answer each type; a weak kind answers it in part (a bare number where money is asked, a
# capitalized name nothing tells a person from a place). Yes-no and other questions have no kind of their own.
STRONG = {"number": {"number"}, "percentage": {"percentage"}, "money": {"money"}, "date": {"date", "year"},
          "duration": {"duration"}, "person": {"person"}, "organisation": {"organisation"}, "place": {"place"},
          "reason": {"reason"}, "definition": {"definition"}}  # fmt: skip
_NAMES = {"name", "person", "organisation", "place"}  # which of them a name is, capitals tell only roughly
WEAK = {"percentage": {"number"}, "money": {"number"}, "duration": {"number"}, "person": _NAMES - {"person"},
        "organisation": _NAMES - {"organisation"}, "place": _NAMES - {"place"}}  # fmt: skip
WEAK_MATCH = 0.5  # what a weak kind counts for in `type_match` (set by hand: half of the asked kind)


@dataclass(frozen=True)
class Span:
    """One answer-type span of a sentence: its kind and its text (folded, except names)."""

    kind: str
    text: str


def _folded(text: str) -> str:
    return fold(text).replace("’", "'")


@lru_cache(maxsize=16)
def _question_table(lang: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    vocabulary = LANGUAGES.get(lang)
    rows = vocabulary.answer_types if vocabulary else ()
    return tuple((re.compile(pattern), kind) for pattern, kind in rows)


def expected_type(question: str, lang: str) -> str:
    """The answer type `question` (in language `lang`) asks for: one of TYPES."""
    q = " ".join(_folded(question).split())
    for pattern, kind in _question_table(lang):
        if pattern.search(q):
            return kind
    return "other"


@dataclass(frozen=True)
class _Patterns:
    """One language's span patterns, compiled."""

    folded: tuple[tuple[str, re.Pattern[str]], ...]  # (kind, pattern) searched in the folded sentence
    titles: frozenset[str]
    organisations: frozenset[str]
    places: frozenset[str]
    prepositions: frozenset[str]
    names: bool  # whether capitalized words are names


_NUM = r"\d+(?:[.,  ]\d+)*"
_WORDS = r"(?:(?<=')|(?![a-z]))"  # a word ends here: a letter may follow an elided "d'" only


def _alt(words: tuple[str, ...]) -> str:
    return "|".join(words) or r"(?!x)x"  # nothing: a pattern that never matches


def _field(vocabulary: Vocabulary | None, name: str) -> tuple[str, ...]:
    own = tuple(getattr(vocabulary, name)) if vocabulary else ()
    return own or tuple(words_of(name))


@lru_cache(maxsize=16)
def _patterns(lang: str | None) -> _Patterns:
    v = LANGUAGES.get(lang or "")

    def words(name: str) -> str:
        return _alt(_field(v, name))

    number = rf"{_NUM}|\b(?:{words('number_words')}){_WORDS}"
    folded = (
        ("percentage", re.compile(rf"\d\s*%|\b(?:{words('percent_words')}){_WORDS}")),
        ("money", re.compile(rf"[€$£¥]\s*\d|\d\s*(?:[€$£¥]|(?:(?:k|m|md|bn|{words('quantity_words')})\s*)?"
                             rf"(?:d'|de |of )?(?:{words('currency_words')}){_WORDS})")),
        ("duration", re.compile(rf"(?:\d|\b(?:{words('number_words')}|un|une|a|an|one|few|quelques|some))"
                                rf"\s*(?:de |d')?(?:{words('duration_units')}){_WORDS}")),
        ("year", re.compile(r"\b(?:1[0-9]{3}|20[0-9]{2})\b")),
        ("date", re.compile(rf"\b\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}\b|\b(?:{_alt(tuple(words_of('months')))}|"
                            rf"{words('date_words')}){_WORDS}")),
        ("number", re.compile(number)),
        ("reason", re.compile(rf"\b(?:{words('reason_markers')}){_WORDS}")),
        ("definition", re.compile(rf"\b(?:{words('definition_markers')}){_WORDS}")),
    )
    return _Patterns(folded=folded, titles=frozenset(_field(v, "person_titles")),
                     organisations=frozenset(_field(v, "organisation_words")),
                     places=frozenset(_field(v, "place_words")),
                     prepositions=frozenset(_field(v, "place_prepositions")),
                     names=not (v and v.capitalized_nouns))  # fmt: skip


_CAP = r"[A-ZÀ-ÖØ-Þ][\w-]*"
_LINK = r"(?:de|du|des|la|le|of|the|von|van|der|den|di|da|del|y)"
_NAME = re.compile(rf"(?<![\w-]){_CAP}(?:\s+(?:{_LINK}\s+)?{_CAP})*")  # an elided "l'" or "d'" may precede
_ROMAN = re.compile(r"[IVXLCDM]+(e|er|eme|ème|th)?")  # a century or a king's number, not an acronym
_STARTS = re.compile(r"(^|[.!?:;«»\"“”(]\s*)$")
_BEFORE = re.compile(r"([\w'’-]+)[\s.,]*([\w'’-]+)?[\s.]*$")


def _name_kind(sentence: str, match: re.Match[str], p: _Patterns) -> tuple[str, str] | None:
    """What a capitalized run is (person, organisation, place or a bare name) and its text; None: no name."""
    before = sentence[: match.start()]
    prior = _BEFORE.search(before[-40:])
    last = _folded(prior.group(2) or prior.group(1)).strip("'’") if prior else ""
    words = match.group().split()
    if last not in p.titles and _STARTS.search(before):
        words = words[1:]  # a sentence's capitalized first word is no name ("The", "Selon") unless a title
    if len(words) > 1 and _folded(words[0]) in p.titles:
        last, words = _folded(words[0]), words[1:]  # "President Obama"
    text = " ".join(words)
    if len(text) < 2 or _ROMAN.fullmatch(text):
        return None
    if text.isupper():
        return "organisation", text  # an acronym (ONU, NASA)
    pair = _folded(" ".join(w for w in (prior.group(1), prior.group(2)) if w)) if prior else ""
    inside = {_folded(w) for w in words}
    if last in p.titles:
        return "person", text
    if inside & p.organisations or last in p.organisations:
        return "organisation", text
    if inside & p.places or last in p.places or last in p.prepositions or pair in p.prepositions:
        return "place", text
    return "name", text


def spans(sentence: str, lang: str | None) -> tuple[Span, ...]:
    """The answer-type spans of `sentence`, a passage's sentence in language `lang` (None: unknown)."""
    p = _patterns(lang)
    folded = _folded(sentence)
    out = [Span(kind, m.group()) for kind, pattern in p.folded for m in pattern.finditer(folded)]
    for m in _NAME.finditer(sentence) if p.names else ():
        named = _name_kind(sentence, m, p)
        if named:
            out.append(Span(*named))
    return tuple(out)


def type_match(sentence: str, wanted: str, lang: str | None) -> float | None:
    """1 when `sentence` holds a span of the `wanted` type, WEAK_MATCH for a weak kind of it, else 0; None
    when the type has no span of its own (yes-no, other)."""
    strong = STRONG.get(wanted)
    if strong is None:
        return None
    kinds = _kinds(sentence, lang)
    if kinds & strong:
        return 1.0
    return WEAK_MATCH if kinds & WEAK.get(wanted, set()) else 0.0


@lru_cache(maxsize=8192)
def _kinds(sentence: str, lang: str | None) -> frozenset[str]:
    """The span kinds of `sentence`, kept: the same sentences are read for question after question."""
    return frozenset(s.kind for s in spans(sentence, lang))
