"""Small SQLite stores kept beside an index folder (follows, feedback): never inside a version, so a reindex
never loses them. WAL (the CLI may read while the bot writes), thread-safe, members as salted hashes only."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path


def beside(index_dir: Path | str, suffix: str) -> Path:
    """The file `<index folder><suffix>` next to the index folder ("data/index" -> "data/index.follows.sqlite")."""
    index_dir = Path(index_dir)
    return index_dir.with_name(index_dir.name + suffix)


class SidecarStore:
    """One SQLite file: its schema (which must create a `meta(key, value)` table), a schema version and a salt."""

    SCHEMA = ""
    SCHEMA_VERSION = 1

    def __init__(self, path: Path | str, salt: bytes | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=10)
        with self._tx() as cur:
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA foreign_keys = ON")
            cur.executescript(self.SCHEMA)
            cur.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(self.SCHEMA_VERSION),))
            cur.execute("INSERT OR IGNORE INTO meta VALUES ('salt', ?)", (secrets.token_hex(16),))
            self._initial_meta(cur)
        self._salt = salt if salt is not None else bytes.fromhex(self._meta("salt") or "")

    def _initial_meta(self, cur: sqlite3.Cursor) -> None:
        """Rows a subclass adds to `meta` when the file is new."""

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            cur = self._db.cursor()
            try:
                yield cur
                self._db.commit()
            except BaseException:
                self._db.rollback()
                raise
            finally:
                cur.close()

    def _rows(self, sql: str, args: Sequence = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _meta(self, key: str) -> str | None:
        rows = self._rows("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def _set_meta(self, cur: sqlite3.Cursor, key: str, value: str) -> None:
        cur.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def _salted(self, text: str) -> str:
        """The salted hash that stands for a member in this store (`text` names the member and where)."""
        return hashlib.sha256(self._salt + text.encode()).hexdigest()
