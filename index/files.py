"""Small file helpers every package shares: a cross-process lock, file hashes, UTC timestamps, fsync."""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

try:  # POSIX; on Windows only the in-process lock applies
    import fcntl
except ImportError:  # pragma: no cover - not on the platforms Newsdesk is tested on
    fcntl = None

_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def utcnow() -> str:
    """The time now in UTC, to the second, as ISO 8601 (what every record and manifest stores)."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def iso_utc(timestamp: float | None) -> str | None:
    """A POSIX timestamp as utcnow() writes times (None stays None)."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, timezone.utc).replace(microsecond=0).isoformat()


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing): across threads of this process and across processes."""
    key = str(Path(path).resolve())
    with _THREAD_LOCKS_GUARD:
        lock = _THREAD_LOCKS.setdefault(key, threading.Lock())
    with lock:
        if fcntl is None:
            yield
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def sha256_files(paths: Iterable[Path | str]) -> str:
    """Hex SHA-256 of the files' bytes, one after the other (read in 1 MB blocks)."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as fh:
            for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=32)
def _cached_sha256(stamp: tuple[tuple[str, int, int], ...]) -> str:
    return sha256_files(path for path, _, _ in stamp)


def sha256_files_cached(paths: Iterable[Path | str]) -> str:
    """sha256_files, remembered per (path, size, mtime) of every file: a large weight file is hashed once."""
    stamp = []
    for path in paths:
        st = os.stat(path)
        stamp.append((str(path), st.st_size, st.st_mtime_ns))
    return _cached_sha256(tuple(stamp))


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in `path` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def dir_size(path: Path) -> int:
    """Bytes in the files under `path`, at any depth."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
