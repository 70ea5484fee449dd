"""Cues read from a question or a sentence, in every known language's words: what is asked, what is held."""

from __future__ import annotations

import re

from index.lang import alternatives


def _any_of(name: str) -> re.Pattern[str]:
    return re.compile(rf"\b({alternatives(name)})\b")


# Asked of folded questions (see index.text.normalize.fold): what kind of answer they want.
NUMBER_QUESTION = _any_of("number_questions")
DATE_QUESTION = _any_of("date_questions")
WHO_QUESTION = _any_of("who_questions")
WHERE_QUESTION = _any_of("where_questions")
# Asked of a sentence: whether it can give that kind of answer (HOLDS_DATE of folded text).
HOLDS_NUMBER = re.compile(rf"\d|\b({alternatives('quantity_words')})\b", re.IGNORECASE)
HOLDS_DATE = re.compile(rf"\b(1[0-9]{{3}}|20[0-9]{{2}})\b|\b({alternatives('months', escape=True)})\b")

_OPENER = re.compile(rf"^({alternatives('question_openers', escape=True)})\b", re.IGNORECASE)
_MARK = re.compile(alternatives("question_marks"))


def has_question_form(text: str) -> bool:
    """True when `text` opens with a question word or holds a question's form ("a-t-il"), in any language."""
    return bool(_OPENER.match(text)) or bool(_MARK.search(text))
