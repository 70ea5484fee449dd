"""The on-disk index: immutable segments (SQLite passages, FAISS vectors, BM25 postings) and versions.

Layout of an index folder::

    index/
      current -> versions/20261126T101500-3f2a   (symlink, swapped atomically by rename)
      versions/<name>/manifest.json              format, model, counts, times, the segments it is made of
      versions/<name>/deleted.npy                ids of articles replaced or removed since their segment
      segments/<name>/passages.sqlite            articles and passages (text, offsets, hashes, BM25 terms)
      segments/<name>/vectors.faiss              FAISS index keyed by passage id (flat, or IVF when large)
      segments/<name>/lexical/                   BM25 postings (index/store/bm25.py), memory-mapped on load
      segments/<name>/rows.npy                   segment row -> passage id
      .lock                                      held by the one writer

A segment is written once and never changed. A reindex writes one new segment with the articles that were
added or changed, and a new version: the old version's segments, the new one, and the ids of the articles it
replaces or removes (hidden from then on). So one edited article costs its own passages, whatever the size
of the corpus. When segments pile up, or many rows are hidden, they are merged into one (no embedding: vectors
and terms are copied). Versions are published by renaming: a crash at any point leaves the previous version
loadable, and readers in other processes pick up the new one on reload. Segments no kept version names are
deleted by the next writer.

Kept versions are the current one and those it replaced (each manifest names its `previous`), so a version
renamed into place by a writer killed before it swapped `current` takes no slot. Staging folders
(`versions/.tmp-<name>`) and temporary links (`.current-*`) are removed by whoever holds the writer lock: no
other writer can be using them. Each segment's manifest entry records the size and mtime of its files: a
writer carries a segment into a new version only when they are unchanged or, failing that, when the segment
opens and its files agree (check_segment).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import math
import os
import re
import shutil
import sqlite3
import stat
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from index.errors import (
    IndexCorrupt,
    IndexMissing,
    IndexNotAFolder,
    IndexOutdated,
    ModelMismatch,
    ReindexRunning,
)
from index.records import Article, ArticleRef, IndexStats, Passage
from index.store.bm25 import K1, B, Bm25, Postings, write_postings

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
DEFAULT_ANN_THRESHOLD = 50_000
KEEP_VERSIONS = 2
MAX_SEGMENTS = 8  # past this many, the small segments are merged
MAX_HIDDEN_SHARE = 0.2  # past this share of rows belonging to replaced articles, everything is merged

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


def utcnow() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def open_ro(path: Path) -> sqlite3.Connection:
    if not path.is_file():  # SQLite would report a missing file only at the first query, as "unable to open"
        raise FileNotFoundError(errno.ENOENT, "no such file", str(path))
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


# What reading a damaged index file raises: SQLite errors, FAISS (RuntimeError), a missing file (OSError), a
# garbled or truncated numpy or JSON file (ValueError, EOFError for an empty .npy), a manifest of wrong shape.
UNREADABLE = (sqlite3.Error, RuntimeError, OSError, ValueError, EOFError, KeyError, TypeError)

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


# --- FAISS -----------------------------------------------------------------------------------------------


def new_faiss_index(dimension: int, expected: int, ann_threshold: int, train: np.ndarray | None = None):
    """Return an empty FAISS index for about `expected` vectors, keyed by our own int64 ids.

    Below `ann_threshold` vectors: exact inner product (IndexIDMap2 over IndexFlatIP). From there on: IVF-Flat
    with about 2*sqrt(n) lists, trained on the vectors at hand, and a hash-table direct map so vectors can be
    reconstructed by id (vector reuse, merges).
    """
    import faiss

    nlist = int(min(65536, max(8, 2 * math.sqrt(expected))))
    if expected < ann_threshold or train is None or len(train) < 4 * nlist:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)), "flat"
    quantizer = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFFlat(quantizer, dimension, nlist, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    sample = train if len(train) <= nlist * 64 else train[rng.choice(len(train), nlist * 64, replace=False)]
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    index.set_direct_map_type(faiss.DirectMap.Hashtable)
    index.nprobe = ivf_nprobe(nlist)
    return index, "ivf"


def read_vectors(path: Path):
    """Read a FAISS file for serving: memory-mapped where FAISS allows it, else into memory.

    FAISS maps IVF inverted lists as OnDiskInvertedLists, whose searches start threads to prefetch the
    probed lists by default; the pages are in the page cache already, and those threads cost more than the
    scan (about 3 ms of a 1 ms search at 100k passages), so prefetching is turned off.
    """
    import faiss

    try:
        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
    except RuntimeError:
        return faiss.read_index(str(path))
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        ivf.nprobe = ivf_nprobe(ivf.nlist)
        lists = faiss.downcast_InvertedLists(ivf.invlists)
        if hasattr(lists, "prefetch_nthread"):
            lists.prefetch_nthread = 0
    return index


def write_vectors(index, path: Path) -> None:
    """Write a FAISS index through a Python file, so that a failed write raises.

    faiss.write_index(index, path) ignores the error of its final fclose: on a full disk, a small index is
    left truncated without a word.
    """
    import faiss

    errors: list[OSError] = []
    with open(path, "wb") as f:

        def write(data: bytes) -> int:
            try:
                return f.write(data)
            except OSError as exc:
                errors.append(exc)
                raise

        writer = faiss.PyCallbackIOWriter(write)
        try:
            faiss.write_index(index, writer)
        except RuntimeError:
            if errors:
                raise errors[0] from None
            raise
        finally:
            del writer


def ivf_nprobe(nlist: int) -> int:
    return min(nlist, max(16, nlist // 12))


def reconstruct(index, ids: Iterable[int]) -> np.ndarray:
    ids = np.asarray(list(ids), dtype=np.int64)
    if not len(ids):
        return np.zeros((0, index.d), dtype=np.float32)
    return np.asarray(index.reconstruct_batch(ids), dtype=np.float32)


# --- Manifest --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    format: int
    model: str
    dimension: int
    index_type: str  # of the largest segment
    articles: int
    passages: int
    languages: dict
    chunking: dict
    analyzer: int
    created_at: str
    updated_at: str
    version: str
    segments: tuple = ()  # ({"name", "passages", "index_type"}, ...), oldest first
    hidden: int = 0  # rows of replaced or removed articles still in the segments
    next_article_id: int = 1
    next_passage_id: int = 1
    previous: str = ""  # the version this one replaced when it was published: kept versions follow this chain
    # The identity of the embedder that wrote the vectors ({"model", "weights", "backend", "precision"});
    # None in indexes written before it was recorded, whose `model` name is all that is known.
    embedder: dict | None = None

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            data = json.loads((path / "manifest.json").read_text())
            known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
            if "segments" in known:
                known["segments"] = tuple(known["segments"])
            return cls(**known)
        except FileNotFoundError as exc:
            raise IndexCorrupt(str(path), "manifest.json is missing") from exc
        except (ValueError, KeyError, TypeError) as exc:  # JSONDecodeError, UnicodeDecodeError are ValueErrors
            raise IndexCorrupt(str(path), f"manifest.json is unreadable ({exc.__class__.__name__})") from exc

    def write(self, path: Path) -> None:
        data = dict(self.__dict__, segments=list(self.segments))
        (path / "manifest.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    @property
    def identity(self) -> dict:
        """The writer's embedder identity; {"model": name} for an index that did not record one."""
        return dict(self.embedder) if self.embedder else {"model": self.model}

    def check_model(self, identity: dict | str, dimension: int | None = None) -> None:
        """Raise ModelMismatch unless `identity` makes vectors interchangeable with the index's.

        Only the fields both sides know are compared: an index from before identities were recorded is
        checked by model name, so an upgraded Newsdesk serves it with the model it was built with.
        """
        mine = self.identity
        theirs = {"model": identity} if isinstance(identity, str) else identity
        differs = any(mine[k] != theirs[k] for k in mine.keys() & theirs.keys())
        if differs or (dimension is not None and dimension != self.dimension):
            raise ModelMismatch(mine, self.dimension, theirs, dimension)


