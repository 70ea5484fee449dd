"""Slash-command option values in the engine's terms: the filters shared by /ask and /timeline."""

from __future__ import annotations

from index.errors import BadFilter
from index.records import Filters
from index.text.dates import parse_date


def filter_date(value: str | None) -> str | None:
    """An ISO date from what a member typed ("2025-05", "12 mai 2025"); BadFilter when it is not a date."""
    if value is None:
        return None
    iso = parse_date(value)
    if iso is None:
        raise BadFilter(value, "date")
    return iso


def filters_of(source: str | None, since: str | None, until: str | None) -> Filters:
    """The filters of a command's `source`, `since` and `until` options."""
    return Filters(source=source, since=filter_date(since), until=filter_date(until))
