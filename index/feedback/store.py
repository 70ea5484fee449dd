"""The votes on answers: a small SQLite store beside the index folder, so that a reindex never loses them.

The bot remembers every answer it sends (the question, its vector, the quoted passages by article key and
passage text: passage ids change with every reindex, article keys do not), then records the members' votes
on it: one per member and answer, a second click changes it. The store never holds a member's id: a salted
hash of (guild, member), the salt drawn once per store. Times are Unix seconds (UTC).

`effects()` is what the votes change in the next answers (index/answer/adjust.py applies it), counting only
the votes cast since the last `reset()`: a reset turns the effects off and keeps the votes for the summary and
the export. Every vote that changes something, and every reset, bumps a generation kept in the database, so
another process (the bot, after `newsdesk feedback --reset`) notices at its next remember or vote.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from index.feedback.export import write_qa_set
from index.feedback.match import article_keys
from index.feedback.records import VOTES, Demotion, FeedbackEffects, FeedbackSummary
from index.feedback.summary import summarize
from index.files import iso_utc
from index.records import Answer
from index.sidecar import SidecarStore, beside
from index.store.base import Store
from index.tuning import DEFAULT

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,                  -- the answer id the bot made (the buttons carry it)
    guild_id INTEGER,                     -- NULL: a direct message
    channel_id INTEGER,
    question TEXT NOT NULL,
    lang TEXT NOT NULL,                   -- the question's language
    model TEXT NOT NULL,                  -- identity of the embedder that made `embedding` (JSON)
    embedding BLOB,                       -- float32 query vector of the question, when kept
    answered INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS quotes (         -- what the answer quoted, best first
    answer_id TEXT NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
    rank INTEGER NOT NULL,
    article_key TEXT NOT NULL,
    title TEXT NOT NULL,
    date TEXT,
    url TEXT,
    passage_hash TEXT NOT NULL,           -- sha256 of (article key, passage text): the passage across reindexes
    passage TEXT NOT NULL,                -- the passage's text (the export's passages file)
    lang TEXT,
    quote TEXT NOT NULL,                  -- the quoted text, verbatim
    PRIMARY KEY (answer_id, rank)
);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
    member TEXT NOT NULL,                 -- salted hash of (guild, member id)
    vote TEXT NOT NULL,                   -- helpful | wrong_quote | outdated
    admin INTEGER NOT NULL,
    voted_at REAL NOT NULL,               -- the last change
    PRIMARY KEY (answer_id, member)
);
CREATE INDEX IF NOT EXISTS votes_time ON votes(voted_at);
"""


def feedback_path(index_dir: Path | str) -> Path:
    """Where the votes on an index's answers live: beside the index folder, never inside a version of it."""
    return beside(index_dir, ".feedback.sqlite")


def passage_hash(article_key: str, text: str) -> str:
    return hashlib.sha256(f"{article_key}\n{text}".encode()).hexdigest()


