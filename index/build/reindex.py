"""The (re)index pipeline: plan what changed by content hash, embed only that, publish atomically.

A reindex starts from the previous version's state (index/build/state.py: article keys, content hashes, file
sizes and mtimes, kept in a StateCache by whoever reindexes again), skips files whose size and mtime are
unchanged without opening them, plans (index/build/plan.py), and writes one new segment holding the added and
changed articles (index/build/writer.py); the articles it replaces or removes are hidden in the new version.
Vectors of passages whose text is already indexed are copied, not embedded again. When segments pile up they
are merged, copying rows, vectors and terms (index/build/merge.py).

Every segment carried into the new version is checked first (IndexDir.check_segments); one that cannot be
read, or a version whose manifest or deleted.npy cannot, makes the reindex a rebuild from the articles (with a
warning), as `force` does: a rebuild reuses the vectors it can still read and needs nothing else of the old
index. A full disk raises DiskFull once what was staged is removed.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from index.build.merge import Merged, maybe_merge
from index.build.options import BuildOptions, Progress
from index.build.plan import Plan, check_removal, plan
from index.build.start import Start, find_start
from index.build.state import OldUnreadable, Published, StateCache, reading_old
from index.build.writer import SegmentBuilder, Space, bytes_for
from index.embedding import Embedder, identity_of
from index.errors import DiskFull, NewsdeskError
from index.files import dir_size, utcnow
from index.ingest.articles import scan_articles
from index.lang.analyzer import ANALYZER_VERSION
from index.records import Article, Failure, ReindexSummary
from index.store.faults import is_disk_full
from index.store.folder import IndexDir
from index.store.manifest import FORMAT_VERSION, Manifest, write_version
from index.store.segments import StoredArticle

log = logging.getLogger(__name__)


class Cancelled(NewsdeskError):
    def __init__(self) -> None:
        super().__init__("The reindex was cancelled; the previous index is still in use.")


@contextlib.contextmanager
def _disk_full_is_told(index_dir: IndexDir) -> Iterator[Space]:
    """Turn the ways a full disk shows up (is_disk_full) into DiskFull; what was staged is removed by then."""
    space = Space()
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
    cache: StateCache | None = None,
) -> ReindexSummary:
    """Read the articles under `folders` and bring the index in line with them.

    Files whose size and mtime match what the index recorded are not read again. With `force`, the index is
    rebuilt from the articles (reusing the vectors it can still read), whatever state it is in. `cache`: the
    state of this index folder that earlier reindexes kept (none: it is read from the index).
    """
    started = time.perf_counter()
    cache = cache if cache is not None else StateCache()

    def attempt(space: Space, rebuild: str | None) -> ReindexSummary:
        start = find_start(index_dir, embedder, prune=True, force=force, rebuild=rebuild, cache=cache)
        job = _Reindex(index_dir, embedder, options, start, prune=True, force=force, progress=progress,
                       cancel=cancel, started=started, space=space)  # fmt: skip
        known = start.state.known_files() if start.state is not None and job.same_layout else {}
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
    cache: StateCache | None = None,
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
    cache = cache if cache is not None else StateCache()

    def attempt(space: Space, rebuild: str | None) -> ReindexSummary:
        start = find_start(index_dir, embedder, prune=prune, force=force, rebuild=rebuild, cache=cache)
        job = _Reindex(index_dir, embedder, options, start, prune=prune, force=force, progress=progress,
                       cancel=cancel, started=started, space=space)  # fmt: skip
        return job.run(list(articles), list(failures), [], {})

    with _disk_full_is_told(index_dir) as space, index_dir.writer_lock(who):
        return _attempts(attempt, space)


def _attempts(attempt: Callable[[Space, str | None], ReindexSummary], space: Space) -> ReindexSummary:
    """Run `attempt`; when the previous version turns out unreadable half way, run it again as a rebuild."""
    try:
        return attempt(space, None)
    except OldUnreadable as exc:
        return attempt(space, str(exc))


# --- the reindex ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Written:
    """A staged version, fully written."""

    manifest: Manifest
    embedded: int  # passages embedded
    ids: dict[str, int]  # article key -> id, of the articles written
    merged: Merged  # its segments and hidden articles


class _Reindex:
    """One reindex over a known base: plan, guard, write a staged version, publish it, advance the state."""

    def __init__(self, index_dir: IndexDir, embedder: Embedder, options: BuildOptions, start: Start, *,
                 prune: bool, force: bool, progress: Progress | None, cancel: threading.Event | None,
                 started: float, space: Space):  # fmt: skip
        self.dir = index_dir
        self.embedder = embedder
        self.options = options
        self.start = start
        self.prune = prune
        self.force = force
        self.progress = progress
        self.cancel = cancel
        self.started = started
        self.space = space
        m = start.state.manifest if start.state else None
        self.same_layout = bool(
            m and not start.state.legacy and m.chunking == options.chunking() and m.analyzer == ANALYZER_VERSION
        )

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled()

    def run(self, articles: list[Article], failures: list[Failure], kept: list[str],
            stamps: dict[str, tuple]) -> ReindexSummary:  # fmt: skip
        state = self.start.state
        todo = plan(articles, kept, state.articles if state else None, stamps, same_layout=self.same_layout,
                    prune=self.prune)  # fmt: skip
        reloaded: list[Article] = []
        if todo.reload:
            with reading_old(state.path):
                reloaded = state.load_articles(todo.reload)
        self._guard(todo, len(state.articles) if state else 0)
        if self.same_layout and not todo.changes:
            return self._summary(failures, 0, 0, 0, todo.unchanged, 0, state.manifest.articles,
                                 state.manifest.passages)  # fmt: skip
        if state is not None:
            state.manifest.check_model(identity_of(self.embedder), self.embedder.dimension)
        staged = self.dir.staging()
        try:
            written = self._write(staged, todo, reloaded, stamps)
            self._check_cancel()
            final = self.dir.publish(staged)
        except BaseException:
            with contextlib.suppress(OSError):
                self.space.written = max(self.space.written, dir_size(staged))
            shutil.rmtree(staged, ignore_errors=True)
            raise
        if self.same_layout:
            new = {a.key: StoredArticle(written.ids[a.key], a.key, a.content_hash, a.lang, a.path, stamps.get(a.path))
                   for a in todo.to_write}  # fmt: skip
            state.advance(Published(
                final, written.manifest, self.dir.sources(final, written.manifest),
                todo.removed + tuple(a.key for a in todo.updated), new, written.merged.hidden,
                written.merged.stamps, written.merged.folded,
            ))  # fmt: skip
        m = written.manifest
        return self._summary(failures, len(todo.added), len(todo.updated) + len(reloaded), len(todo.removed),
                             todo.unchanged, written.embedded, m.articles, m.passages)  # fmt: skip

    def _guard(self, todo: Plan, indexed: int) -> None:
        """Raise RemovalGuard when too many indexed articles would go (unless forced)."""
        if self.force:
            return
        check_removal(len(todo.removed), indexed, self.options.max_removal_share)
        previous = self.start.previous
        if self.start.rebuilding and self.prune and previous and previous.articles:
            # A rebuild that was not asked for keeps the guard, counted on the previous version's manifest.
            check_removal(previous.articles - todo.present, previous.articles, self.options.max_removal_share)

    def _summary(self, failures, added, updated, removed, unchanged, embedded, n_articles,
                 n_passages) -> ReindexSummary:  # fmt: skip
        return ReindexSummary(
            added=added, updated=updated, removed=removed, unchanged=unchanged, failed=tuple(failures),
            passages_embedded=embedded, articles=n_articles, passages=n_passages,
            seconds=time.perf_counter() - self.started,
        )  # fmt: skip

    def _write(self, staged: Path, todo: Plan, reloaded: list[Article], stamps: dict) -> _Written:
        """Write the new version into `staged`: its new segment, merges, hidden ids, stamps and manifest."""
        keep = self.start.state if self.same_layout else None  # the version built upon
        now = utcnow()
        m = keep.manifest if keep else None
        checked = self.start.checked or {}
        segments = [dict(s, files=checked[s["name"]]) if s["name"] in checked else s
                    for s in m.segments] if m else []  # fmt: skip
        replaced = todo.removed + tuple(a.key for a in todo.updated) if keep else ()
        dropped = [keep.articles[k].id for k in replaced]
        hidden_rows = 0
        if m:
            with reading_old(keep.path):
                hidden_rows = m.hidden + keep.count_passages(dropped)
        hidden = (set(keep.hidden) if keep else set()) | set(dropped)
        to_add = list(todo.to_write) + reloaded
        gone = set(todo.removed)
        live_paths = {k.path for key, k in keep.articles.items() if key not in gone} if keep else set()
        live_paths |= {a.path for a in to_add}
        overlay = {p: s for p, s in {**(keep.stamps if keep else {}), **todo.refreshed}.items() if p in live_paths}
        next_article = m.next_article_id if m else 1
        next_passage = m.next_passage_id if m else 1
        embedded, ids = 0, {}
        if to_add:
            self.space.needed += bytes_for(to_add, self.embedder.dimension, self.options)
            builder = SegmentBuilder(self.embedder, self.options, self.start.reuse, self._check_cancel, self.progress)
            new = builder.write(self.dir.new_segment(staged), to_add, stamps, now, next_article, next_passage)
            segments.append(new.entry)
            embedded, ids, next_article, next_passage = new.embedded, new.ids, new.next_article, new.next_passage
        self._check_cancel()
        merged = maybe_merge(self.dir, staged, segments, hidden, hidden_rows, overlay, self.embedder.dimension,
                             self.options.ann_threshold, self.space)  # fmt: skip
        langs: dict[str, int] = dict(m.languages) if m else {}
        for k in replaced:
            langs[keep.articles[k].lang or "?"] -= 1
        for a in to_add:
            langs[a.lang or "?"] = langs.get(a.lang or "?", 0) + 1
        langs = {k: v for k, v in langs.items() if v > 0}
        total = sum(s["passages"] for s in merged.segments)
        largest = max(merged.segments, key=lambda s: s["passages"], default={"index_type": "flat"})
        manifest = Manifest(
            format=FORMAT_VERSION, model=self.embedder.name, dimension=self.embedder.dimension,
            embedder=identity_of(self.embedder), index_type=largest["index_type"], articles=sum(langs.values()),
            passages=total - merged.hidden_rows, languages=langs, chunking=self.options.chunking(),
            analyzer=ANALYZER_VERSION, created_at=m.created_at if m else now, updated_at=now,
            version=self.dir.version_name(staged), segments=tuple(merged.segments), hidden=merged.hidden_rows,
            next_article_id=next_article, next_passage_id=next_passage, previous=self.dir.current_name(),
        )  # fmt: skip
        write_version(staged, manifest, merged.hidden, merged.stamps)
        return _Written(manifest, embedded, ids, merged)
