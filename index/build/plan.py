"""What a reindex has to do: the articles added, updated, removed and unchanged, from what was scanned and
what the index holds. Pure: no disk, no clock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from index.errors import RemovalGuard
from index.ingest.articles import settled
from index.records import Article
from index.store.segments import StoredArticle


@dataclass(frozen=True)
class Plan:
    added: tuple[Article, ...] = ()
    updated: tuple[Article, ...] = ()  # indexed under the same key, with other content (or to be cut again)
    removed: tuple[str, ...] = ()  # keys of indexed articles that are gone
    unchanged: int = 0
    present: int = 0  # articles there are: those read and those of files skipped as unchanged
    # Keys of indexed articles that were not given but must be cut and analyzed again (a new chunking or
    # analyzer while adding articles): the writer reads them back from the index.
    reload: tuple[str, ...] = ()
    # Files read again although their articles did not change (touched, or read too soon after a change
    # the last time): path -> [size, mtime_ns, read at], recorded so they are skipped next time.
    refreshed: dict[str, list] = field(default_factory=dict)

    @property
    def to_write(self) -> tuple[Article, ...]:
        return self.added + self.updated

    @property
    def changes(self) -> bool:
        """Whether a new version is needed, when building upon the current one."""
        return bool(self.added or self.updated or self.removed or self.refreshed)


def plan(
    articles: Sequence[Article],
    kept: Sequence[str],
    indexed: Mapping[str, StoredArticle] | None,
    stamps: Mapping[str, Sequence],
    *,
    same_layout: bool,
    prune: bool,
) -> Plan:
    """Compare the articles read (`articles`; `kept`: keys of files skipped as unchanged) with `indexed`.

    `indexed` is None when nothing is built upon (a new index, a rebuild); `same_layout` says its passages were
    cut and analyzed as they would be now (otherwise every article given is updated). `prune` removes the
    indexed articles that were not found. `stamps`: (size, mtime_ns, read at) of every file read.
    """
    old = indexed or {}
    new_by_key = {a.key: a for a in articles}
    present = set(new_by_key) | set(kept)
    added = tuple(a for k, a in new_by_key.items() if k not in old)
    updated = tuple(a for k, a in new_by_key.items()
                    if k in old and (old[k].content_hash != a.content_hash or not same_layout))  # fmt: skip
    removed = tuple(k for k in old if k not in present) if prune else ()
    reload = ()
    if indexed is not None and not same_layout and not prune:
        reload = tuple(k for k in old if k not in new_by_key)
    refreshed = {}
    if same_layout:
        written = {a.key for a in added + updated}
        refreshed = {a.path: list(stamps[a.path]) for k, a in new_by_key.items()
                     if k not in written and a.path in stamps and settled(*stamps[a.path][1:])}  # fmt: skip
    return Plan(added, updated, removed, len(present) - len(added) - len(updated), len(present), reload, refreshed)


def check_removal(removing: int, indexed: int, max_share: float) -> None:
    """Raise RemovalGuard when removing `removing` of `indexed` articles is more than `max_share` of them."""
    if removing > 0 and indexed and removing / indexed > max_share:
        raise RemovalGuard(removing, indexed, max_share)
