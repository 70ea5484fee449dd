"""Snowflakes and timestamps shaped like Discord's."""

from __future__ import annotations

import datetime as _dt
import itertools
import threading
import time

DISCORD_EPOCH_MS = 1420070400000

_counter = itertools.count()
_lock = threading.Lock()


def snowflake(ms: int | None = None) -> int:
    """A real-looking snowflake: ``((ms - 1420070400000) << 22) | counter``.

    The low 22 bits hold a process-wide counter, so ids are unique and increase with time.
    """
    if ms is None:
        ms = int(time.time() * 1000)
    with _lock:
        n = next(_counter) & 0x3FFFFF
    return ((ms - DISCORD_EPOCH_MS) << 22) | n


def snowflake_time(sf: int) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(((int(sf) >> 22) + DISCORD_EPOCH_MS) / 1000, tz=_dt.timezone.utc)


def iso_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat()
