"""The on-disk index: FAISS vectors, a SQLite passage table, a BM25 index and a manifest, in one folder.

Layout of an index folder::

    index/
      current -> versions/20261126T101500-3f2a   (symlink, swapped atomically by rename)
      versions/<name>/manifest.json              format, model, dimension, counts, times
      versions/<name>/passages.sqlite            articles and passages (text, offsets, hashes, BM25 terms)
      versions/<name>/vectors.faiss              FAISS index keyed by passage id
      versions/<name>/bm25/                      bm25s arrays (memory-mapped on load)
      versions/<name>/rows.npy                   BM25 row -> passage id
      .lock                                      held by the one writer

A new version is written in full beside the old one, then `current` is replaced by a rename: a crash at any
point leaves the previous version loadable, and readers in other processes pick up the new one on reload.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import math
import os
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

import numpy as np

from .errors import IndexCorrupt, IndexMissing, ModelMismatch, ReindexRunning
from .models import Article, ArticleRef, IndexStats, Passage

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
DEFAULT_ANN_THRESHOLD = 50_000
KEEP_VERSIONS = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    date TEXT, url TEXT, path TEXT, source TEXT, author TEXT, lang TEXT,
    content_hash TEXT NOT NULL,
    indexed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
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


# --- FAISS -----------------------------------------------------------------------------------------------


def new_faiss_index(dimension: int, expected: int, ann_threshold: int, train: np.ndarray | None = None):
    """Return an empty FAISS index for about `expected` vectors, keyed by our own int64 ids.

    Below `ann_threshold` vectors: exact inner product (IndexIDMap2 over IndexFlatIP). From there on: IVF-Flat
    with about 2*sqrt(n) lists, trained on the vectors at hand, and a hash-table direct map so vectors can be
    removed and reconstructed by id (incremental reindex) without rebuilding.
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
        lists = faiss.downcast_InvertedLists(ivf.invlists)
        if hasattr(lists, "prefetch_nthread"):
            lists.prefetch_nthread = 0
    return index


