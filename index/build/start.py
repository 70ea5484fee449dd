"""What a reindex starts from: the current version's state to build upon, or a rebuild and what it may reuse."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from index.build.state import IndexState, StateCache
from index.build.writer import Reuse
from index.embedding import Embedder, identity_of
from index.errors import IndexCorrupt, ModelMismatch, NewsdeskError
from index.store.faults import UNREADABLE
from index.store.folder import IndexDir
from index.store.manifest import FORMAT_VERSION, Manifest
from index.store.segments import SegmentFiles

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Start:
    """What a reindex starts from."""

    state: IndexState | None  # the current version's, to build upon; None for a new index or a rebuild
    reuse: Reuse  # where vectors of passages already embedded may be found
    rebuilding: bool = False  # the previous version is not built upon (its vectors may still be reused)
    previous: Manifest | None = None  # its manifest, when readable: the removal guard of a rebuild
    checked: dict[str, dict] | None = None  # segment -> its files, checked, where its entry lacks them


def find_start(index_dir: IndexDir, embedder: Embedder, *, prune: bool, force: bool, rebuild: str | None,
               cache: StateCache) -> Start:  # fmt: skip
    """The state of the current version to build upon, or a rebuild.

    A rebuild (`force`, or a previous version that cannot be read) does not need the previous version:
    its vectors are reused where they can still be read (Reuse). A plain reindex checks every segment it
    would carry into the new version, and rebuilds when one does not open or its files disagree.
    """

    def rebuilt(reason: str | None, previous: Manifest | None = None) -> Start:
        return _rebuild(index_dir, embedder, reason, previous, prune=prune, force=force, cache=cache)

    if force and prune:
        index_dir.repair()
        return rebuilt(None)
    if rebuild is not None:
        return rebuilt(rebuild)
    if not index_dir.exists():
        return Start(None, Reuse())
    path = index_dir.current_path()  # `current` not a link to a version: IndexCorrupt (--force repairs it)
    try:
        manifest = Manifest.read(path)
    except IndexCorrupt as exc:
        return rebuilt(exc.reason)
    try:
        # The name is known without loading the model; the dimension is checked once there is work to do
        # (run), so a reindex that finds nothing changed does not load the model at all.
        manifest.check_model(identity_of(embedder), embedder.dimension if force else None)
    except ModelMismatch:
        if force:
            log.warning("rebuilding the index for model %s", embedder.name)
            return Start(None, Reuse())
        raise
    if manifest.format not in (1, FORMAT_VERSION):
        raise IndexCorrupt(str(path), f"format {manifest.format}, expected {FORMAT_VERSION}")
    try:
        # A state the cache kept for this very version: this process published it, its state is known.
        state = cache.get(path, manifest) or IndexState.read(index_dir, path, manifest)
        checked = {} if state.legacy else index_dir.check_segments(manifest)  # format 1: only read
    except (*UNREADABLE, IndexCorrupt) as exc:
        return rebuilt(str(exc)[:300], manifest)
    cache.keep(state)
    return Start(state, Reuse(state.sources), checked=checked)


def _rebuild(index_dir: IndexDir, embedder: Embedder, reason: str | None, previous: Manifest | None, *,
             prune: bool, force: bool, cache: StateCache) -> Start:  # fmt: skip
    """Rebuild from the articles (`reason`: why the current version cannot be built upon; None: forced)."""
    if reason is not None and not prune and not force:
        # Adding articles cannot rebuild: the articles not given would be lost.
        raise IndexCorrupt(str(index_dir.root), reason)
    if reason is not None:
        log.warning("the index at %s cannot be built upon (%s): rebuilding it from the articles", index_dir.root,
                    reason)  # fmt: skip
    cache.forget()
    sources, previous = _reusable(index_dir, embedder, previous)
    return Start(None, Reuse(sources), rebuilding=True, previous=previous)


def _reusable(index_dir: IndexDir, embedder: Embedder,
              previous: Manifest | None) -> tuple[list[SegmentFiles], Manifest | None]:  # fmt: skip
    """The folders of the current version whose vectors a rebuild may reuse (same embedder), its manifest."""
    try:
        path = index_dir.current_path()
        manifest = Manifest.read(path)
        manifest.check_model(identity_of(embedder), embedder.dimension)
        previous = previous or manifest
        return index_dir.sources(path, manifest), previous
    except ModelMismatch:
        log.warning("rebuilding the index for model %s", embedder.name)
    except (NewsdeskError, *UNREADABLE):
        pass
    return [], previous
