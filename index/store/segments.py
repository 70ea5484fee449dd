"""Segments: one folder each, written once by SegmentWriter, served by Segment, read back by writers.

A segment folder holds `passages.sqlite` (articles and passages: text, offsets, hashes, BM25 terms),
`vectors.faiss` (keyed by passage id), `lexical/` (BM25 postings, index/store/bm25.py), `rows.npy`
(segment row -> passage id) and the sentence vectors (index/store/sentence_vectors.py; segments written before
them have none). A format-1 version folder holds the first two only; SegmentFiles reads both.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.records import Article
from index.store.bm25 import Postings, write_postings
from index.store.faults import UNREADABLE
from index.store.sentence_vectors import SentenceVectors, read_sentence_vectors, write_sentence_vectors
from index.store.vectors import load_vectors, read_vectors, reconstruct, vectors_of, write_vectors

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    date TEXT, url TEXT, path TEXT, source TEXT, author TEXT, lang TEXT,
    content_hash TEXT NOT NULL,
    indexed_at TEXT NOT NULL,
    file_size INTEGER, file_mtime INTEGER, file_seen REAL
);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    sentences TEXT NOT NULL,
    lang TEXT,
    terms TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_article ON passages(article_id);
CREATE INDEX IF NOT EXISTS passages_hash ON passages(text_hash);
"""
_ARTICLE_COLUMNS = "id, key, title, text, date, url, path, source, author, lang, content_hash, indexed_at, " \
                   "file_size, file_mtime, file_seen"  # fmt: skip
_PASSAGE_COLUMNS = "id, article_id, position, start, end, text, text_hash, sentences, lang, terms"


def open_ro(path: Path) -> sqlite3.Connection:
    if not path.is_file():  # SQLite would report a missing file only at the first query, as "unable to open"
        raise FileNotFoundError(errno.ENOENT, "no such file", str(path))
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