def ivf_nprobe(nlist: int) -> int:
    return min(nlist, max(16, nlist // 12))


def faiss_type(index) -> str:
    import faiss

    return "ivf" if isinstance(faiss.downcast_index(index), faiss.IndexIVF) else "flat"


def reconstruct(index, ids: Iterable[int]) -> np.ndarray:
    ids = list(ids)
    if not ids:
        return np.zeros((0, index.d), dtype=np.float32)
    return np.vstack([index.reconstruct(int(i)) for i in ids]).astype(np.float32)


# --- Manifest --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    format: int
    model: str
    dimension: int
    index_type: str
    articles: int
    passages: int
    languages: dict
    chunking: dict
    analyzer: int
    created_at: str
    updated_at: str
    version: str

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            data = json.loads((path / "manifest.json").read_text())
            return cls(**{k: data[k] for k in cls.__dataclass_fields__})
        except FileNotFoundError as exc:
            raise IndexCorrupt(str(path), "manifest.json is missing") from exc
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise IndexCorrupt(str(path), f"manifest.json is unreadable ({exc.__class__.__name__})") from exc

    def write(self, path: Path) -> None:
        (path / "manifest.json").write_text(json.dumps(self.__dict__, indent=2, ensure_ascii=False) + "\n")

    def check_model(self, model: str, dimension: int | None = None) -> None:
        if self.model != model or (dimension is not None and dimension != self.dimension):
            raise ModelMismatch(self.model, self.dimension, model, dimension)


# --- The serving snapshot ---------------------------------------------------------------------------------


_ARTICLE_COLUMNS = "id, title, date, url, path, source, lang"


def _article_ref(r: tuple) -> ArticleRef:
    return ArticleRef(id=r[0], title=r[1], date=r[2], url=r[3], path=r[4], source=r[5], lang=r[6])


class ArticleTable(Mapping):
    """Article metadata by id, read-only: each id is read from SQLite the first time it is asked for.

    Iterating (values(), items(), listing, filters, stats) reads them all, once. A question only needs the
    few articles of its candidates, so a large index loads in a fraction of the time and memory it would take
    to build every ArticleRef up front.
    """

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock, count: int):
        self._db = db
        self._lock = lock
        self._count = count
        self._refs: dict[int, ArticleRef] = {}
        self._complete = False

    def __getitem__(self, article_id) -> ArticleRef:
        ref = self._refs.get(article_id)
        if ref is not None:
            return ref
        if self._complete:
            raise KeyError(article_id)
        with self._lock:
            row = self._db.execute(f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = ?", (int(article_id),)).fetchone()
        if row is None:
            raise KeyError(article_id)
        ref = self._refs[row[0]] = _article_ref(row)
        return ref

    def __len__(self) -> int:
        return self._count

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
                rows = self._db.execute(f"SELECT {_ARTICLE_COLUMNS} FROM articles ORDER BY id").fetchall()
            known = self._refs
            self._refs = {r[0]: known.get(r[0]) or _article_ref(r) for r in rows}
            self._complete = True
        return self._refs


class Snapshot:
    """One loaded, read-only version of the index: what queries are answered from.

    What a query needs per passage row (article id) is held in numpy arrays; article metadata is read on
    demand (ArticleTable); passage and article text stay in SQLite. The FAISS file is memory-mapped where
    FAISS allows it (IVF inverted lists, flat codes), so processes serving the same version share its pages.
    """

    def __init__(self, path: Path):
        import bm25s
        import faiss

        self.path = path
        self.manifest = Manifest.read(path)
        if self.manifest.format != FORMAT_VERSION:
            raise IndexCorrupt(str(path), f"format {self.manifest.format}, expected {FORMAT_VERSION}")
        try:
            self.db = sqlite3.connect(f"file:{path / 'passages.sqlite'}?mode=ro", uri=True, check_same_thread=False)
            self._db_lock = threading.Lock()
            self.vectors = read_vectors(path / "vectors.faiss")
            ivf = faiss.try_extract_index_ivf(self.vectors) if self.manifest.index_type == "ivf" else None
            if ivf is not None:
                ivf.nprobe = ivf_nprobe(ivf.nlist)
            self.rows = np.load(path / "rows.npy")
            self.bm25 = bm25s.BM25.load(str(path / "bm25"), mmap=True, show_progress=False) if len(self.rows) else None
            self._load_tables()
        except (sqlite3.Error, RuntimeError, OSError, ValueError) as exc:
            raise IndexCorrupt(str(path), str(exc)[:200]) from exc

    def _load_tables(self) -> None:
        count = self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        self.articles: Mapping[int, ArticleRef] = ArticleTable(self.db, self._db_lock, count)
        # (id, article_id) comes from the covering index on article_id: no pass over the passage text.
        pairs = np.array(self.db.execute("SELECT id, article_id FROM passages").fetchall(), dtype=np.int64)
        pairs = pairs.reshape(-1, 2)[np.argsort(pairs.reshape(-1, 2)[:, 0], kind="stable")]
        ids = pairs[:, 0]
        where = np.searchsorted(ids, self.rows)
        if len(self.rows) and (where.max() >= len(ids) or not np.array_equal(ids[where], self.rows)):
            raise ValueError("rows.npy names passages that are not in passages.sqlite")
        self.row_article = pairs[where, 1] if len(self.rows) else np.zeros(0, dtype=np.int64)
        self.row_of = dict(zip(self.rows.tolist(), range(len(self.rows)), strict=True))

    @cached_property
    def _languages(self) -> tuple[list[str], np.ndarray]:
        with self._db_lock:
            pid_lang = {r[0]: r[1] or "" for r in self.db.execute("SELECT id, lang FROM passages")}
        langs = sorted({*pid_lang.values()})
        code = {lang: i for i, lang in enumerate(langs)}
        return langs, np.array([code[pid_lang[int(p)]] for p in self.rows], dtype=np.int16)

    @property
    def lang_codes(self) -> list[str]:
        """Languages of the passages, sorted; row_lang holds indexes into it (read on first use)."""
        return self._languages[0]

    @property
    def row_lang(self) -> np.ndarray:
        return self._languages[1]

    @property
    def size(self) -> int:
        return len(self.rows)

    def passages(self, ids: Iterable[int]) -> dict[int, Passage]:
        ids = [int(i) for i in ids]
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        with self._db_lock:
            rows = self.db.execute(
                f"SELECT id, article_id, position, start, end, text, sentences, lang FROM passages WHERE id IN ({marks})",
                ids,
            ).fetchall()
        return {
            r[0]: Passage(
                id=r[0], article_id=r[1], position=r[2], start=r[3], end=r[4], text=r[5],
                sentences=tuple(tuple(s) for s in json.loads(r[6])), lang=r[7],
            )
            for r in rows
        }  # fmt: skip

    def article_text(self, article_id: int) -> str:
        with self._db_lock:
            row = self.db.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else ""

    def stats(self) -> IndexStats:
        langs: dict[str, int] = {}
        for ref in self.articles.values():
            langs[ref.lang or "?"] = langs.get(ref.lang or "?", 0) + 1
        dates = [a.date for a in self.articles.values() if a.date]
        return IndexStats(
            articles=len(self.articles),
            passages=self.size,
            languages=dict(sorted(langs.items(), key=lambda kv: -kv[1])),
            model=self.manifest.model,
            dimension=self.manifest.dimension,
            index_type=self.manifest.index_type,
            last_reindex=self.manifest.updated_at,
            size_bytes=dir_size(self.path),
            newest=max(dates) if dates else None,
        )

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()


# --- The index folder -------------------------------------------------------------------------------------


class IndexDir:
    """An index folder: which version is current, atomic publication of a new one, the writer's lock."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.versions = self.root / "versions"
        self.current = self.root / "current"

    def exists(self) -> bool:
        return self.current.exists()

    def current_path(self) -> Path:
        if not self.current.exists():
            raise IndexMissing(str(self.root))
        return self.current.resolve()

    def load(self) -> Snapshot:
        return Snapshot(self.current_path())

    def manifest(self) -> Manifest | None:
        return Manifest.read(self.current_path()) if self.exists() else None

    @contextlib.contextmanager
    def writer_lock(self, who: str = "") -> Iterator[None]:
        """Hold the one-writer lock (across processes); raise ReindexRunning if another writer has it."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or None
                raise ReindexRunning(holder) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, (who or f"pid {os.getpid()}").encode(), 0)
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def staging(self) -> Path:
        """Return a fresh folder to write a new version in (removed again if never published)."""
        self.versions.mkdir(parents=True, exist_ok=True)
        path = self.versions / f".tmp-{uuid.uuid4().hex[:12]}"
        path.mkdir()
        return path

    def publish(self, staged: Path) -> Path:
        """Make a fully written staging folder the current version, atomically."""
        for f in staged.rglob("*"):
            if f.is_file():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        name = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]
        final = self.versions / name
        os.rename(staged, final)
        _fsync_dir(self.versions)
        link = self.root / f".current-{uuid.uuid4().hex[:8]}"
        os.symlink(Path("versions") / name, link)
        os.replace(link, self.current)
        _fsync_dir(self.root)
        self._collect(keep=final)
        return final

    def _collect(self, keep: Path) -> None:
        """Remove old versions beyond KEEP_VERSIONS and abandoned staging folders (after a crash)."""
        done = sorted((p for p in self.versions.iterdir() if not p.name.startswith(".")), reverse=True)
        for old in done[KEEP_VERSIONS:]:
            if old != keep:
                shutil.rmtree(old, ignore_errors=True)
        for tmp in self.versions.glob(".tmp-*"):
            if time.time() - tmp.stat().st_mtime > 60:
                shutil.rmtree(tmp, ignore_errors=True)


def open_writable_db(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA journal_mode = OFF")  # the whole file is staged and published by rename
    db.execute("PRAGMA synchronous = OFF")
    db.executescript(SCHEMA)
    return db


def article_row(article: Article, now: str) -> tuple:
    return (
        article.key, article.title, article.text, article.date, article.url, article.path, article.source,
        article.author, article.lang, article.content_hash, now,
    )  # fmt: skip
