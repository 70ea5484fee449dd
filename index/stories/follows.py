"""Followed topics: a small SQLite store beside the index, and matching them against what a reindex brought.

A follow is a topic a member wants to hear about (in a channel, or by direct message). After a reindex, the
articles whose content is new (added, or changed: compared by content hash, so a forced rebuild brings
nothing new) are the only ones that can match. Each follow is judged like an answer, with its kept
embedding: its topic is asked over the index without the articles it already knows (the story so far) but
for the best of them (its reference), and the new articles that answer quotes, when it passes the confidence
bar, are matches. A new article thus competes with what the topic does not match, and must stand beside the
story's best article as a quote of the same answer. Judged alone, with no other passage beside it, a new
article has a lead over the next passage (one of the features the confidence reads) as large as its whole
score, whatever it says: unrelated articles passed the bar that way, and do without the story's best article
beside them (measured: tests/index/stories/test_follow_matching.py). Leaving the story in instead lets a long one take
every place the answer has for quotes (tests/index/stories/test_follows.py).

A match is queued; the bot posts a follow's queued matches as one message once its cool-down has passed, so
a burst of articles gives one alert. Matched articles become known to the follow (never alerted twice),
and so do the near-duplicates of known articles (the same dispatch from another outlet).

The store never holds a member's id: a salted hash of (guild, member), the salt drawn once per store.
Times are Unix seconds (UTC).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.embedding import identity_of
from index.files import iso_utc
from index.records import ArticleRef, Filters, Quote
from index.sidecar import SidecarStore, beside
from index.stories.duplicates import near_duplicate
from index.stories.timeline import quoted
from index.text.normalize import fold

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS follows (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,          -- the text channel, or the member's DM channel
    dm INTEGER NOT NULL DEFAULT 0,
    member TEXT NOT NULL,                 -- salted hash of (guild, member id)
    topic TEXT NOT NULL,
    lang TEXT NOT NULL,                   -- the language its messages are written in (fr, en)
    model TEXT NOT NULL,                  -- identity of the embedder that made `embedding` (JSON)
    embedding BLOB NOT NULL,              -- float32 query vector of the topic
    created_at REAL NOT NULL,
    last_alerted_at REAL,
    active INTEGER NOT NULL DEFAULT 1,
    disabled_reason TEXT,
    reference TEXT                        -- key of the article that best matches the topic among those it knows
);
CREATE INDEX IF NOT EXISTS follows_guild ON follows(guild_id, member);
CREATE TABLE IF NOT EXISTS known (          -- articles a follow has seen: its story, and what it was alerted to
    follow_id INTEGER NOT NULL REFERENCES follows(id) ON DELETE CASCADE,
    article_key TEXT NOT NULL,
    PRIMARY KEY (follow_id, article_key)
);
CREATE TABLE IF NOT EXISTS pending (        -- matches waiting for the follow's cool-down
    follow_id INTEGER NOT NULL REFERENCES follows(id) ON DELETE CASCADE,
    article_key TEXT NOT NULL,
    matched_at REAL NOT NULL,
    alert TEXT NOT NULL,                  -- JSON: the quote, its article, the other outlets
    PRIMARY KEY (follow_id, article_key)
);
CREATE TABLE IF NOT EXISTS seen (           -- each article's content hash at the last check
    article_key TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL
);
"""


def follows_path(index_dir: Path | str) -> Path:
    """Where the follows of an index live: beside the index folder, never inside a version of it."""
    return beside(index_dir, ".follows.sqlite")


@dataclass(frozen=True)
class Follow:
    id: int
    guild_id: int
    channel_id: int
    dm: bool
    member: str
    topic: str
    lang: str
    model: str
    embedding: np.ndarray = field(repr=False, compare=False)
    created_at: float
    last_alerted_at: float | None
    active: bool
    disabled_reason: str | None
    reference: str | None = None

    def to_dict(self) -> dict:
        return {"id": self.id, "guild_id": self.guild_id, "channel_id": self.channel_id, "dm": self.dm,
                "member": self.member, "topic": self.topic, "lang": self.lang, "created_at": iso_utc(self.created_at),
                "last_alerted_at": iso_utc(self.last_alerted_at), "active": self.active,
                "disabled_reason": self.disabled_reason}  # fmt: skip


@dataclass(frozen=True)
class Alert:
    """One matched article, as it will be posted: its quote, and the same story from other outlets."""

    article_key: str
    quote: Quote
    also: tuple[ArticleRef, ...] = ()

    def to_json(self) -> str:
        return json.dumps({"key": self.article_key, "quote": self.quote.to_dict(),
                           "highlights": [list(h) for h in self.quote.highlights],
                           "start": self.quote.start, "end": self.quote.end,
                           "also": [a.to_dict() for a in self.also]}, ensure_ascii=False)  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> Alert:
        data = json.loads(text)
        q = data["quote"]
        quote = Quote(text=q["text"], start=data["start"], end=data["end"], score=q["score"],
                      passage_id=q["passage_id"], article=ArticleRef(**q["article"]),
                      highlights=tuple(tuple(h) for h in data.get("highlights") or ()))  # fmt: skip
        return cls(data["key"], quote, tuple(ArticleRef(**a) for a in data.get("also") or ()))


