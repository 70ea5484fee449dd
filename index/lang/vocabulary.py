"""The shape of what Newsdesk knows of one language's words: one `Vocabulary` per language module.

A language module (index/lang/fr.py, en.py) builds one `VOCABULARY = Vocabulary(...)` and `index.lang`
lists it in `LANGUAGES`; every table that matches words (detection, BM25 terms, sentence ends, dates,
answer cues) reads the union or its own language's entry from there. Only `code` and `snowball` are
required: a language given only those is detected, stemmed and searched, and what it leaves empty is simply
not recognised in its words. Words are lower-case; those compared with folded text (`fold`: no accents) are
written folded, as each field says. Fields named as regular-expression alternatives are joined with `|`
inside one group, so they may hold groups and optional parts of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Vocabulary:
    """One language's words, as Newsdesk matches them (never words shown to people: those live in bot/)."""

    code: str  # ISO 639-1
    snowball: str  # PyStemmer's algorithm name ("french")
    # The name of a list in bm25s.stopwords, not the list: bm25s brings scipy, which dates need not.
    stopwords: str | None = None
    # Detection and the BM25 terms
    function_words: frozenset[str] = frozenset()  # frequent short words that settle a short text's language
    question_words: frozenset[str] = frozenset()  # a question's form, not its topic: not searched for
    elisions: tuple[str, ...] = ()  # words elided before an apostrophe (l'avion): dropped before stemming
    # Messages that ask something
    question_openers: tuple[str, ...] = ()  # words a question can open with (compared case-insensitively)
    question_marks: tuple[str, ...] = ()  # regular-expression alternatives marking a question anywhere
    # Sentence ends
    abbreviations: frozenset[str] = frozenset()  # end with a period that does not end the sentence
    number_abbreviations: frozenset[str] = frozenset()  # the same, only before a number ("No. 5")
    # Dates, compared folded
    months: tuple[str, ...] = ()  # the twelve month names, January first
    month_abbreviations: Mapping[str, int] = field(default_factory=dict)  # short forms -> month number
    relative_dates: Mapping[str, int] = field(default_factory=dict)  # "yesterday" -> 1: days back to cover
    month_prefixes: tuple[str, ...] = ()  # words that open "in May 2025", with what follows them (a space)
    month_year_links: tuple[str, ...] = ()  # words between a month and its year ("de l'annee "), likewise
    year_prefixes: tuple[str, ...] = ()  # words that make a year a date range ("in 2012")
    # Answer cues (regular-expression alternatives, folded except `quantity_words`)
    number_questions: tuple[str, ...] = ()  # a question that asks for a number ("how many")
    date_questions: tuple[str, ...] = ()  # ... for a date ("when")
    who_questions: tuple[str, ...] = ()  # ... for a person ("who")
    where_questions: tuple[str, ...] = ()  # ... for a place ("where")
    quantity_words: tuple[str, ...] = ()  # words that make a sentence hold a number ("thousands?"), any case
