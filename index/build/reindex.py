"""The (re)index pipeline: diff articles by content hash, embed only what changed, publish atomically.

A reindex reads the previous version's article list (key, content hash, file size and mtime), skips files
whose size and mtime are unchanged without opening them, and writes one new segment holding the added and
changed articles; the articles it replaces or removes are hidden in the new version (index/store/disk.py). Vectors
of passages whose text is already indexed are copied, not embedded again. When segments pile up they are
merged, copying rows, vectors and terms.

Every segment carried into the new version is checked first (store.check_segment); one that cannot be read,
or a version whose manifest or deleted.npy cannot, makes the reindex a rebuild from the articles (with a
warning), as `force` does: a rebuild reuses the vectors it can still read and needs nothing else of the old
index. A full disk raises DiskFull once what was staged is removed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from index.embedding import Embedder, identity_of
from index.errors import DiskFull, IndexCorrupt, ModelMismatch, NewsdeskError, RemovalGuard
from index.ingest.articles import DEFAULT_MAX_BYTES, KnownFile, content_hash, scan_articles, settled
from index.lang.analyzer import ANALYZER_VERSION, analyze
from index.records import Article, Failure, ReindexSummary
from index.store.disk import (
    DEFAULT_ANN_THRESHOLD,
    FORMAT_VERSION,
    MAX_HIDDEN_SHARE,
    MAX_SEGMENTS,
    UNREADABLE,
    IndexDir,
    Manifest,
    SegmentWriter,
    check_segment,
    dir_size,
    is_disk_full,
    open_ro,
    read_hidden,
    reconstruct,
    utcnow,
)
from index.text.chunking import Window, make_windows, whole_text_window

log = logging.getLogger(__name__)

# progress(stage, done, total): stage is "reading" (files) or "embedding" (articles).
Progress = Callable[[str, int, int], None]
# Index folder -> the state of the version this process published last: a process that reindexes again (the
# bot, a benchmark) starts from it instead of reading every article's key, hash and file stamp back.
_LAST: dict[str, _Old] = {}


class Cancelled(NewsdeskError):
    def __init__(self) -> None:
        super().__init__("The reindex was cancelled; the previous index is still in use.")


class _OldUnreadable(Exception):
    """The previous version's segments failed to read in the middle of a reindex: rebuild from the articles."""


# What reading a damaged segment raises in the middle of a reindex (a full disk is told apart: is_disk_full).
_READ_ERRORS = (sqlite3.DatabaseError, RuntimeError, OSError, ValueError, EOFError)


@contextlib.contextmanager
def _reading_old(where: Path) -> Iterator[None]:
    try:
        yield
    except _READ_ERRORS as exc:
        if is_disk_full(exc):
            raise
        raise _OldUnreadable(f"{where.name} cannot be read: {str(exc)[:200]}") from exc


@dataclass
class _Space:
    """What a reindex writes, to tell a full disk's size (DiskFull)."""

    needed: int = 0  # about how many bytes it writes (new segment, merges)
    written: int = 0  # what the staging folder held when it failed


@contextlib.contextmanager
def _disk_full_is_told(index_dir: IndexDir) -> Iterator[_Space]:
    """Turn the ways a full disk shows up (is_disk_full) into DiskFull; what was staged is removed by then."""
    space = _Space()
    try:
        yield space
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        free = None
        for folder in (index_dir.root, *index_dir.root.parents):
            with contextlib.suppress(OSError):
                free = shutil.disk_usage(folder).free
                break
        serving = index_dir.current.is_symlink() and index_dir.current.exists()
        raise DiskFull(str(index_dir.root), free, max(space.needed, space.written) or None, serving) from exc