class SegmentWriter:
    """Writes one segment folder: rows are added, then `finish` builds its vectors, postings and row list."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True)
        self.db = sqlite3.connect(folder / "passages.sqlite")
        self.db.execute("PRAGMA journal_mode = OFF")  # the segment is published by rename once complete
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.executescript(SCHEMA)

    def add_article(self, article_id: int, article: Article, now: str, stamp: tuple | None) -> None:
        """Add an article; `stamp` is its file's (size, mtime_ns, time it was read), if it came from a file."""
        self.db.execute(
            f"INSERT INTO articles ({_ARTICLE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (article_id, article.key, article.title, article.text, article.date, article.url, article.path,
             article.source, article.author, article.lang, article.content_hash, now, *(stamp or (None,) * 3)),
        )  # fmt: skip

    def add_passage(self, passage_id: int, article_id: int, position: int, start: int, end: int, text: str,
                    text_hash: str, sentences, lang: str | None, terms: Sequence[str]) -> None:  # fmt: skip
        self.db.execute(
            f"INSERT INTO passages ({_PASSAGE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (passage_id, article_id, position, start, end, text, text_hash, json.dumps(sentences), lang,
             " ".join(terms)),
        )  # fmt: skip

    def copy_from(self, segment: Path, hidden: Sequence[int],
                  dimension: int) -> tuple[np.ndarray, np.ndarray, dict[int, np.ndarray]]:  # fmt: skip
        """Copy the rows of `segment` whose article is not in `hidden`; return their ids, vectors and the sentence
        vectors it holds of them (passage id -> one row per sentence; none from a segment written before them,
        or whose sentence files cannot be read: logged, their sentences are embedded at question time)."""
        hide = json.dumps([int(i) for i in hidden])
        self.db.execute("ATTACH DATABASE ? AS src", (str(segment / "passages.sqlite"),))
        try:
            self.db.execute(f"INSERT INTO articles ({_ARTICLE_COLUMNS}) SELECT {_ARTICLE_COLUMNS} FROM src.articles "
                            "WHERE id NOT IN (SELECT value FROM json_each(?))", (hide,))  # fmt: skip
            self.db.execute(f"INSERT INTO passages ({_PASSAGE_COLUMNS}) SELECT {_PASSAGE_COLUMNS} FROM src.passages "
                            "WHERE article_id NOT IN (SELECT value FROM json_each(?))", (hide,))  # fmt: skip
            ids = np.array([r[0] for r in self.db.execute(
                "SELECT id FROM src.passages WHERE article_id NOT IN (SELECT value FROM json_each(?)) ORDER BY id",
                (hide,))], dtype=np.int64)  # fmt: skip
            self.db.commit()
        finally:
            self.db.execute("DETACH DATABASE src")
        if not len(ids):
            return ids, np.zeros((0, dimension), dtype=np.float32), {}
        vectors = reconstruct(load_vectors(segment / "vectors.faiss"), ids)
        return ids, vectors, _sentences_of(segment, ids, dimension)

    def set_file_stamps(self, stamps: Mapping[str, Sequence]) -> None:
        """Record (size, mtime_ns, read at) for the articles of each file path in `stamps`."""
        for path, (size, mtime, seen) in stamps.items():
            self.db.execute("UPDATE articles SET file_size = ?, file_mtime = ?, file_seen = ? WHERE path = ?",
                            (size, mtime, seen, path))  # fmt: skip

    def finish(self, ids: np.ndarray, vectors: np.ndarray, dimension: int, ann_threshold: int,
               sentences: Mapping[int, np.ndarray] | None = None) -> dict:  # fmt: skip
        """Write vectors (`ids[i]` is the passage of `vectors[i]`), BM25 postings, rows and, unless `sentences` is
        None, the sentence vectors it holds (passage id -> one row per sentence); return its entry."""
        rows = []
        terms = []
        for pid, t in self.db.execute("SELECT id, terms FROM passages ORDER BY id"):
            rows.append(pid)
            terms.append(t.split())
        self.db.commit()
        self.db.close()
        if sorted(int(i) for i in ids) != rows:
            raise RuntimeError("segment vectors do not match its passages")
        index, kind = vectors_of(ids, vectors, dimension, ann_threshold)
        write_vectors(index, self.folder / "vectors.faiss")
        write_postings(self.folder / "lexical", terms)
        np.save(self.folder / "rows.npy", np.array(rows, dtype=np.int64))
        if sentences is not None:
            write_sentence_vectors(self.folder, rows, sentences, dimension)
        if kind == "ivf":
            log.info("built an IVF index over %d passages", len(rows))
        return {"name": self.folder.name, "passages": len(rows), "index_type": kind,
                "files": segment_files(self.folder)}  # fmt: skip

    def abort(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()


class Segment:
    """One segment, read-only: SQLite rows, memory-mapped vectors and postings."""

    def __init__(self, path: Path, dimension: int | None = None):
        """Open the segment at `path`; raise (sqlite3.Error, RuntimeError, OSError, ValueError) unless its
        files are there and agree: as many rows in passages.sqlite, rows.npy, vectors.faiss and lexical/."""
        self.path = path
        self.db = open_ro(path / "passages.sqlite")
        try:
            self.lock = threading.Lock()
            self.vectors = read_vectors(path / "vectors.faiss")
            self.postings = Postings(path / "lexical")
            self.rows = np.load(path / "rows.npy")
            # (id, article_id) comes from the covering index on article_id: no pass over the passage text.
            pairs = np.array(self.db.execute("SELECT id, article_id FROM passages ORDER BY id").fetchall(),
                             dtype=np.int64).reshape(-1, 2)  # fmt: skip
            if self.rows.ndim != 1 or not np.array_equal(pairs[:, 0], self.rows):
                raise ValueError(f"rows.npy of {path.name} does not match its passages")
            if self.vectors.ntotal != len(self.rows) or (dimension is not None and self.vectors.d != dimension):
                raise ValueError(f"vectors.faiss of {path.name} holds {self.vectors.ntotal} vectors of dimension "
                                 f"{self.vectors.d} for {len(self.rows)} passages")  # fmt: skip
            self.postings.check(len(self.rows))
            self.sentences = _serving_sentences(path, len(self.rows), self.vectors.d)
            self.row_article = pairs[:, 1]
            self.article_ids = np.array([r[0] for r in self.db.execute("SELECT id FROM articles ORDER BY id")],
                                        dtype=np.int64)  # fmt: skip
        except BaseException:
            self.close()
            raise

    def has_article(self, article_id: int) -> bool:
        i = int(np.searchsorted(self.article_ids, article_id))
        return i < len(self.article_ids) and int(self.article_ids[i]) == article_id

    def sentence_vectors(self, pids: Sequence[int]) -> dict[int, np.ndarray]:
        """Passage id -> its stored sentence vectors (float32), for those of `pids` (passages of this segment)
        that have some, all finite: none from a segment written before them, or whose files are damaged."""
        if self.sentences is None:
            return {}
        stored = self.sentences.of_passages(self.rows, pids).items()
        return {pid: v for pid, v in ((pid, np.asarray(v, dtype=np.float32)) for pid, v in stored)
                if np.isfinite(v).all()}  # fmt: skip

    def query(self, sql: str, args: Sequence = ()) -> list[tuple]:
        with self.lock:
            return self.db.execute(sql, args).fetchall()

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()


def _serving_sentences(path: Path, rows: int, dimension: int) -> SentenceVectors | None:
    """The segment's sentence vectors; None (logged) when damaged: they only save embedding at question time."""
    try:
        return read_sentence_vectors(path, rows, dimension)
    except UNREADABLE as exc:
        log.warning("not using the sentence vectors of segment %s (%s): its sentences are embedded at question "
                    "time", path.name, str(exc)[:200])  # fmt: skip
        return None


def _sentences_of(segment: Path, ids: np.ndarray, dimension: int) -> dict[int, np.ndarray]:
    """Passage id -> its stored sentence vectors (float16), for those of `ids` that have some (see copy_from)."""
    try:
        rows = _passage_ids(segment)
        stored = read_sentence_vectors(segment, len(rows), dimension)
        return {} if stored is None else stored.of_passages(rows, ids.tolist())
    except UNREADABLE as exc:
        log.warning("not copying the sentence vectors of segment %s (%s): its sentences are embedded at question "
                    "time", segment.name, str(exc)[:200])  # fmt: skip
        return {}


def _passage_ids(segment: Path) -> np.ndarray:
    """The passage ids of a segment in row order, read from its SQLite file (rows.npy may be what is lost)."""
    db = open_ro(segment / "passages.sqlite")
    try:
        return np.array([r[0] for r in db.execute("SELECT id FROM passages ORDER BY id")], dtype=np.int64)
    finally:
        db.close()


def segment_files(folder: Path) -> dict[str, list[int]]:
    """[size, mtime_ns] of each file of a segment, by path inside it: what its manifest entry records."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            st = path.stat()
            out[path.relative_to(folder).as_posix()] = [st.st_size, st.st_mtime_ns]
    return out


def check_segment(folder: Path, entry: Mapping, dimension: int | None = None) -> dict[str, list[int]]:
    """Raise (see UNREADABLE) unless the segment `entry` names opens, its files agree with each other (see
    Segment) and it holds `entry["passages"]` rows; return the record of its files (segment_files).

    A writer checks every segment it carries into a new version. Segments are never changed: one whose files
    have the size and mtime its entry recorded (when it was written, or last checked) is not opened again.
    """
    if not folder.is_dir():
        raise FileNotFoundError(errno.ENOENT, "segment folder missing", str(folder))
    files = segment_files(folder)
    recorded = entry.get("files")
    if recorded and all(files.get(name) == list(stamp) for name, stamp in recorded.items()):
        return files
    seg = Segment(folder, dimension)
    try:
        if len(seg.rows) != entry["passages"]:
            raise ValueError(f"{folder.name} holds {len(seg.rows)} passages, the manifest says {entry['passages']}")
    finally:
        seg.close()
    return files


@dataclass(frozen=True)
class StoredArticle:
    """An indexed article as a writer sees it (no text)."""

    id: int
    key: str
    content_hash: str
    lang: str | None
    path: str | None
    stamp: tuple | None  # (size, mtime_ns, when it was read) of its file


class SegmentFiles:
    """What a writer reads back from a segment (or a format-1 version) folder, without loading it for serving.

    Each call opens the SQLite file read-only for its own queries: a reindex reads a few things from many
    segments, once.
    """

    def __init__(self, folder: Path, legacy: bool = False):
        self.folder = folder
        self.legacy = legacy  # format 1: no file stamps in the articles table

    @property
    def name(self) -> str:
        return self.folder.name

    def articles(self, hidden: frozenset[int] | set[int] = frozenset()) -> Iterator[StoredArticle]:
        """The articles whose id is not in `hidden`."""
        cols = "id, key, content_hash, lang, path" + ("" if self.legacy else ", file_size, file_mtime, file_seen")
        db = open_ro(self.folder / "passages.sqlite")
        try:
            for row in db.execute(f"SELECT {cols} FROM articles"):
                if row[0] not in hidden:
                    stamp = tuple(row[5:8]) if not self.legacy and row[5] is not None else None
                    yield StoredArticle(row[0], row[1], row[2], row[3], row[4], stamp)
        finally:
            db.close()

    def full_articles(self, ids: Sequence[int]) -> list[Article]:
        """The articles with these ids that this folder holds, as Articles (to cut and analyze them again)."""
        cols = "key, title, text, date, url, path, source, author, lang, content_hash"
        return [Article(*row) for row in self._rows_in(f"SELECT {cols} FROM articles WHERE id IN ({{}})", ids)]

    def article_ids_among(self, ids: Sequence[int]) -> set[int]:
        """Those of `ids` that are articles of this folder."""
        return {r[0] for r in self._rows_in("SELECT id FROM articles WHERE id IN ({})", ids)}

    def count_passages(self, article_ids: Sequence[int]) -> int:
        """How many passages the articles `article_ids` have here."""
        return sum(r[0] for r in self._rows_in("SELECT COUNT(*) FROM passages WHERE article_id IN ({})", article_ids))

    def passages_by_hash(self, hashes: Sequence[str]) -> list[tuple[str, int]]:
        """(text hash, passage id) of the passages here whose text has one of `hashes`."""
        return self._rows_in("SELECT text_hash, id FROM passages WHERE text_hash IN ({})", hashes)

    def vectors(self, pids: Sequence[int], dimension: int) -> np.ndarray:
        """The vectors of passages `pids`; raise ValueError when they are not `dimension` finite numbers."""
        index = load_vectors(self.folder / "vectors.faiss", mmap=True)
        if index.d != dimension:
            raise ValueError(f"vectors of dimension {index.d}, not {dimension}")
        out = reconstruct(index, pids)
        if not np.isfinite(out).all():
            raise ValueError("vectors that are not numbers")
        return out

    def sentence_vectors(self, pids: Sequence[int], dimension: int) -> dict[int, tuple[tuple, np.ndarray]]:
        """Passage id -> (its sentences' offsets in its own text, their vectors), for those of `pids` with stored
        sentence vectors; raise (UNREADABLE) when the files are damaged or hold numbers that are not finite."""
        if self.legacy:
            return {}
        rows = _passage_ids(self.folder)
        stored = read_sentence_vectors(self.folder, len(rows), dimension)
        if stored is None:
            return {}
        found = stored.of_passages(rows, pids)
        out = {}
        sql = "SELECT id, start, sentences FROM passages WHERE id IN ({})"
        for pid, start, spans in self._rows_in(sql, list(found)):
            vectors = np.asarray(found[pid], dtype=np.float32)
            offsets = tuple((a - start, b - start) for a, b in json.loads(spans))
            if len(vectors) != len(offsets):
                continue
            if not np.isfinite(vectors).all():
                raise ValueError("sentence vectors that are not numbers")
            out[pid] = (offsets, vectors)
        return out

    def _rows_in(self, sql: str, values: Sequence) -> list[tuple]:
        """The rows of `sql` (with `IN ({})`) over `values`, asked 500 at a time (SQLite's variable limit)."""
        out: list[tuple] = []
        values = list(values)
        if not values:
            return out
        db = open_ro(self.folder / "passages.sqlite")
        try:
            for i in range(0, len(values), 500):
                part = values[i : i + 500]
                out += db.execute(sql.format(",".join("?" * len(part))), part).fetchall()
        finally:
            db.close()
        return out