def read_hidden(path: Path, manifest: Manifest) -> np.ndarray:
    """The ids of the articles version `path` hides (deleted.npy); raise ValueError when it cannot be read."""
    if not (path / "deleted.npy").exists():
        if manifest.hidden:
            raise ValueError(f"deleted.npy is missing, and {manifest.hidden} rows are hidden")
        return np.zeros(0, np.int64)
    hidden = np.load(path / "deleted.npy")
    if hidden.ndim != 1 or not np.issubdtype(hidden.dtype, np.integer):
        raise ValueError("deleted.npy does not hold article ids")
    return hidden


# --- Segments ---------------------------------------------------------------------------------------------


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
            "INSERT INTO articles (id, key, title, text, date, url, path, source, author, lang, content_hash,"
            " indexed_at, file_size, file_mtime, file_seen) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (article_id, article.key, article.title, article.text, article.date, article.url, article.path,
             article.source, article.author, article.lang, article.content_hash, now, *(stamp or (None,) * 3)),
        )  # fmt: skip

    def add_passage(self, passage_id: int, article_id: int, position: int, start: int, end: int, text: str,
                    text_hash: str, sentences, lang: str | None, terms: Sequence[str]) -> None:  # fmt: skip
        self.db.execute(
            "INSERT INTO passages (id, article_id, position, start, end, text, text_hash, sentences, lang, terms)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            (passage_id, article_id, position, start, end, text, text_hash, json.dumps(sentences), lang,
             " ".join(terms)),
        )  # fmt: skip

    def copy_from(self, segment: Path, hidden: Sequence[int], dimension: int) -> tuple[np.ndarray, np.ndarray]:
        """Copy the rows of `segment` whose article is not in `hidden`; return their ids and vectors."""
        import faiss

        hide = json.dumps([int(i) for i in hidden])
        self.db.execute("ATTACH DATABASE ? AS src", (str(segment / "passages.sqlite"),))
        try:
            cols = "id, key, title, text, date, url, path, source, author, lang, content_hash, indexed_at, " \
                   "file_size, file_mtime, file_seen"  # fmt: skip
            self.db.execute(f"INSERT INTO articles ({cols}) SELECT {cols} FROM src.articles "
                            "WHERE id NOT IN (SELECT value FROM json_each(?))", (hide,))  # fmt: skip
            cols = "id, article_id, position, start, end, text, text_hash, sentences, lang, terms"
            self.db.execute(f"INSERT INTO passages ({cols}) SELECT {cols} FROM src.passages "
                            "WHERE article_id NOT IN (SELECT value FROM json_each(?))", (hide,))  # fmt: skip
            ids = np.array([r[0] for r in self.db.execute(
                "SELECT id FROM src.passages WHERE article_id NOT IN (SELECT value FROM json_each(?)) ORDER BY id",
                (hide,))], dtype=np.int64)  # fmt: skip
            self.db.commit()
        finally:
            self.db.execute("DETACH DATABASE src")
        if not len(ids):
            return ids, np.zeros((0, dimension), dtype=np.float32)
        return ids, reconstruct(faiss.read_index(str(segment / "vectors.faiss")), ids)

    def finish(self, ids: np.ndarray, vectors: np.ndarray, dimension: int, ann_threshold: int) -> dict:
        """Write vectors (`ids[i]` is the passage of `vectors[i]`), BM25 postings and rows; return its entry."""

        rows = []
        terms = []
        for pid, t in self.db.execute("SELECT id, terms FROM passages ORDER BY id"):
            rows.append(pid)
            terms.append(t.split())
        self.db.commit()
        self.db.close()
        if sorted(int(i) for i in ids) != rows:
            raise RuntimeError("segment vectors do not match its passages")
        index, kind = new_faiss_index(dimension, len(rows), ann_threshold, train=vectors)
        if len(rows):
            index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))
        write_vectors(index, self.folder / "vectors.faiss")
        write_postings(self.folder / "lexical", terms)
        np.save(self.folder / "rows.npy", np.array(rows, dtype=np.int64))
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
            self.row_article = pairs[:, 1]
            self.article_ids = np.array([r[0] for r in self.db.execute("SELECT id FROM articles ORDER BY id")],
                                        dtype=np.int64)  # fmt: skip
        except BaseException:
            self.close()
            raise

    def has_article(self, article_id: int) -> bool:
        i = int(np.searchsorted(self.article_ids, article_id))
        return i < len(self.article_ids) and int(self.article_ids[i]) == article_id

    def query(self, sql: str, args: Sequence = ()) -> list[tuple]:
        with self.lock:
            return self.db.execute(sql, args).fetchall()

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()


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


