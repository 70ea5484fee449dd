"""The on-disk index: immutable segments (SQLite passages, FAISS vectors, BM25 postings) and versions.

Layout of an index folder::

    index/
      current -> versions/20261126T101500-3f2a   (symlink, swapped atomically by rename)
      versions/<name>/manifest.json              format, model, counts, times, the segments it is made of
      versions/<name>/deleted.npy                ids of articles replaced or removed since their segment
      segments/<name>/passages.sqlite            articles and passages (text, offsets, hashes, BM25 terms)
      segments/<name>/vectors.faiss              FAISS index keyed by passage id (flat, or IVF when large)
      segments/<name>/lexical/                   BM25 postings (index/lexical.py), memory-mapped on load
      segments/<name>/rows.npy                   segment row -> passage id
      .lock                                      held by the one writer

A segment is written once and never changed. A reindex writes one new segment with the articles that were
added or changed, and a new version: the old version's segments, the new one, and the ids of the articles it
replaces or removes (hidden from then on). So one edited article costs its own passages, whatever the size
of the corpus. When segments pile up, or many rows are hidden, they are merged into one (no embedding: vectors
and terms are copied). Versions are published by renaming: a crash at any point leaves the previous version
loadable, and readers in other processes pick up the new one on reload. Segments no kept version names are
deleted by the next writer.
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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .errors import IndexCorrupt, IndexMissing, IndexOutdated, ModelMismatch, ReindexRunning
from .lexical import K1, B, Bm25, Postings, write_postings
from .models import Article, ArticleRef, IndexStats, Passage

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
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


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
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise IndexCorrupt(str(path), f"manifest.json is unreadable ({exc.__class__.__name__})") from exc

    def write(self, path: Path) -> None:
        data = dict(self.__dict__, segments=list(self.segments))
        (path / "manifest.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    def check_model(self, model: str, dimension: int | None = None) -> None:
        if self.model != model or (dimension is not None and dimension != self.dimension):
            raise ModelMismatch(self.model, self.dimension, model, dimension)


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
        import faiss

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
        faiss.write_index(index, str(self.folder / "vectors.faiss"))
        write_postings(self.folder / "lexical", terms)
        np.save(self.folder / "rows.npy", np.array(rows, dtype=np.int64))
        if kind == "ivf":
            log.info("built an IVF index over %d passages", len(rows))
        return {"name": self.folder.name, "passages": len(rows), "index_type": kind}

    def abort(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()


class Segment:
    """One segment, read-only: SQLite rows, memory-mapped vectors and postings."""

    def __init__(self, path: Path):
        self.path = path
        self.db = open_ro(path / "passages.sqlite")
        self.lock = threading.Lock()
        self.vectors = read_vectors(path / "vectors.faiss")
        self.postings = Postings(path / "lexical")
        self.rows = np.load(path / "rows.npy")
        # (id, article_id) comes from the covering index on article_id: no pass over the passage text.
        pairs = np.array(self.db.execute("SELECT id, article_id FROM passages ORDER BY id").fetchall(), dtype=np.int64)
        pairs = pairs.reshape(-1, 2)
        if not np.array_equal(pairs[:, 0], self.rows):
            raise ValueError(f"rows.npy of {path.name} does not match its passages")
        self.row_article = pairs[:, 1]
        self.article_ids = np.array([r[0] for r in self.db.execute("SELECT id FROM articles ORDER BY id")],
                                    dtype=np.int64)  # fmt: skip

    def has_article(self, article_id: int) -> bool:
        i = int(np.searchsorted(self.article_ids, article_id))
        return i < len(self.article_ids) and int(self.article_ids[i]) == article_id

    def query(self, sql: str, args: Sequence = ()) -> list[tuple]:
        with self.lock:
            return self.db.execute(sql, args).fetchall()

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()


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
            self.segments = [loaded.get(s["name"]) or Segment(root / s["name"]) for s in self.manifest.segments]
            hidden = np.load(path / "deleted.npy") if (path / "deleted.npy").exists() else np.zeros(0, np.int64)
            self.hidden_articles = frozenset(int(i) for i in hidden)
            self._arrange()
        except (sqlite3.Error, RuntimeError, OSError, ValueError, KeyError) as exc:
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

    def exists(self) -> bool:
        return self.current.exists()

    def current_path(self) -> Path:
        if not self.current.exists():
            raise IndexMissing(str(self.root))
        return self.current.resolve()

    def load(self, previous: Snapshot | None = None) -> Snapshot:
        """Load the current version (sharing the segments `previous` holds already)."""
        return Snapshot(self.current_path(), previous)

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
        """Return a fresh folder to write a new version (and its new segments) in; removed if never published."""
        self.versions.mkdir(parents=True, exist_ok=True)
        path = self.versions / f".tmp-{uuid.uuid4().hex[:12]}"
        path.mkdir()
        return path

    @staticmethod
    def new_segment_name() -> str:
        return "seg-" + time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]

    def publish(self, staged: Path) -> Path:
        """Make a fully written staging folder the current version, atomically.

        Its new segments (`staged/seg-*`) move to `segments/` first: until `current` changes, no version
        names them, and a crash leaves them for the next writer to delete.
        """
        for f in staged.rglob("*"):
            if f.is_file():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        self.segments.mkdir(parents=True, exist_ok=True)
        for seg in sorted(staged.glob("seg-*")):
            _fsync_dir(seg)
            os.rename(seg, self.segments / seg.name)
        _fsync_dir(self.segments)
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
        """Remove old versions beyond KEEP_VERSIONS, segments no kept version uses, abandoned staging folders."""
        done = sorted((p for p in self.versions.iterdir() if not p.name.startswith(".")), reverse=True)
        for old in done[KEEP_VERSIONS:]:
            if old != keep:
                shutil.rmtree(old, ignore_errors=True)
        used = set()
        for version in self.versions.iterdir():
            if version.name.startswith("."):
                continue
            try:
                used |= {s["name"] for s in Manifest.read(version).segments}
            except (IndexCorrupt, KeyError, TypeError):
                continue
        if self.segments.exists():
            for seg in self.segments.iterdir():
                if seg.name not in used:
                    shutil.rmtree(seg, ignore_errors=True)
        for tmp in self.versions.glob(".tmp-*"):
            if time.time() - tmp.stat().st_mtime > 60:
                shutil.rmtree(tmp, ignore_errors=True)