def _bytes_for(articles: Sequence[Article], dimension: int, options: BuildOptions) -> int:
    """About how many bytes a segment of `articles` takes: text and terms in SQLite, vectors, postings."""
    text = sum(len(a.text.encode()) + len(a.title.encode()) for a in articles)
    words = sum(len(a.text.split()) for a in articles)
    passages = len(articles) + (0 if options.whole_articles else words // max(1, options.target_words))
    return 4 * text + passages * (4 * dimension + 256)


class _Reuse:
    """Vectors of passages already embedded, found by text hash in earlier segments (or a format-1 version).

    Reuse saves embedding and nothing more: a source that cannot be read, or holds vectors of another size, is
    left out with a log line, and its passages are embedded again.
    """

    def __init__(self, sources: Sequence[Path] = ()):
        self.sources = list(sources)
        self._skipped: set[int] = set()

    def _skip(self, i: int, exc: BaseException) -> None:
        if i not in self._skipped:
            log.warning("not reusing the vectors of %s (%s): embedding its passages again", self.sources[i].name,
                        str(exc)[:200])  # fmt: skip
            self._skipped.add(i)

    def lookup(self, hashes: Sequence[str]) -> dict[str, tuple[int, int]]:
        """Text hash -> (source index, passage id) of an indexed passage with that text, for those that exist."""
        out: dict[str, tuple[int, int]] = {}
        for i, src in enumerate(self.sources):
            if i in self._skipped:
                continue
            try:
                found = _rows_in(src, "SELECT text_hash, id FROM passages WHERE text_hash IN ({})", hashes)
            except UNREADABLE as exc:
                self._skip(i, exc)
                continue
            for h, pid in found:
                out.setdefault(h, (i, pid))
        return out

    def vectors(self, i: int, pids: Sequence[int], dimension: int) -> np.ndarray | None:
        """The vectors of passages `pids` of source `i`; None when they cannot be read."""
        import faiss

        try:
            index = faiss.read_index(str(self.sources[i] / "vectors.faiss"), faiss.IO_FLAG_MMAP)
            if index.d != dimension:
                raise ValueError(f"vectors of dimension {index.d}, not {dimension}")
            out = reconstruct(index, pids)
            if not np.isfinite(out).all():
                raise ValueError("vectors that are not numbers")
            return out
        except UNREADABLE as exc:
            self._skip(i, exc)
            return None


@dataclass(frozen=True)
class BuildOptions:
    target_words: int = 150
    max_words: int = 200
    overlap: int = 1
    whole_articles: bool = False  # one passage per article (evaluation sets), no re-chunking
    ann_threshold: int = DEFAULT_ANN_THRESHOLD
    max_removal_share: float = 0.5
    max_file_bytes: int = DEFAULT_MAX_BYTES

    def chunking(self) -> dict:
        if self.whole_articles:
            return {"whole_articles": True}
        return {"target_words": self.target_words, "max_words": self.max_words, "overlap": self.overlap}


def _windows(article: Article, options: BuildOptions) -> list[Window]:
    if options.whole_articles:
        return [whole_text_window(article.text)]
    return make_windows(article.text, options.target_words, options.max_words, options.overlap)


@dataclass(frozen=True)
class _Known:
    """An indexed article, as the writer sees it."""

    id: int
    content_hash: str
    lang: str | None
    path: str | None
    stamp: tuple | None  # (size, mtime_ns, when it was read) of its file


@dataclass
class _Old:
    """The version a reindex starts from."""

    path: Path
    manifest: Manifest
    sources: list[Path]  # folders with passages.sqlite + vectors.faiss: its segments (or a format-1 version)
    articles: dict[str, _Known] = field(default_factory=dict)  # live articles by key
    hidden: set[int] = field(default_factory=set)
    stamps: dict[str, list] = field(default_factory=dict)  # path -> [size, mtime_ns, read at], newer than segments
    legacy: bool = False  # format 1: one SQLite and one FAISS file per version; read to reuse vectors only
    by_path: dict[str, list[str]] = field(default_factory=dict)  # file -> keys of its articles
    _known: dict[str, KnownFile] | None = None

    @classmethod
    def read(cls, index_dir: IndexDir, path: Path, manifest: Manifest) -> _Old:
        legacy = manifest.format == 1
        if legacy:
            sources = [path]
        elif manifest.format == FORMAT_VERSION:
            sources = [index_dir.segments / s["name"] for s in manifest.segments]
        else:
            raise IndexCorrupt(str(path), f"format {manifest.format}, expected {FORMAT_VERSION}")
        old = cls(path, manifest, sources, legacy=legacy)
        old.hidden = {int(i) for i in read_hidden(path, manifest)}
        if (path / "stamps.json").exists():
            old.stamps = json.loads((path / "stamps.json").read_text())
        cols = "id, key, content_hash, lang, path" + ("" if legacy else ", file_size, file_mtime, file_seen")
        for src in sources:
            db = open_ro(src / "passages.sqlite")
            try:
                for row in db.execute(f"SELECT {cols} FROM articles"):
                    if row[0] in old.hidden:
                        continue
                    stamp = tuple(row[5:8]) if not legacy and row[5] is not None else None
                    old.articles[row[1]] = _Known(row[0], row[2], row[3], row[4], stamp)
                    if row[4] is not None:
                        old.by_path.setdefault(row[4], []).append(row[1])
            finally:
                db.close()
        return old

    def known_files(self) -> dict[str, KnownFile]:
        """Files whose recorded size and mtime can be trusted to mean "unchanged" (see articles.settled)."""
        if self._known is None:
            self._known = {p: e for p in self.by_path if (e := self._known_file(p)) is not None}
        return self._known

    def _known_file(self, path: str) -> KnownFile | None:
        entries = []
        for key in self.by_path.get(path, ()):
            stamp = self.stamps.get(path) or self.articles[key].stamp
            if stamp is None or not settled(stamp[1], stamp[2]):
                return None
            entries.append((stamp[0], stamp[1], key))
        if not entries or len({e[:2] for e in entries}) != 1:
            return None
        return KnownFile(entries[0][0], entries[0][1], tuple(e[2] for e in entries))

    def advance(self, path: Path, manifest: Manifest, sources: list[Path], gone: Sequence[str],
                new: dict[str, _Known], hidden: set[int], stamps: dict[str, list], folded: dict[str, list]) -> None:  # fmt: skip
        """Become the state of the version this writer just published (so the next reindex need not read it)."""
        touched = {self.articles[k].path for k in gone} | {k.path for k in new.values()}
        touched |= set(stamps) ^ set(self.stamps) | {p for p in stamps if stamps[p] != self.stamps.get(p)} | set(folded)
        for key in gone:
            p = self.articles.pop(key).path
            if p is not None and key in self.by_path.get(p, ()):
                self.by_path[p].remove(key)
                if not self.by_path[p]:
                    del self.by_path[p]
        for key, known in new.items():
            self.articles[key] = known
            if known.path is not None:
                self.by_path.setdefault(known.path, []).append(key)
        for p, stamp in folded.items():  # a full merge wrote these file stamps into the rows
            for key in self.by_path.get(p, ()):
                self.articles[key] = replace(self.articles[key], stamp=tuple(stamp))
        self.path, self.manifest, self.sources, self.hidden, self.stamps = path, manifest, sources, hidden, stamps
        if self._known is not None:
            for p in touched - {None}:
                entry = self._known_file(p)
                if entry is None:
                    self._known.pop(p, None)
                else:
                    self._known[p] = entry

    def load_articles(self, keys: Sequence[str]) -> list[Article]:
        """The indexed articles with these keys, as Articles (to cut and analyze them again)."""
        ids = [self.articles[k].id for k in keys]
        cols = "key, title, text, date, url, path, source, author, lang, content_hash"
        return [Article(*row) for src in self.sources
                for row in _rows_in(src, f"SELECT {cols} FROM articles WHERE id IN ({{}})", ids)]  # fmt: skip

    def count_passages(self, article_ids: Sequence[int]) -> int:
        return sum(_count_in(src, "SELECT COUNT(*) FROM passages WHERE article_id IN ({})", article_ids)
                   for src in self.sources)  # fmt: skip


def _remember(index_dir: IndexDir, state: _Old) -> _Old:
    """Keep `state` as the known state of this index folder (the last few folders only)."""
    key = str(index_dir.root.resolve())
    _LAST.pop(key, None)
    while len(_LAST) >= 4:
        _LAST.pop(next(iter(_LAST)))
    _LAST[key] = state
    return state


def _rows_in(src: Path, sql: str, values: Sequence) -> list[tuple]:
    out: list[tuple] = []
    values = list(values)
    if not values:
        return out
    db = open_ro(src / "passages.sqlite")
    try:
        for i in range(0, len(values), 500):
            part = values[i : i + 500]
            out += db.execute(sql.format(",".join("?" * len(part))), part).fetchall()
    finally:
        db.close()
    return out


def _count_in(src: Path, sql: str, values: Sequence) -> int:
    """Sum of a `SELECT COUNT(*) ... IN ({})` over `values`, asked in parts."""
    return sum(row[0] for row in _rows_in(src, sql, values))


def reindex_folders(
    index_dir: IndexDir,
    folders: Sequence[Path],
    embedder: Embedder,
    options: BuildOptions,
    *,
    force: bool = False,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    who: str = "",
) -> ReindexSummary:
    """Read the articles under `folders` and bring the index in line with them.

    Files whose size and mtime match what the index recorded are not read again. With `force`, the index is
    rebuilt from the articles (reusing the vectors it can still read), whatever state it is in.
    """
    started = time.perf_counter()

    def attempt(space: _Space, rebuild: str | None) -> ReindexSummary:
        job = _Reindex(index_dir, embedder, options, True, force, progress, cancel, started, space, rebuild)
        known = job.old.known_files() if job.old is not None and job.same_layout else {}
        scan = scan_articles(folders, options.max_file_bytes,
                             (lambda d, t: progress("reading", d, t)) if progress else None, known)  # fmt: skip
        return job.run(scan.articles, scan.failures, scan.kept, scan.stamps)

    with _disk_full_is_told(index_dir) as space, index_dir.writer_lock(who):
        return _attempts(attempt, space)


def reindex_articles(
    index_dir: IndexDir,
    articles: Sequence[Article],
    embedder: Embedder,
    options: BuildOptions,
    *,
    failures: Sequence[Failure] = (),
    prune: bool = True,
    force: bool = False,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    who: str = "",
) -> ReindexSummary:
    """Make the index hold exactly `articles` (or add/replace them when `prune` is False).

    Unchanged articles (same key, same content hash) are left alone; passages whose text is already in the
    index reuse its vector. Nothing is written when nothing changed. Raises RemovalGuard when more than
    `options.max_removal_share` of the indexed articles would go (unless `force`), ModelMismatch when the
    index was built with another model (unless `force`, which rebuilds), Cancelled when `cancel` is set.
    With `force` (and `prune`), the index is rebuilt from `articles`, reusing the vectors it can still read.
    Raises DiskFull when the disk fills up (the previous version is still current).
    """
    started = time.perf_counter()

    def attempt(space: _Space, rebuild: str | None) -> ReindexSummary:
        job = _Reindex(index_dir, embedder, options, prune, force, progress, cancel, started, space, rebuild)
        return job.run(list(articles), list(failures), [], {})

    with _disk_full_is_told(index_dir) as space, index_dir.writer_lock(who):
        return _attempts(attempt, space)


def _attempts(attempt: Callable[[_Space, str | None], ReindexSummary], space: _Space) -> ReindexSummary:
    """Run `attempt`; when the previous version turns out unreadable half way, run it again as a rebuild."""
    try:
        return attempt(space, None)
    except _OldUnreadable as exc:
        return attempt(space, str(exc))


class _Reindex:
    def __init__(self, index_dir, embedder, options, prune, force, progress, cancel, started,
                 space: _Space | None = None, rebuild: str | None = None):  # fmt: skip
        self.dir: IndexDir = index_dir
        self.embedder: Embedder = embedder
        self.options: BuildOptions = options
        self.prune = prune
        self.force = force
        self.progress = progress
        self.cancel = cancel
        self.started = started
        self.space = space or _Space()
        self.failures: list[Failure] = []
        self.rebuilding = False  # the previous version is not built upon (its vectors may still be reused)
        self.previous: Manifest | None = None  # its manifest, when readable: the removal guard of a rebuild
        self.reuse = _Reuse()
        self.checked: dict[str, dict] = {}  # segment -> its files, checked, where its entry lacks them
        self.old = self._old(rebuild)
        if self.old is not None:
            self.reuse = _Reuse(self.old.sources)
        m = self.old.manifest if self.old else None
        self.same_layout = bool(
            m and not self.old.legacy and m.chunking == options.chunking() and m.analyzer == ANALYZER_VERSION
        )

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled()

    def _old(self, rebuild: str | None) -> _Old | None:
        """The state of the current version to build upon; None for a new index or a rebuild.

        A rebuild (`force`, or a previous version that cannot be read) does not need the previous version:
        its vectors are reused where they can still be read (_Reuse). A plain reindex checks every segment it
        would carry into the new version, and rebuilds when one does not open or its files disagree.
        """
        if self.force and self.prune:
            self.dir.repair()
            return self._rebuild(None)
        if rebuild is not None:
            return self._rebuild(rebuild)
        if not self.dir.exists():
            return None
        path = self.dir.current_path()  # `current` not a link to a version: IndexCorrupt (--force repairs it)
        try:
            manifest = Manifest.read(path)
        except IndexCorrupt as exc:
            return self._rebuild(exc.reason)
        try:
            # The name is known without loading the model; the dimension is checked once there is work to do
            # (run), so a reindex that finds nothing changed does not load the model at all.
            manifest.check_model(identity_of(self.embedder), self.embedder.dimension if self.force else None)
        except ModelMismatch:
            if self.force:
                log.warning("rebuilding the index for model %s", self.embedder.name)
                return None
            raise
        if manifest.format not in (1, FORMAT_VERSION):
            raise IndexCorrupt(str(path), f"format {manifest.format}, expected {FORMAT_VERSION}")
        try:
            cached = _LAST.get(str(self.dir.root.resolve()))
            if cached is not None and cached.path == path and cached.manifest == manifest:
                old = cached  # this process published the current version: its state is known
            else:
                old = _Old.read(self.dir, path, manifest)
            if not old.legacy:  # a format-1 version is only read for its articles and vectors
                for src, entry in zip(old.sources, manifest.segments, strict=True):
                    files = check_segment(src, entry, manifest.dimension)
                    if entry.get("files") != files:
                        self.checked[entry["name"]] = files  # recorded in the next version's manifest
        except (*UNREADABLE, IndexCorrupt) as exc:
            self.previous = manifest
            return self._rebuild(str(exc)[:300])
        return _remember(self.dir, old)

    def _rebuild(self, reason: str | None) -> None:
        """Rebuild from the articles (`reason`: why the current version cannot be built upon; None: forced)."""
        if reason is not None and not self.prune and not self.force:
            # Adding articles cannot rebuild: the articles not given would be lost.
            raise IndexCorrupt(str(self.dir.root), reason)
        if reason is not None:
            log.warning("the index at %s cannot be built upon (%s): rebuilding it from the articles", self.dir.root,
                        reason)  # fmt: skip
        self.rebuilding = True
        self.reuse = _Reuse(self._reusable())
        with contextlib.suppress(OSError):
            _LAST.pop(str(self.dir.root.resolve()), None)
        return None

    def _reusable(self) -> list[Path]:
        """The folders of the current version whose vectors a rebuild may reuse: written by the same embedder."""
        try:
            path = self.dir.current_path()
            manifest = Manifest.read(path)
            manifest.check_model(identity_of(self.embedder), self.embedder.dimension)
            self.previous = self.previous or manifest
            if manifest.format == 1:
                return [path]
            return [self.dir.segments / s["name"] for s in manifest.segments]
        except ModelMismatch:
            log.warning("rebuilding the index for model %s", self.embedder.name)
        except (NewsdeskError, *UNREADABLE):
            pass
        return []

    def run(self, articles: list[Article], failures: list[Failure], kept: list[str],
            stamps: dict[str, tuple]) -> ReindexSummary:  # fmt: skip
        self.failures = failures
        old = self.old
        old_articles = old.articles if old else {}
        new_by_key = {a.key: a for a in articles}
        present = set(new_by_key) | set(kept)
        added = [a for k, a in new_by_key.items() if k not in old_articles]
        updated = [a for k, a in new_by_key.items() if k in old_articles and (
            old_articles[k].content_hash != a.content_hash or not self.same_layout)]  # fmt: skip
        unchanged = len(present) - len(added) - len(updated)
        removed_keys = [k for k in old_articles if k not in present] if self.prune else []
        if old is not None and not self.same_layout and not self.prune:
            # A new chunking or analyzer: the articles not given here are cut and analyzed again too.
            with _reading_old(old.path):
                updated += old.load_articles([k for k in old_articles if k not in new_by_key])

        if old_articles and removed_keys and not self.force:
            share = len(removed_keys) / len(old_articles)
            if share > self.options.max_removal_share:
                raise RemovalGuard(len(removed_keys), len(old_articles), self.options.max_removal_share)
        if self.rebuilding and self.prune and not self.force and self.previous and self.previous.articles:
            # A rebuild that was not asked for keeps the guard, counted on the previous version's manifest.
            total = self.previous.articles
            if (total - len(present)) / total > self.options.max_removal_share:
                raise RemovalGuard(total - len(present), total, self.options.max_removal_share)

        # Files read again although their articles did not change (touched, or read too soon after a change
        # the last time): record their size, mtime and read time, so they are skipped next time.
        to_write = {a.key for a in added + updated}
        refreshed = {}
        if old is not None and self.same_layout:
            refreshed = {a.path: list(stamps[a.path]) for k, a in new_by_key.items()
                         if k not in to_write and a.path in stamps and settled(*stamps[a.path][1:])}  # fmt: skip

        if old is not None and self.same_layout and not (added or updated or removed_keys or refreshed):
            return self._summary(0, 0, 0, unchanged, 0, old.manifest.articles, old.manifest.passages)

        if old is not None:
            old.manifest.check_model(identity_of(self.embedder), self.embedder.dimension)
        staged = self.dir.staging()
        try:
            embedded, manifest = self._write(staged, added, updated, removed_keys, stamps, refreshed)
            self._check_cancel()
            final = self.dir.publish(staged)
        except BaseException:
            with contextlib.suppress(OSError):
                self.space.written = max(self.space.written, dir_size(staged))
            shutil.rmtree(staged, ignore_errors=True)
            raise
        if old is not None and self.same_layout:
            hidden, overlay, ids, folded = self._published
            new = {a.key: _Known(ids[a.key], a.content_hash, a.lang, a.path, stamps.get(a.path))
                   for a in added + updated}  # fmt: skip
            sources = [self.dir.segments / s["name"] for s in manifest.segments]
            old.advance(final, manifest, sources, removed_keys + [a.key for a in updated], new, hidden, overlay,
                        folded)  # fmt: skip
            _remember(self.dir, old)
        return self._summary(len(added), len(updated), len(removed_keys), unchanged, embedded, manifest.articles,
                             manifest.passages)  # fmt: skip

    def _summary(self, added, updated, removed, unchanged, embedded, n_articles, n_passages) -> ReindexSummary:
        return ReindexSummary(
            added=added, updated=updated, removed=removed, unchanged=unchanged, failed=tuple(self.failures),
            passages_embedded=embedded, articles=n_articles, passages=n_passages,
            seconds=time.perf_counter() - self.started,
        )  # fmt: skip

    def _write(self, staged: Path, added, updated, removed_keys, stamps, refreshed) -> tuple[int, Manifest]:
        old = self.old
        keep_old = old is not None and self.same_layout
        now = utcnow()
        m = old.manifest if keep_old else None
        segments = [dict(s, files=self.checked[s["name"]]) if s["name"] in self.checked else s
                    for s in m.segments] if m else []  # fmt: skip
        hidden = set(old.hidden) if keep_old else set()
        dropped = [old.articles[k].id for k in removed_keys] + [old.articles[a.key].id for a in updated] if keep_old else []
        if m:
            with _reading_old(old.path):
                hidden_rows = m.hidden + old.count_passages(dropped)
        else:
            hidden_rows = 0
        hidden |= set(dropped)
        gone = set(removed_keys)
        live_paths = {k.path for key, k in old.articles.items() if key not in gone} if keep_old else set()
        live_paths |= {a.path for a in added + updated}
        overlay = {p: s for p, s in {**(old.stamps if keep_old else {}), **refreshed}.items() if p in live_paths}
        to_add = added + updated
        next_article = m.next_article_id if m else 1
        next_passage = m.next_passage_id if m else 1
        embedded = 0
        if to_add:
            self.space.needed += _bytes_for(to_add, self.embedder.dimension, self.options)
            folder = staged / self.dir.new_segment_name()
            entry, embedded, next_article, next_passage = self._segment(folder, to_add, stamps, now, next_article,
                                                                        next_passage)  # fmt: skip
            segments.append(entry)
        self._check_cancel()
        before = overlay
        segments, hidden, hidden_rows, overlay = self._maybe_merge(staged, segments, hidden, hidden_rows, overlay)
        folded = before if before and not overlay else {}  # written into the rows of a full merge
        self._published = (hidden, overlay, getattr(self, "_ids", {}), folded)
        langs: dict[str, int] = dict(m.languages) if m else {}
        for k in removed_keys + [a.key for a in updated] if keep_old else []:
            lang = old.articles[k].lang or "?"
            langs[lang] -= 1
        for a in to_add:
            langs[a.lang or "?"] = langs.get(a.lang or "?", 0) + 1
        langs = {k: v for k, v in langs.items() if v > 0}
        total = sum(s["passages"] for s in segments)
        largest = max(segments, key=lambda s: s["passages"], default={"index_type": "flat"})
        np.save(staged / "deleted.npy", np.array(sorted(hidden), dtype=np.int64))
        if overlay:
            (staged / "stamps.json").write_text(json.dumps(overlay))
        manifest = Manifest(
            format=FORMAT_VERSION, model=self.embedder.name, dimension=self.embedder.dimension, embedder=identity_of(self.embedder),
            index_type=largest["index_type"], articles=sum(langs.values()), passages=total - hidden_rows,
            languages=langs, chunking=self.options.chunking(), analyzer=ANALYZER_VERSION,
            created_at=m.created_at if m else now, updated_at=now, version=self.dir.version_name(staged),
            segments=tuple(segments), hidden=hidden_rows, next_article_id=next_article, next_passage_id=next_passage,
            previous=self.dir.current_name(),
        )  # fmt: skip
        manifest.write(staged)
        return embedded, manifest

    def _segment(self, folder: Path, to_add: list[Article], stamps, now: str, next_article: int,
                 next_passage: int) -> tuple[dict, int, int, int]:  # fmt: skip
        """Write the new segment: the added and changed articles; return its entry, passages embedded, ids."""
        writer = SegmentWriter(folder)
        self._ids: dict[str, int] = {}
        try:
            rows: list[tuple[int, str, str]] = []  # (passage id, text hash, text)
            per_article: list[int] = []
            for article in to_add:
                aid = next_article
                next_article += 1
                writer.add_article(aid, article, now, stamps.get(article.path))
                self._ids[article.key] = aid
                title_terms = analyze(article.title, article.lang)
                windows = _windows(article, self.options)
                for pos, w in enumerate(windows):
                    text = article.text[w.start : w.end]
                    h = content_hash(text)
                    writer.add_passage(next_passage, aid, pos, w.start, w.end, text, h, w.sentences, article.lang,
                                       title_terms + analyze(text, article.lang))  # fmt: skip
                    rows.append((next_passage, h, text))
                    next_passage += 1
                per_article.append(len(windows))
            vectors = np.zeros((len(rows), self.embedder.dimension), dtype=np.float32)
            todo = list(range(len(rows)))
            if self.reuse.sources:
                found = self.reuse.lookup(sorted({h for _, h, _ in rows}))
                by_source: dict[int, list[int]] = {}
                for j, (_, h, _) in enumerate(rows):
                    if h in found:
                        by_source.setdefault(found[h][0], []).append(j)
                todo = [j for j, (_, h, _) in enumerate(rows) if h not in found]
                for src, js in by_source.items():
                    got = self.reuse.vectors(src, [found[rows[j][1]][1] for j in js], self.embedder.dimension)
                    if got is None:
                        todo += js
                    else:
                        vectors[js] = got
                todo.sort()
            self._embed(vectors, todo, [t for _, _, t in rows], per_article)
            self._check_cancel()
            ids = np.array([r[0] for r in rows], dtype=np.int64)
            entry = writer.finish(ids, vectors, self.embedder.dimension, self.options.ann_threshold)
        except BaseException:
            writer.abort()
            raise
        return entry, len(todo), next_article, next_passage

    def _maybe_merge(self, staged: Path, segments: list[dict], hidden: set[int], hidden_rows: int,
                     overlay: dict) -> tuple[list[dict], set[int], int, dict]:  # fmt: skip
        """Merge segments when they pile up, when many rows are hidden, or to switch flat <-> IVF."""
        if len(segments) <= 1 and not hidden_rows:
            return segments, hidden, hidden_rows, overlay
        total = sum(s["passages"] for s in segments)
        live = total - hidden_rows
        largest = max(segments, key=lambda s: s["passages"])
        want_ann = live >= self.options.ann_threshold
        merge: list[dict] = []
        if hidden_rows > MAX_HIDDEN_SHARE * total or want_ann != (largest["index_type"] == "ivf"):
            merge = list(segments)
        elif len(segments) > MAX_SEGMENTS:
            small = [s for s in segments if s is not largest]
            merge = small if sum(s["passages"] for s in small) <= 0.2 * largest["passages"] else list(segments)
        if len(merge) < 2 and not (merge and hidden_rows):
            return segments, hidden, hidden_rows, overlay

        def where(segment: dict) -> Path:  # the new segment is still in the staging folder
            return staged / segment["name"] if (staged / segment["name"]).exists() else self.dir.segments / segment["name"]

        folder = staged / self.dir.new_segment_name()
        writer = SegmentWriter(folder)
        try:
            ids, vecs = [], []
            for s in merge:
                with _reading_old(where(s)):
                    self.space.needed += dir_size(where(s))
                    i, v = writer.copy_from(where(s), sorted(hidden), self.embedder.dimension)
                ids.append(i)
                vecs.append(v)
            for path, (size, mtime, seen) in overlay.items():
                writer.db.execute("UPDATE articles SET file_size = ?, file_mtime = ?, file_seen = ? WHERE path = ?",
                                  (size, mtime, seen, path))  # fmt: skip
            entry = writer.finish(np.concatenate(ids), np.vstack(vecs), self.embedder.dimension,
                                  self.options.ann_threshold)  # fmt: skip
        except BaseException:
            writer.abort()
            raise
        merged = {s["name"] for s in merge}
        # A full merge wrote the overlay's stamps into the rows; after a partial one, other rows still need it.
        writer_overlay = overlay if len(merge) < len(segments) else {}
        for s in merge:  # a merged new segment is never published
            if (staged / s["name"]).exists():
                shutil.rmtree(staged / s["name"])
        rest = [s for s in segments if s["name"] not in merged]
        log.info("merged %d segments into %s (%d passages)", len(merge), entry["name"], entry["passages"])
        # Hidden articles that lived in the merged segments are gone for good.
        hidden_left: set[int] = set()
        rows_left = 0
        for s in rest:
            with _reading_old(where(s)):
                hidden_left |= {r[0] for r in _rows_in(where(s), "SELECT id FROM articles WHERE id IN ({})",
                                                       sorted(hidden))}  # fmt: skip
        for s in rest:
            with _reading_old(where(s)):
                rows_left += _count_in(where(s), "SELECT COUNT(*) FROM passages WHERE article_id IN ({})",
                                       sorted(hidden_left))  # fmt: skip
        return [entry, *rest], hidden_left, rows_left, writer_overlay

    def _embed(self, vectors: np.ndarray, todo: list[int], texts: list[str], per_article: list[int]) -> None:
        """Embed rows `todo` in chunks, checking for cancellation and reporting articles done."""
        total_articles = len(per_article)
        bounds = np.cumsum(per_article)
        chunk = 64  # one model batch: a cancelled reindex stops within one batch
        if self.progress:
            self.progress("embedding", 0, total_articles)
        for i in range(0, len(todo), chunk):
            self._check_cancel()
            rows = todo[i : i + chunk]
            vectors[rows] = self.embedder.encode_documents([texts[r] for r in rows])
            if self.progress:
                self.progress("embedding", int(np.searchsorted(bounds, rows[-1] + 1, side="right")), total_articles)
        if self.progress:
            self.progress("embedding", total_articles, total_articles)
