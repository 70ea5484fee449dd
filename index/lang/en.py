"""English: the words Newsdesk matches (the shape is `index.lang.vocabulary.Vocabulary`)."""

from __future__ import annotations

from index.lang.vocabulary import Vocabulary

VOCABULARY = Vocabulary(
    code="en",
    snowball="english",
    stopwords="STOPWORDS_EN_PLUS",
    function_words=frozenset({
        "the", "a", "an", "of", "and", "is", "are", "was", "were", "who", "what", "which", "when", "where",
        "why", "how", "many", "much", "in", "on", "for", "by", "with", "without", "this", "that", "these",
        "those", "it", "he", "she", "they", "we", "you", "i", "has", "have", "had", "did", "does", "do",
        "not", "be", "been", "to", "from"
    }),
    question_words=frozenset({
        "how", "many", "much", "what", "which", "who", "whom", "whose", "when", "where", "why", "did", "does",
        "do", "is", "are", "was", "were"
    }),
    question_openers=("who", "what", "when", "where", "why", "how", "which", "is", "are", "was", "were",
                      "did", "does", "do", "can", "could", "should", "will"),
    abbreviations=frozenset({
        "dr", "drs", "prof", "st", "sr", "jr", "mr", "mrs", "ms", "messrs", "gen", "col", "lt", "sgt", "capt",
        "gov", "sen", "rep", "etc", "cf", "ed", "eds", "apr", "approx", "vs", "viz", "al", "inc", "ltd", "co",
        "corp", "dept", "jan", "feb", "mar", "aug", "sep", "oct", "nov", "dec", "ave", "blvd", "rd"
    }),
    number_abbreviations=frozenset({"no", "nos", "p", "pp", "vol", "art", "chap", "fig"}),
    months=("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
            "november", "december"),
    month_abbreviations={"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
                         "oct": 10, "nov": 11, "dec": 12},
    relative_dates={"yesterday": 1, "today": 0, "last week": 7, "past week": 7, "this week": 7,
                    "last month": 31, "this month": 31, "last year": 366},
    month_prefixes=("in ",),
    year_prefixes=("in", "during"),
    number_questions=("how (many|much)", "what (percentage|number|amount)"),
    date_questions=("when", "what year", "which year", "what date", "in what year"),
    who_questions=("who", "whom", "whose", "by whom"),
    where_questions=("where",),
    quantity_words=("thousands?", "hundreds?", "dozens?", "millions?", "billions?", "trillions?"),
)
