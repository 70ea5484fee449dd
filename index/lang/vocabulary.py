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
    # What a question asks (index/answer/answer_type.py): (regular expression, answer type) pairs searched in
    # the folded question, the first that matches naming the type; none matching: "other".
    answer_types: tuple[tuple[str, str], ...] = ()
    # Answer-type spans in a sentence (regular-expression alternatives, folded): what each kind is made of.
    number_words: tuple[str, ...] = ()  # spelled-out numbers ("deux", "twelve"): no "un"/"one", mere articles
    percent_words: tuple[str, ...] = ()  # after a number ("pour cent"), or alone ("la moitie")
    currency_words: tuple[str, ...] = ()  # after a number ("euros"); the symbols are known to every language
    duration_units: tuple[str, ...] = ()  # after a number ("ans", "weeks")
    date_words: tuple[str, ...] = ()  # words that make a date without a month or a year ("siecle", "lundi")
    reason_markers: tuple[str, ...] = ()  # words that give a cause or a purpose ("parce que", "because")
    definition_markers: tuple[str, ...] = ()  # words that define ("designe", "refers to")
    # Names (compared folded, as whole words): what tells a person, an organisation or a place from a name
    person_titles: tuple[str, ...] = ()  # just before a person's name ("mme", "president")
    organisation_words: tuple[str, ...] = ()  # inside or just before an organisation's name ("universite")
    place_words: tuple[str, ...] = ()  # inside or just before a place's name ("lac", "river")
    place_prepositions: tuple[str, ...] = ()  # just before a place's name ("a", "in")
    capitalized_nouns: bool = False  # every noun is capitalized (German): capitals tell no name apart