class FeedbackStore(SidecarStore):
    """The votes on one index's answers, in SQLite beside it (index/sidecar.py). Thread-safe.

    `index` gives the version being served (`lambda: engine.snapshot`): remembering an answer reads its
    passages and article keys there.
    """

    SCHEMA = SCHEMA
    SCHEMA_VERSION = SCHEMA_VERSION

    def __init__(self, path: Path | str, salt: bytes | None = None, *, index: Callable[[], Store] | None = None):
        self._index = index
        self._listeners: list[Callable[[], None]] = []
        super().__init__(path, salt)
        self._seen = self.generation()

    def _initial_meta(self, cur: sqlite3.Cursor) -> None:
        cur.execute("INSERT OR IGNORE INTO meta VALUES ('generation', '0')")

    def _changed(self, cur: sqlite3.Cursor) -> None:
        cur.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")

    # --- what changes the effects ---------------------------------------------------------------------------

    def generation(self) -> int:
        """A number that grows with every vote that changes something and every reset (any process)."""
        return int(self._meta("generation") or 0)

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call `listener` after a vote or a reset changed the effects (here, or in another process: noticed
        at the next remember or vote)."""
        self._listeners.append(listener)

    def _notify_if_changed(self) -> None:
        now = self.generation()
        if now == self._seen:
            return
        self._seen = now
        for listener in self._listeners:
            try:
                listener()
            except Exception:
                log.exception("feedback: a listener failed")

    def member_key(self, guild_id: int | None, user_id: int) -> str:
        """The salted hash that stands for a member of a guild (or of direct messages) in this store."""
        where = "dm" if guild_id is None else str(int(guild_id))
        return self._salted(f"{where}:{int(user_id)}")

    def remember(self, answer_id: str, *, guild_id: int | None, channel_id: int | None, answer: Answer, model: str,
                 question_vector: np.ndarray | None, now: float | None = None) -> None:  # fmt: skip
        """Keep an answer the bot sends, so that votes on it can be recorded (its quotes as shown, best first)."""
        if self._index is None:
            raise ValueError("FeedbackStore(index=...) is needed to remember answers (their passages' keys)")
        index = self._index()
        passages = index.passages(q.passage_id for q in answer.quotes)
        keys = article_keys(index)
        rows = []
        for rank, q in enumerate(answer.quotes):
            p, key = passages.get(q.passage_id), keys.get(q.article.id)
            if p is None or key is None:
                continue  # a version published since the answer was made: what it quoted is gone
            rows.append((answer_id, rank, key, q.article.title, q.article.date, q.article.url,
                         passage_hash(key, p.text), p.text, p.lang, q.text))  # fmt: skip
        vector = None
        if question_vector is not None:
            vector = np.ascontiguousarray(np.asarray(question_vector, dtype=np.float32).reshape(-1)).tobytes()
        with self._tx() as cur:
            cur.execute("INSERT OR IGNORE INTO answers VALUES (?,?,?,?,?,?,?,?,?)",
                        (answer_id, guild_id, channel_id, answer.question, answer.lang, model, vector,
                         int(answer.answered), time.time() if now is None else now))  # fmt: skip
            if cur.rowcount:
                cur.executemany("INSERT INTO quotes VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
        self._notify_if_changed()

    def vote(self, answer_id: str, *, guild_id: int | None, user_id: int, vote: str, admin: bool = False,
             now: float | None = None) -> str:  # fmt: skip
        """Record a member's vote on an answer: "recorded", "changed", "same" or "unknown" (no such answer)."""
        if vote not in VOTES:
            raise ValueError(f"vote must be one of {', '.join(VOTES)}, not {vote!r}")
        member = self.member_key(guild_id, user_id)
        when = time.time() if now is None else now
        with self._tx() as cur:
            if not cur.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone():
                return "unknown"
            had = cur.execute("SELECT vote FROM votes WHERE answer_id = ? AND member = ?", (answer_id, member)).fetchone()
            if had and had[0] == vote:
                return "same"
            cur.execute("INSERT INTO votes VALUES (?,?,?,?,?) ON CONFLICT(answer_id, member) DO UPDATE SET "
                        "vote = excluded.vote, admin = excluded.admin, voted_at = excluded.voted_at",
                        (answer_id, member, vote, int(admin), when))  # fmt: skip
            self._changed(cur)
        self._notify_if_changed()
        return "changed" if had else "recorded"

    def reset(self, now: float | None = None) -> int:
        """Turn off what the votes cast so far change in answers (they stay for the summary and the export);
        return how many votes stopped counting."""
        when = time.time() if now is None else now
        with self._tx() as cur:
            since = float(self._meta("reset_at") or 0)
            counted = cur.execute("SELECT COUNT(*) FROM votes WHERE voted_at > ?", (since,)).fetchone()[0]
            cur.execute("INSERT INTO meta VALUES ('reset_at', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                        (repr(when),))  # fmt: skip
            self._changed(cur)
        self._notify_if_changed()
        return counted

    # --- reading ----------------------------------------------------------------------------------------------

    def effects(self, *, model: str | None = None, embed: Callable[[list[str]], np.ndarray] | None = None,
                same_question: float = DEFAULT.same_question, outdated_votes: int = 3) -> FeedbackEffects:  # fmt: skip
        """What the votes since the last reset change in the next answers.

        A first quote is demoted for its question when more members voted it "wrong quote" than "helpful"; an
        article is outdated once an admin, or `outdated_votes` members, voted "outdated" on an answer quoting
        it first. Question vectors kept by another model than `model` (or none kept) are made again with
        `embed`; without it such a question cannot be matched, and is left out.
        """
        since = float(self._meta("reset_at") or 0)
        tallies = self._rows(
            "SELECT a.id, a.question, a.model, a.embedding, q.article_key, q.quote, "
            "SUM(v.vote = 'helpful'), SUM(v.vote = 'wrong_quote') FROM votes v JOIN answers a ON a.id = v.answer_id "
            "JOIN quotes q ON q.answer_id = a.id AND q.rank = 0 WHERE v.voted_at > ? GROUP BY a.id ORDER BY a.id",
            (since,))  # fmt: skip
        wrong = [r for r in tallies if r[7] > r[6]]
        vectors = self._vectors([(r[1], r[2], r[3]) for r in wrong], model, embed)
        demoted = tuple(Demotion(r[4], r[5], r[1], v) for r, v in zip(wrong, vectors, strict=True) if v is not None)
        outdated = frozenset(k for (k,) in self._rows(
            "SELECT q.article_key FROM votes v JOIN quotes q ON q.answer_id = v.answer_id AND q.rank = 0 "
            "WHERE v.vote = 'outdated' AND v.voted_at > ? GROUP BY q.article_key "
            "HAVING MAX(v.admin) = 1 OR COUNT(DISTINCT v.member) >= ?", (since, int(outdated_votes))))  # fmt: skip
        return FeedbackEffects(demoted=demoted, outdated=outdated, same_question=same_question)

    @staticmethod
    def _vectors(rows: list[tuple[str, str, bytes | None]], model: str | None,
                 embed: Callable[[list[str]], np.ndarray] | None) -> list[np.ndarray | None]:  # fmt: skip
        """Each question's kept vector when `model` made it, else a new one from `embed` (None without)."""
        out: list[np.ndarray | None] = [
            np.frombuffer(blob, dtype=np.float32).copy() if blob and (model is None or kept == model) else None
            for _, kept, blob in rows
        ]
        missing = [i for i, v in enumerate(out) if v is None]
        if missing and embed is not None:
            for i, v in zip(missing, embed([rows[i][0] for i in missing]), strict=True):
                out[i] = np.asarray(v, dtype=np.float32).reshape(-1)
        return out

    def summary(self, since_days: float | None = None, limit: int = 5, now: float | None = None) -> FeedbackSummary:
        """Counts per vote, the most flagged articles and questions, over the last `since_days` days."""
        since = 0.0 if since_days is None else (time.time() if now is None else now) - since_days * 86400
        rows = self._rows(
            "SELECT v.vote, a.question, a.lang, q.article_key, q.title FROM votes v JOIN answers a ON a.id = v.answer_id "
            "LEFT JOIN quotes q ON q.answer_id = a.id AND q.rank = 0 WHERE v.voted_at >= ?", (since,))  # fmt: skip
        answers = self._rows("SELECT COUNT(DISTINCT answer_id) FROM votes WHERE voted_at >= ?", (since,))[0][0]
        reset_at = self._meta("reset_at")
        return summarize(rows, answers, since_days, limit, iso_utc(float(reset_at)) if reset_at else None)

    def export(self, path: Path | str, since_days: float | None = None) -> int:
        """Write the votes as a QA set for `newsdesk eval` (index/feedback/export.py); return the questions written."""
        since = 0.0 if since_days is None else time.time() - since_days * 86400
        tallies = self._rows(
            "SELECT a.id, a.question, a.lang, SUM(v.vote = 'helpful'), SUM(v.vote = 'wrong_quote') FROM votes v "
            "JOIN answers a ON a.id = v.answer_id WHERE v.voted_at >= ? GROUP BY a.id ORDER BY MIN(v.voted_at), a.id",
            (since,))  # fmt: skip
        quotes = self._rows("SELECT answer_id, rank, article_key, title, date, url, passage_hash, passage, lang, quote "
                            "FROM quotes ORDER BY answer_id, rank")  # fmt: skip
        return write_qa_set(Path(path), tallies, quotes)
