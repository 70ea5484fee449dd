"""Dates: article dates to ISO (partial dates allowed) and date expressions found in questions."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime

from index.lang import LANGUAGES, alternatives
from index.text.normalize import fold


def _months() -> dict[str, int]:
    """Folded month names and short forms of every language -> month number."""
    months: dict[str, int] = {}
    for vocabulary in LANGUAGES.values():
        months.update({name: n for n, name in enumerate(vocabulary.months, start=1)})
        months.update(vocabulary.month_abbreviations)
    return months


MONTHS = _months()

_ISO = re.compile(r"^(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?(?:[t ].*)?$")
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_WORDY = re.compile(r"^(?:[a-z]+\.?,?\s+)?(?:(\d{1,2})(?:er|st|nd|rd|th)?\s+)?([a-z]+)\.?,?\s+(?:(\d{1,2})(?:st|nd|rd|th)?,?\s+)?(\d{4})\b")


def _iso(year: int, month: int | None = None, day: int | None = None) -> str | None:
    if not 1000 <= year <= 2999:
        return None
    if month is None:
        return f"{year:04d}"
    if not 1 <= month <= 12:
        return None
    if day is None:
        return f"{year:04d}-{month:02d}"
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def parse_date(value: object) -> str | None:
    """Return an ISO date (YYYY, YYYY-MM or YYYY-MM-DD) for many common spellings, or None.

    Accepts ISO dates and timestamps, 12/05/2025 (day first), "12 mai 2025", "May 12, 2025", RFC 2822.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return _iso(int(value)) if 1000 <= value <= 2999 else None
    text = fold(str(value)).strip()
    if not text:
        return None
    if m := _ISO.match(text):
        y, mo, d = m.groups()
        return _iso(int(y), int(mo) if mo else None, int(d) if d else None)
    if m := _DMY.match(text):
        d, mo, y = m.groups()
        return _iso(int(y), int(mo), int(d))
    if m := _WORDY.match(text):
        d1, month_name, d2, y = m.groups()
        month = MONTHS.get(month_name)
        if month:
            d = d1 or d2
            return _iso(int(y), month, int(d) if d else None)
    try:
        return parsedate_to_datetime(str(value)).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return None


def date_bounds(iso: str) -> tuple[str, str]:
    """Return the first and last full day covered by a possibly partial ISO date."""
    parts = [int(p) for p in iso.split("-")]
    if len(parts) == 1:
        return f"{parts[0]:04d}-01-01", f"{parts[0]:04d}-12-31"
    if len(parts) == 2:
        last = calendar.monthrange(parts[0], parts[1])[1]
        return f"{parts[0]:04d}-{parts[1]:02d}-01", f"{parts[0]:04d}-{parts[1]:02d}-{last:02d}"
    return iso, iso


def in_range(article_date: str | None, since: str | None, until: str | None) -> bool:
    """Return True when a (possibly partial) article date overlaps [since, until]."""
    if since is None and until is None:
        return True
    if article_date is None:
        return False
    first, last = date_bounds(article_date)
    if since is not None and last < date_bounds(since)[0]:
        return False
    return not (until is not None and first > date_bounds(until)[1])


@dataclass(frozen=True)
class DateHint:
    """A date range read from a question, and the words it came from."""

    since: str
    until: str
    phrase: str


_MONTH_WORDS = "|".join(sorted(MONTHS, key=len, reverse=True))
_Q_MONTH_YEAR = re.compile(rf"\b(?:{alternatives('month_prefixes', escape=True)})?({_MONTH_WORDS})\.? "
                           rf"(?:{alternatives('month_year_links', escape=True)})?(\d{{4}})\b")
_Q_YEAR = re.compile(rf"\b(?:{alternatives('year_prefixes', escape=True)}) (\d{{4}})\b")
# A question naming two spans takes the first in this order ("yesterday or today": yesterday), then the
# first language's phrase.
_SPAN_ORDER = (1, 0, 7, 31, 366)
_RELATIVE = dict(sorted(
    (item for vocabulary in LANGUAGES.values() for item in vocabulary.relative_dates.items()),
    key=lambda item: _SPAN_ORDER.index(item[1]),
))  # fmt: skip


def question_dates(question: str, today: date | None = None) -> DateHint | None:
    """Find a date range in a question ("en mai 2025", "in 2012", "last week", "hier"), or None."""
    q = fold(question).replace("’", "'")
    if m := _Q_MONTH_YEAR.search(q):
        month, year = MONTHS[m.group(1)], int(m.group(2))
        since, until = date_bounds(f"{year:04d}-{month:02d}")
        return DateHint(since, until, m.group(0).strip())
    if m := _Q_YEAR.search(q):
        since, until = date_bounds(m.group(1))
        return DateHint(since, until, m.group(0))
    today = today or date.today()
    for phrase, days in _RELATIVE.items():
        if re.search(rf"(?<![\w']){re.escape(phrase)}(?!\w)", q):
            start = today - timedelta(days=days)
            return DateHint(start.isoformat(), today.isoformat(), phrase)
    return None
