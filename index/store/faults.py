"""How a damaged index file and a full disk show up: what readers catch, and what writers tell apart."""

from __future__ import annotations

import errno
import re
import sqlite3

# What reading a damaged index file raises: SQLite errors, FAISS (RuntimeError), a missing file (OSError), a
# garbled or truncated numpy or JSON file (ValueError, EOFError for an empty .npy), a manifest of wrong shape.
UNREADABLE = (sqlite3.Error, RuntimeError, OSError, ValueError, EOFError, KeyError, TypeError)

# What a segment that passed its checks raises when it fails part way through a write that reads it (a bad
# page deep in SQLite): the writer rebuilds from the articles. A full disk is told apart first (is_disk_full).
FAILED_READ = (sqlite3.DatabaseError, RuntimeError, OSError, ValueError, EOFError)

_SHORT_WRITE = re.compile(r"\d+ requested and \d+ written|write error in .*: \d+ != \d+", re.IGNORECASE)


def is_disk_full(exc: BaseException) -> bool:
    """True for the ways a full disk (or an exhausted quota) shows up while writing an index.

    OSError ENOSPC/EDQUOT (Python's own writes, fsync, mkdir), numpy's short write ("57745 requested and 24544
    written", no errno), FAISS's write check ("write error in ...: 24544 != 57745 (No space left on device)")
    and SQLite's SQLITE_FULL ("database or disk is full").
    """
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT) or (exc.errno is None and bool(_SHORT_WRITE.search(str(exc))))
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(exc)
    if isinstance(exc, RuntimeError):
        text = str(exc)
        return bool(_SHORT_WRITE.search(text)) or "No space left on device" in text or "Disk quota exceeded" in text
    return False