# --- The serving snapshot ---------------------------------------------------------------------------------


_ARTICLE_COLUMNS = "id, title, date, url, path, source, lang"


def _article_ref(r: tuple) -> ArticleRef:
    return ArticleRef(id=r[0], title=r[1], date=r[2], url=r[3], path=r[4], source=r[5], lang=r[6])


class ArticleTable(Mapping):
    """Article metadata by id, read-only: each id is read from its segment the first time it is asked for.

    Iterating (values(), items(), listing, filters, stats) reads them all, once. A question only needs the
    few articles of its candidates, so a large index loads in a fraction of the time and memory it would take
    to build every ArticleRef up front.
    """

    def __init__(self, snapshot: Snapshot):
        self._snap = snapshot
        self._refs: dict[int, ArticleRef] = {}
        self._complete = False
        self._lock = threading.Lock()

    def __getitem__(self, article_id) -> ArticleRef:
        ref = self._refs.get(article_id)
        if ref is not None:
            return ref
        if self._complete:
            raise KeyError(article_id)
        seg = self._snap.segment_of_article(int(article_id))
        rows = seg.query(f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = ?", (int(article_id),)) if seg else []
        if not rows:
            raise KeyError(article_id)
        ref = self._refs[rows[0][0]] = _article_ref(rows[0])
        return ref

    def __len__(self) -> int:
        return self._snap.manifest.articles

    def __iter__(self) -> Iterator[int]:
        return iter(self._all())

    def __contains__(self, article_id) -> bool:
        try:
            self[article_id]
        except (KeyError, TypeError, ValueError):
            return False
        return True

    def values(self):
        return self._all().values()

    def items(self):
        return self._all().items()

    def keys(self):
        return self._all().keys()

    def _all(self) -> dict[int, ArticleRef]:
        if not self._complete:
            with self._lock:
                hidden = self._snap.hidden_articles
                refs = {}
                for seg in self._snap.segments:
                    for r in seg.query(f"SELECT {_ARTICLE_COLUMNS} FROM articles ORDER BY id"):
                        if r[0] not in hidden:
                            refs[r[0]] = self._refs.get(r[0]) or _article_ref(r)
                self._refs = refs
                self._complete = True
        return self._refs


class Selection:
    """Which passages a search may return: an opaque value made by `Snapshot.select`."""

    __slots__ = ("mask",)

    def __init__(self, mask: np.ndarray | None):
        self.mask = mask  # per-row 0/1 weights (None: every live row); only the store reads it

    @property
    def empty(self) -> bool:
        return self.mask is not None and not self.mask.any()


class Snapshot:
    """One loaded, read-only version of the index: what queries are answered from.

    The rows of its segments are laid end to end; rows of hidden (replaced or removed) articles stay in
    place with a weight of 0. Per row, numpy arrays hold the passage id and the article id; article metadata
    is read on demand (ArticleTable); passage and article text stay in SQLite. Vectors and postings are
    memory-mapped, so processes serving the same version share their pages.
    """

    def __init__(self, path: Path, previous: Snapshot | None = None):
        """Load the version at `path`; segments `previous` has loaded already are shared, not read again."""
        self.path = path
        self.manifest = Manifest.read(path)
        if self.manifest.format != FORMAT_VERSION:
            raise IndexOutdated(str(path.parent.parent), self.manifest.format, FORMAT_VERSION)
        self.segments: list[Segment] = []
        loaded = {s.path.name: s for s in previous.segments} if previous is not None else {}
        try:
            root = path.parent.parent / "segments"
            for s in self.manifest.segments:
                seg = loaded.get(s["name"]) or Segment(root / s["name"], self.manifest.dimension)
                self.segments.append(seg)
                if len(seg.rows) != s["passages"]:
                    raise ValueError(f"segment {s['name']} holds {len(seg.rows)} passages, the manifest says "
                                     f"{s['passages']}")  # fmt: skip
            hidden = read_hidden(path, self.manifest)
            self.hidden_articles = frozenset(int(i) for i in hidden)
            self._arrange()
        except UNREADABLE as exc:
            for seg in self.segments:
                if seg.path.name not in loaded:
                    seg.close()
            raise IndexCorrupt(str(path), str(exc)[:200]) from exc
        self.articles: Mapping[int, ArticleRef] = ArticleTable(self)
        self._bm25: dict[tuple[float, float], Bm25] = {}

    def _arrange(self) -> None:
        segs = self.segments
        self.offsets = np.cumsum([0] + [len(s.rows) for s in segs])
        self.rows = np.concatenate([s.rows for s in segs]) if segs else np.zeros(0, np.int64)
        self.row_article = np.concatenate([s.row_article for s in segs]) if segs else np.zeros(0, np.int64)
        if self.hidden_articles:
            self.live = (~np.isin(self.row_article, list(self.hidden_articles))).astype(np.float32)
        else:
            self.live = None  # every row is live
        # Per segment, the passage ids of hidden articles: what a search with no filter leaves out.
        self._hidden_rows: list[np.ndarray] = [
            s.rows[np.isin(s.row_article, list(self.hidden_articles))] if self.hidden_articles else s.rows[:0]
            for s in segs
        ]  # fmt: skip

    @property
    def size(self) -> int:
        """Rows, hidden ones included (the length of every per-row array)."""
        return len(self.rows)

    def segment_of_article(self, article_id: int) -> Segment | None:
        if article_id in self.hidden_articles:
            return None
        return next((s for s in self.segments if s.has_article(article_id)), None)

    def rows_of(self, pids: Sequence[int]) -> np.ndarray:
        """Row of each passage id (-1 where there is none). Each segment's rows are sorted by passage id."""
        pids = np.asarray(pids, dtype=np.int64)
        out = np.full(len(pids), -1, dtype=np.int64)
        for i, seg in enumerate(self.segments):
            if not len(seg.rows):
                continue
            at = np.minimum(np.searchsorted(seg.rows, pids), len(seg.rows) - 1)
            hit = seg.rows[at] == pids
            out[hit] = at[hit] + self.offsets[i]
        return out

    def _by_segment(self, pids: Sequence[int]) -> dict[int, list[int]]:
        """Positions in `pids` grouped by the segment holding each passage (unknown ids left out)."""
        rows = self.rows_of(pids)
        segs = np.searchsorted(self.offsets, rows, side="right") - 1
        out: dict[int, list[int]] = {}
        for j, (row, seg) in enumerate(zip(rows.tolist(), segs.tolist(), strict=True)):
            if row >= 0:
                out.setdefault(seg, []).append(j)
        return out

    def weights(self, allowed_articles: Iterable[int] | None = None) -> np.ndarray | None:
        """Per-row 0/1 weights: live rows, of `allowed_articles` when given; None when every row counts."""
        if allowed_articles is None:
            return self.live
        mask = np.isin(self.row_article, list(allowed_articles)).astype(np.float32)
        return mask if self.live is None else mask * self.live

    def bm25(self, k1: float = K1, b: float = B) -> Bm25:
        """The BM25 scorer over every segment (built on first use per parameter pair, then kept)."""
        scorer = self._bm25.get((k1, b))
        if scorer is None:
            scorer = self._bm25[(k1, b)] = Bm25([s.postings for s in self.segments], k1, b)
        return scorer

    def dense_search(self, qvec: np.ndarray, k: int, weights: np.ndarray | None) -> dict[int, float]:
        """Inner products of the `k` nearest live passages (allowed by `weights`), by passage id.

        With no filter (`weights` is None or `self.weights()`), only the few hidden passages of a segment are
        left out; a filter names the passages it allows.
        """
        import faiss

        hits: list[tuple[float, int]] = []
        for i, seg in enumerate(self.segments):
            lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
            if hi == lo:
                continue
            sel = keep = None
            if weights is None or weights is self.live:
                if len(self._hidden_rows[i]) == hi - lo:
                    continue
                if len(self._hidden_rows[i]):
                    keep = faiss.IDSelectorBatch(self._hidden_rows[i].astype(np.int64))  # alive while `sel` is
                    sel = faiss.IDSelectorNot(keep)
            else:
                allowed = seg.rows[weights[lo:hi] > 0]
                if not len(allowed):
                    continue
                if len(allowed) < hi - lo:
                    sel = faiss.IDSelectorBatch(allowed.astype(np.int64))
            params = None
            if sel is not None:
                ivf = faiss.try_extract_index_ivf(seg.vectors)
                if ivf is not None:
                    params = faiss.SearchParametersIVF(sel=sel, nprobe=ivf.nprobe)
                else:
                    params = faiss.SearchParameters(sel=sel)
            n = min(k, hi - lo)
            dist, ids = seg.vectors.search(qvec, n, params=params) if params else seg.vectors.search(qvec, n)
            hits += [(float(d), int(p)) for d, p in zip(dist[0], ids[0], strict=True) if p >= 0]
        hits.sort(reverse=True)
        return {p: d for d, p in hits[:k]}

    # --- the query interface (index/store/base.py `Store`): passage and article ids in and out ------------

    def select(self, articles: Iterable[int] | None = None, exclude: Iterable[int] = ()) -> Selection | None:
        """The live passages of `articles` (every article when None) minus those of `exclude`.

        None stands for every live passage, the case searches are fastest in.
        """
        exclude = list(exclude)
        if articles is None and not exclude:
            return None
        mask = self.weights(articles)
        if exclude:
            mask = np.ones(self.size, dtype=np.float32) if mask is None else mask.copy()
            mask[np.isin(self.row_article, np.asarray(exclude, dtype=np.int64))] = 0
        return Selection(mask)

    def dense(self, qvec: np.ndarray, k: int, within: Selection | None = None) -> dict[int, float]:
        """Passage id -> inner product with `qvec` of the `k` nearest passages of `within`."""
        if within is not None and within.empty:
            return {}
        return self.dense_search(qvec, k, self.live if within is None else within.mask)

    def similarity(self, qvec: np.ndarray, pids: Sequence[int]) -> dict[int, float]:
        """Passage id -> inner product with `qvec`, for the given passages (vectors read back)."""
        pids = [int(p) for p in pids]
        if not pids:
            return {}
        return dict(zip(pids, (self.reconstruct(pids) @ qvec[0]).tolist(), strict=True))

    def lexical(self, terms: Sequence[str], k: int, within: Selection | None = None, *, k1: float = K1,
                b: float = B, also: Sequence[int] = ()) -> dict[int, float]:  # fmt: skip
        """Passage id -> BM25 score: the `k` best passages of `within` with a positive score, and `also`."""
        n = self.size
        bm25 = self.bm25(k1, b)
        known = [t for t in terms if t in bm25]
        if not n or not known:
            return dict.fromkeys((int(p) for p in also), 0.0)
        mask = self.live if within is None else within.mask
        scores = bm25.scores(known, mask)
        top = np.argpartition(-scores, min(k, n - 1))[:k] if n > k else np.arange(n)
        out = {int(self.rows[r]): float(scores[r]) for r in top if scores[r] > 0}
        rows = self.rows_of(list(also))
        for p, r in zip(also, rows.tolist(), strict=True):
            out.setdefault(int(p), float(scores[r]) if r >= 0 else 0.0)
        return out

    def lexical_scores(self, terms: Sequence[str], pids: Sequence[int], *, k1: float = K1,
                       b: float = B) -> dict[int, float]:  # fmt: skip
        """Passage id -> BM25 score of a few passages (no pass over the corpus)."""
        bm25 = self.bm25(k1, b)
        known = [t for t in terms if t in bm25]
        rows = self.rows_of(list(pids))
        ok = [(int(p), int(r)) for p, r in zip(pids, rows.tolist(), strict=True) if r >= 0]
        if not known or not ok:
            return dict.fromkeys((int(p) for p in pids), 0.0)
        scores = bm25.score_rows(known, [r for _, r in ok])
        return {p: float(v) for (p, _), v in zip(ok, scores.tolist(), strict=True)}

    def terms(self, k1: float = K1, b: float = B) -> Bm25:
        """The corpus' term statistics (`t in terms`, `terms.idf(t)`), as BM25 with these parameters sees them."""
        return self.bm25(k1, b)

    def article_of(self, pids: Iterable[int]) -> dict[int, int]:
        """Passage id -> article id."""
        pids = [int(p) for p in pids]
        rows = self.rows_of(pids)
        return {p: int(self.row_article[r]) for p, r in zip(pids, rows.tolist(), strict=True) if r >= 0}

    def reconstruct(self, pids: Sequence[int]) -> np.ndarray:
        """The vectors of passages `pids`, in that order."""
        out = np.zeros((len(pids), self.manifest.dimension), dtype=np.float32)
        for i, js in self._by_segment(pids).items():
            out[js] = reconstruct(self.segments[i].vectors, [pids[j] for j in js])
        return out

    def passages(self, ids: Iterable[int]) -> dict[int, Passage]:
        ids = [int(i) for i in ids]
        out = {}
        for i, js in self._by_segment(ids).items():
            pids = [ids[j] for j in js]
            marks = ",".join("?" * len(pids))
            for r in self.segments[i].query(
                f"SELECT id, article_id, position, start, end, text, sentences, lang FROM passages WHERE id IN ({marks})",
                pids,
            ):
                out[r[0]] = Passage(
                    id=r[0], article_id=r[1], position=r[2], start=r[3], end=r[4], text=r[5],
                    sentences=tuple(tuple(s) for s in json.loads(r[6])), lang=r[7],
                )  # fmt: skip
        return out

    def article_text(self, article_id: int) -> str:
        seg = self.segment_of_article(article_id)
        rows = seg.query("SELECT text FROM articles WHERE id = ?", (article_id,)) if seg else []
        return rows[0][0] if rows else ""

    def keys(self) -> dict[str, int]:
        """Article key -> id, for the live articles."""
        out = {}
        for seg in self.segments:
            for key, i in seg.query("SELECT key, id FROM articles"):
                if i not in self.hidden_articles:
                    out[key] = i
        return out

    def stats(self) -> IndexStats:
        langs: dict[str, int] = {}
        for ref in self.articles.values():
            langs[ref.lang or "?"] = langs.get(ref.lang or "?", 0) + 1
        dates = [a.date for a in self.articles.values() if a.date]
        return IndexStats(
            articles=len(self.articles),
            passages=self.manifest.passages,
            languages=dict(sorted(langs.items(), key=lambda kv: -kv[1])),
            model=self.manifest.model,
            dimension=self.manifest.dimension,
            index_type=self.manifest.index_type,
            last_reindex=self.manifest.updated_at,
            size_bytes=dir_size(self.path) + sum(dir_size(s.path) for s in self.segments),
            newest=max(dates) if dates else None,
        )

    def close(self) -> None:
        for seg in self.segments:
            seg.close()


# --- The index folder -------------------------------------------------------------------------------------


class IndexDir:
    """An index folder: which version is current, atomic publication of a new one, the writer's lock."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.versions = self.root / "versions"
        self.segments = self.root / "segments"
        self.current = self.root / "current"
        self._locked = False  # this object holds the writer lock: no other writer is running

    def check_path(self) -> None:
        """Raise IndexNotAFolder when the index path, or a folder above it, is a file."""
        for path in (self.root, *self.root.parents):
            try:
                mode = path.stat().st_mode
            except (FileNotFoundError, NotADirectoryError):
                continue  # not there (yet), or under a file: look further up
            except OSError:
                return
            if not stat.S_ISDIR(mode):
                raise IndexNotAFolder(str(self.root), str(path))
            return

    def exists(self) -> bool:
        self.check_path()
        return self.current.exists()

    def current_name(self) -> str:
        """The name of the version `current` links to; "" when it is not a link."""
        try:
            return Path(os.readlink(self.current)).name
        except OSError:
            return ""

    def current_path(self) -> Path:
        self.check_path()
        if self.current.is_symlink():
            try:
                path = self.current.resolve()
            except (OSError, RuntimeError) as exc:  # a loop of links
                raise IndexCorrupt(str(self.root), f"{self.current} cannot be followed ({exc})") from exc
            if not path.is_dir():
                raise IndexCorrupt(str(self.root), f"{self.current} links to {os.readlink(self.current)}, which is "
                                                   "not there: the index folder is damaged")  # fmt: skip
            return path
        if self.current.exists():
            kind = "a folder" if self.current.is_dir() else "a file"
            raise IndexCorrupt(str(self.root), f"{self.current} is {kind}, not a link to a version: the index "
                                               "folder is damaged")  # fmt: skip
        raise IndexMissing(str(self.root))

    def load(self, previous: Snapshot | None = None) -> Snapshot:
        """Load the current version (sharing the segments `previous` holds already)."""
        return Snapshot(self.current_path(), previous)

    def manifest(self) -> Manifest | None:
        return Manifest.read(self.current_path()) if self.exists() else None

    @contextlib.contextmanager
    def writer_lock(self, who: str = "") -> Iterator[None]:
        """Hold the one-writer lock (across processes); raise ReindexRunning if another writer has it.

        Once it holds the lock, the writer removes the staging folders and temporary links that killed writers
        left behind (no other writer can be using them).
        """
        self.check_path()
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or None
                raise ReindexRunning(holder) from None
            try:
                self._locked = True
                os.ftruncate(fd, 0)
                os.pwrite(fd, (who or f"pid {os.getpid()}").encode(), 0)
                self._collect_temporary()
                yield
            finally:
                self._locked = False
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def repair(self) -> None:
        """Clear what stands where the layout needs a link or a folder (a rebuild, `reindex --force`, calls it)."""
        if self.current.exists() and not self.current.is_symlink():
            log.warning("removing %s: it is not a link to a version", self.current)
            if self.current.is_dir():
                shutil.rmtree(self.current)
            else:
                self.current.unlink()
        for folder in (self.versions, self.segments):
            if (folder.exists() or folder.is_symlink()) and not folder.is_dir():
                log.warning("removing %s: it is not a folder", folder)
                folder.unlink()

    def _folder(self, path: Path) -> Path:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except FileExistsError as exc:
            raise IndexCorrupt(str(self.root), f"{path} is a file, not a folder: the index folder is damaged") from exc
        return path

    def staging(self) -> Path:
        """Return a fresh folder to write a new version (and its new segments) in; removed if never published.

        It is `versions/.tmp-<name>`, renamed `versions/<name>` when published: its name is known while its
        manifest is written (version_name).
        """
        name = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]
        path = self._folder(self.versions) / f".tmp-{name}"
        path.mkdir()
        return path

    @staticmethod
    def version_name(staged: Path) -> str:
        """The name the staging folder `staged` is published under."""
        return staged.name.removeprefix(".tmp-")

    @staticmethod
    def new_segment_name() -> str:
        return "seg-" + time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]

    def publish(self, staged: Path) -> Path:
        """Make a fully written staging folder the current version, atomically.

        Its new segments (`staged/seg-*`) move to `segments/` first: until `current` changes, no version
        names them, and a crash leaves them for the next writer to delete. A failure (a full disk) before
        `current` changes takes back what was moved and renamed.
        """
        for f in staged.rglob("*"):
            if f.is_file():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        self._folder(self.segments)
        name = self.version_name(staged)
        final = self.versions / name
        link = self.root / f".current-{uuid.uuid4().hex[:8]}"
        moved: list[Path] = []
        published = False
        try:
            for seg in sorted(staged.glob("seg-*")):
                _fsync_dir(seg)
                os.rename(seg, self.segments / seg.name)
                moved.append(self.segments / seg.name)
            _fsync_dir(self.segments)
            os.rename(staged, final)
            _fsync_dir(self.versions)
            os.symlink(Path("versions") / name, link)
            os.replace(link, self.current)
            published = True
        finally:
            if not published:
                with contextlib.suppress(OSError):
                    link.unlink()
                shutil.rmtree(final, ignore_errors=True)
                for seg in moved:
                    shutil.rmtree(seg, ignore_errors=True)
        _fsync_dir(self.root)
        self._collect()
        return final

    def _collect(self) -> None:
        """Remove what no kept version needs.

        Kept: the KEEP_VERSIONS last published versions, found by following `previous` from `current` (a
        version renamed into place by a writer killed before it swapped `current` was never published, and
        takes no slot). Removed: every other version, the segments no kept version names, and the staging
        folders and temporary links of killed writers.
        """
        self._collect_temporary()
        kept: list[str] = []
        used: set[str] = set()
        name = self.current_name()
        while name and name not in kept and len(kept) < KEEP_VERSIONS:
            try:
                manifest = Manifest.read(self.versions / name)
                names = {s["name"] for s in manifest.segments}
            except (IndexCorrupt, KeyError, TypeError):
                if not kept:
                    return  # the current version cannot be read: leave everything as it is
                kept.append(name)
                break
            kept.append(name)
            used |= names
            name = manifest.previous
        if not kept:
            return
        for version in self.versions.iterdir():
            if not version.name.startswith(".") and version.name not in kept and version.is_dir():
                shutil.rmtree(version, ignore_errors=True)
        if self.segments.is_dir():
            for seg in self.segments.iterdir():
                if seg.name not in used:
                    shutil.rmtree(seg, ignore_errors=True)

    def _collect_temporary(self) -> None:
        """Remove staging folders and `.current-*` links: only while holding the writer lock, so none is in use."""
        if not self._locked:
            return
        for link in self.root.glob(".current-*"):
            if link.is_symlink() or link.is_file():
                with contextlib.suppress(OSError):
                    link.unlink()
        if self.versions.is_dir():
            for tmp in self.versions.glob(".tmp-*"):
                shutil.rmtree(tmp, ignore_errors=True)