@dataclass(frozen=True)
class Due:
    """A follow whose cool-down has passed, with its queued alerts (oldest match first)."""

    follow: Follow
    alerts: tuple[Alert, ...]


@dataclass(frozen=True)
class CheckResult:
    new_articles: int  # articles added or changed since the last check
    matches: int  # alerts queued
    follows_checked: int
    took_ms: float


class FollowStore(SidecarStore):
    """The follows of one index, in SQLite beside it (index/sidecar.py). Thread-safe."""

    SCHEMA = SCHEMA
    SCHEMA_VERSION = SCHEMA_VERSION

    # --- members ------------------------------------------------------------------------------------------

    def member_key(self, guild_id: int, user_id: int) -> str:
        """The salted hash that stands for a member of a guild in this store."""
        return self._salted(f"{int(guild_id)}:{int(user_id)}")

    # --- follows ------------------------------------------------------------------------------------------

    _COLUMNS = ("id, guild_id, channel_id, dm, member, topic, lang, model, embedding, created_at, last_alerted_at, "
                "active, disabled_reason, reference")  # fmt: skip

    @staticmethod
    def _follow(r: tuple) -> Follow:
        return Follow(id=r[0], guild_id=r[1], channel_id=r[2], dm=bool(r[3]), member=r[4], topic=r[5], lang=r[6],
                      model=r[7], embedding=np.frombuffer(r[8], dtype=np.float32).copy(), created_at=r[9],
                      last_alerted_at=r[10], active=bool(r[11]), disabled_reason=r[12], reference=r[13])  # fmt: skip

    def _select(self, where: str = "1", args: Sequence = ()) -> list[Follow]:
        return [self._follow(r) for r in self._rows(f"SELECT {self._COLUMNS} FROM follows WHERE {where} ORDER BY id", args)]

    def add(self, *, guild_id: int, channel_id: int, dm: bool, member: str, topic: str, lang: str, model: str,
            embedding: np.ndarray, story: Sequence[str] = (), now: float | None = None) -> Follow:  # fmt: skip
        """Store a follow; `story` are the keys of the articles it already knows (never alerted), best first."""
        vector = np.ascontiguousarray(np.asarray(embedding, dtype=np.float32).reshape(-1))
        story = list(story)
        with self._tx() as cur:
            cur.execute("INSERT INTO follows (guild_id, channel_id, dm, member, topic, lang, model, embedding, "
                        "created_at, reference) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (int(guild_id), int(channel_id), int(dm), member, topic, lang, model, vector.tobytes(),
                         time.time() if now is None else now, story[0] if story else None))  # fmt: skip
            fid = cur.lastrowid
            cur.executemany("INSERT OR IGNORE INTO known VALUES (?, ?)", [(fid, k) for k in story])
        return self.get(fid)

    def get(self, follow_id: int) -> Follow | None:
        found = self._select("id = ?", (int(follow_id),))
        return found[0] if found else None

    def all(self) -> list[Follow]:
        return self._select()

    def active(self) -> list[Follow]:
        return self._select("active = 1")

    def of_guild(self, guild_id: int) -> list[Follow]:
        return self._select("guild_id = ?", (int(guild_id),))

    def of_member(self, guild_id: int, member: str) -> list[Follow]:
        return self._select("guild_id = ? AND member = ?", (int(guild_id), member))

    def count(self, guild_id: int, member: str | None = None) -> int:
        """Active follows of a guild (of one member, when given): what the limits count."""
        if member is None:
            return self._rows("SELECT COUNT(*) FROM follows WHERE active = 1 AND guild_id = ?", (int(guild_id),))[0][0]
        return self._rows("SELECT COUNT(*) FROM follows WHERE active = 1 AND guild_id = ? AND member = ?",
                          (int(guild_id), member))[0][0]  # fmt: skip

    def find(self, guild_id: int, member: str, channel_id: int, topic: str) -> Follow | None:
        """An active follow of this member for the same topic in the same place (topics compared folded)."""
        wanted = " ".join(fold(topic).split())
        for f in self._select("active = 1 AND guild_id = ? AND member = ? AND channel_id = ?",
                              (int(guild_id), member, int(channel_id))):  # fmt: skip
            if " ".join(fold(f.topic).split()) == wanted:
                return f
        return None

    def remove(self, follow_id: int) -> bool:
        with self._tx() as cur:
            cur.execute("DELETE FROM follows WHERE id = ?", (int(follow_id),))
            return cur.rowcount > 0

    def disable(self, reason: str, *, follow_id: int | None = None, channel_id: int | None = None,
                guild_id: int | None = None, member: str | None = None) -> list[Follow]:  # fmt: skip
        """Disable the active follows of one follow id, one channel, or one member of a guild; return them."""
        if follow_id is not None:
            where, args = "id = ?", (int(follow_id),)
        elif channel_id is not None:
            where, args = "channel_id = ?", (int(channel_id),)
        elif guild_id is not None and member is not None:
            where, args = "guild_id = ? AND member = ?", (int(guild_id), member)
        else:
            raise ValueError("disable what: a follow, a channel, or a member of a guild")
        with self._tx() as cur:
            hit = self._select(f"active = 1 AND {where}", args)
            cur.execute(f"UPDATE follows SET active = 0, disabled_reason = ? WHERE active = 1 AND {where}",
                        (reason, *args))  # fmt: skip
            cur.execute(f"DELETE FROM pending WHERE follow_id IN (SELECT id FROM follows WHERE {where})", args)
        return hit

    def set_embedding(self, follow_id: int, model: str, embedding: np.ndarray) -> None:
        vector = np.ascontiguousarray(np.asarray(embedding, dtype=np.float32).reshape(-1))
        with self._tx() as cur:
            cur.execute("UPDATE follows SET model = ?, embedding = ? WHERE id = ?", (model, vector.tobytes(), follow_id))

    def known(self, follow_id: int) -> set[str]:
        return {r[0] for r in self._rows("SELECT article_key FROM known WHERE follow_id = ?", (int(follow_id),))}

    # --- what the index held at the last check -------------------------------------------------------------

    def seen_version(self) -> str | None:
        return self._meta("seen_version")

    def seen(self) -> dict[str, str] | None:
        """Article key -> content hash at the last check; None before the first check."""
        if self._meta("seen_version") is None:
            return None
        return dict(self._rows("SELECT article_key, content_hash FROM seen"))

    def set_seen(self, version: str, current: dict[str, str], previous: dict[str, str] | None) -> None:
        """Record what the index holds now (only the rows that differ from `previous` are written)."""
        previous = previous or {}
        with self._tx() as cur:
            cur.executemany("DELETE FROM seen WHERE article_key = ?", [(k,) for k in previous if k not in current])
            cur.executemany("INSERT INTO seen VALUES (?, ?) ON CONFLICT(article_key) DO UPDATE SET "
                            "content_hash = excluded.content_hash",
                            [(k, h) for k, h in current.items() if previous.get(k) != h])  # fmt: skip
            self._set_meta(cur, "seen_version", version)

    # --- alerts ---------------------------------------------------------------------------------------------

    def queue(self, follow_id: int, alerts: Sequence[Alert], also_known: Iterable[str] = (), now: float | None = None) -> None:
        """Queue alerts for a follow; their articles (and `also_known`) become known to it. The first article a
        follow is alerted to becomes its reference when it had none (a story that starts after the follow)."""
        now = time.time() if now is None else now
        with self._tx() as cur:
            if alerts:
                cur.execute("UPDATE follows SET reference = ? WHERE id = ? AND reference IS NULL",
                            (alerts[0].article_key, follow_id))  # fmt: skip
            cur.executemany("INSERT OR IGNORE INTO pending VALUES (?, ?, ?, ?)",
                            [(follow_id, a.article_key, now, a.to_json()) for a in alerts])  # fmt: skip
            keys = [a.article_key for a in alerts] + list(also_known)
            cur.executemany("INSERT OR IGNORE INTO known VALUES (?, ?)", [(follow_id, k) for k in keys])

    def pending(self, follow_id: int) -> list[Alert]:
        return [Alert.from_json(r[0]) for r in self._rows(
            "SELECT alert FROM pending WHERE follow_id = ? ORDER BY matched_at, rowid", (int(follow_id),))]  # fmt: skip

    def due(self, cooldown: float, now: float | None = None) -> list[Due]:
        """Active follows with queued alerts whose last alert is at least `cooldown` seconds old."""
        now = time.time() if now is None else now
        out = []
        for f in self._select("active = 1 AND id IN (SELECT follow_id FROM pending) AND "
                              "(last_alerted_at IS NULL OR last_alerted_at <= ?)", (now - cooldown,)):  # fmt: skip
            out.append(Due(f, tuple(self.pending(f.id))))
        return out

    def next_due(self, cooldown: float) -> float | None:
        """When the next held alert becomes due (Unix time); None when nothing is queued."""
        rows = self._rows("SELECT MIN(COALESCE(f.last_alerted_at + ?, 0)) FROM follows f WHERE f.active = 1 AND "
                          "f.id IN (SELECT follow_id FROM pending)", (cooldown,))  # fmt: skip
        return rows[0][0] if rows and rows[0][0] is not None else None

    def delivered(self, follow_id: int, keys: Iterable[str], now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._tx() as cur:
            cur.executemany("DELETE FROM pending WHERE follow_id = ? AND article_key = ?",
                            [(follow_id, k) for k in keys])  # fmt: skip
            cur.execute("UPDATE follows SET last_alerted_at = ? WHERE id = ?", (now, follow_id))

    def pending_count(self) -> dict[int, int]:
        return dict(self._rows("SELECT follow_id, COUNT(*) FROM pending GROUP BY follow_id"))


# --- matching ----------------------------------------------------------------------------------------------


def model_of(engine) -> str:
    """The embedder identity a follow's embedding is tied to (JSON, keys sorted)."""
    return json.dumps(identity_of(engine.embedder), sort_keys=True)


def story_of(engine, topic: str, vector: np.ndarray) -> list[str]:
    """The keys of the articles the topic's answer quotes now, best first: what a new follow already knows."""
    answer = engine.ask(topic, k=engine.config.rerank_depth, query_vector=vector)
    key_of = {aid: key for key, aid in engine.snapshot.keys().items()}
    return [key_of[q.article.id] for q in quoted(answer) if q.article.id in key_of]


def check_follows(engine, store: FollowStore, now: float | None = None) -> CheckResult:
    """Match every active follow against the articles added or changed since the last check; queue alerts.

    The first check only records what the index holds. Cheap when the index has not changed since.
    """
    started = time.perf_counter()
    snap = engine.snapshot
    version = snap.manifest.version
    if store.seen_version() == version:
        return CheckResult(0, 0, 0, 0.0)
    current = snap.versions()
    previous = store.seen()
    fresh = {key: aid for key, (digest, aid) in current.items() if previous is not None and previous.get(key) != digest}
    matches = checked = 0
    if fresh:
        follows = store.active()
        texts: dict[int, str] = {}

        def text(aid: int) -> str:
            if aid not in texts:
                texts[aid] = snap.article_text(aid)
            return texts[aid]

        model = model_of(engine)
        for follow in follows:
            checked += 1
            try:
                matches += _check_one(engine, snap, store, follow, current, fresh, text, model, now)
            except Exception:
                # One follow never stops the others (a topic the engine refuses, a damaged row).
                log.exception("follow %d (%r): matching failed", follow.id, follow.topic)
    store.set_seen(version, {k: d for k, (d, _) in current.items()}, previous)
    took = (time.perf_counter() - started) * 1000
    if fresh:
        log.info("follows: %d new or changed articles, %d follows checked, %d alerts queued, %.0f ms", len(fresh),
                 checked, matches, took)  # fmt: skip
    return CheckResult(len(fresh), matches, checked, took)


def _check_one(engine, snap, store: FollowStore, follow: Follow, current: dict[str, tuple[str, int]],
               fresh: dict[str, int], text, model: str, now: float | None) -> int:  # fmt: skip
    known = store.known(follow.id)
    candidates = {aid: key for key, aid in fresh.items() if key not in known}
    if not candidates:
        return 0
    vector = follow.embedding
    if follow.model != model or vector.size != getattr(engine.embedder, "dimension", vector.size):
        vector = engine.embedder.encode_queries([follow.topic])[0]  # the index moved to another model
        store.set_embedding(follow.id, model, vector)
    # The story so far is left out but for its best article: a new article competes with what the topic does not
    # match, and is quoted only when it stands beside that article, as in an answer to the topic.
    reference = current[follow.reference][1] if follow.reference in current else None
    story = frozenset(current[k][1] for k in known if k in current) - {reference}
    answer = engine.ask(follow.topic, k=engine.config.k, filters=Filters(exclude_articles=story), query_vector=vector)
    hits = [q for q in quoted(answer) if q.article.id in candidates]
    if not hits:
        return 0
    alerts, also_known, absorbed = [], [], set()
    for q in hits:  # best first
        if q.article.id in absorbed:
            continue
        # One dispatch from several outlets is one alert (the answer may quote one copy, or several).
        twins = [aid for aid in candidates if aid != q.article.id and near_duplicate(text(q.article.id), text(aid))]
        absorbed.update(twins)
        keys = [candidates[q.article.id], *(candidates[aid] for aid in twins)]
        if any(k in current and near_duplicate(text(q.article.id), text(current[k][1])) for k in known):
            also_known += keys  # the same dispatch as an article the follow knows: not news
            continue
        alerts.append(Alert(keys[0], q, tuple(snap.articles[aid] for aid in twins)))
        also_known += keys[1:]
    store.queue(follow.id, alerts, also_known, now)
    return len(alerts)
