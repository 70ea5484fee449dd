"""An index folder: which version is current, atomic publication of a new one, the writer's lock, collection.

Layout of an index folder::

    index/
      current -> versions/20261126T101500-3f2a   (symlink, swapped atomically by rename)
      versions/<name>/                           a version's own files (index/store/manifest.py)
      segments/<name>/                           one segment's files (index/store/segments.py)
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
import fcntl
import logging
import os
import shutil
import stat
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from index.errors import IndexCorrupt, IndexMissing, IndexNotAFolder, ReindexRunning
from index.files import fsync_dir
from index.store.manifest import Manifest
from index.store.segments import SegmentFiles, check_segment
from index.store.snapshot import Snapshot

log = logging.getLogger(__name__)

KEEP_VERSIONS = 2


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
    def new_segment(staged: Path) -> Path:
        """A fresh name for a segment written in the staging folder `staged` (moved to segments/ by publish)."""
        return staged / ("seg-" + time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6])

    def segment_folder(self, name: str, staged: Path | None = None) -> Path:
        """The folder of segment `name`: in `staged` while it is being written there, else under segments/."""
        if staged is not None and (staged / name).exists():
            return staged / name
        return self.segments / name

    def sources(self, path: Path, manifest: Manifest) -> list[SegmentFiles]:
        """The folders of version `path` that hold passages and vectors: its segments (or itself, format 1)."""
        if manifest.format == 1:
            return [SegmentFiles(path, legacy=True)]
        return [SegmentFiles(self.segments / s["name"]) for s in manifest.segments]

    def check_segments(self, manifest: Manifest) -> dict[str, dict[str, list[int]]]:
        """Check every segment `manifest` names (check_segment); return the file records its entries lack.

        Raises what reading a damaged segment raises (UNREADABLE).
        """
        checked = {}
        for entry in manifest.segments:
            files = check_segment(self.segments / entry["name"], entry, manifest.dimension)
            if entry.get("files") != files:
                checked[entry["name"]] = files  # recorded in the next version's manifest
        return checked

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
                fsync_dir(seg)
                os.rename(seg, self.segments / seg.name)
                moved.append(self.segments / seg.name)
            fsync_dir(self.segments)
            os.rename(staged, final)
            fsync_dir(self.versions)
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
        fsync_dir(self.root)
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
