"""What a reindex knows of the version it starts from, and the cache that spares reading it back."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from index.errors import IndexCorrupt
from index.ingest.articles import KnownFile, settled
from index.records import Article
from index.store.faults import FAILED_READ, is_disk_full
from index.store.folder import IndexDir
from index.store.manifest import FORMAT_VERSION, Manifest, read_hidden, read_stamps
from index.store.segments import SegmentFiles, StoredArticle


class OldUnreadable(Exception):
    """The previous version's segments failed to read in the middle of a reindex: rebuild from the articles."""


@contextlib.contextmanager
def reading_old(where: Path) -> Iterator[None]:
    """Turn a failed read of the previous version (`where`) into OldUnreadable; a full disk stays what it is."""
    try:
        yield
    except FAILED_READ as exc:
        if is_disk_full(exc):
            raise
        raise OldUnreadable(f"{where.name} cannot be read: {str(exc)[:200]}") from exc


@dataclass(frozen=True)
class Published:
    """What a writer published, for the state to become that version's."""

    path: Path
    manifest: Manifest
    sources: list[SegmentFiles]
    gone: Sequence[str]  # keys of the articles removed or replaced
    new: dict[str, StoredArticle]  # the articles written, by key
    hidden: set[int]
    stamps: dict[str, list]  # the version's stamps.json
    folded: dict[str, list]  # stamps a full merge wrote into the rows


@dataclass
class IndexState:
    """The version a reindex starts from: its live articles (no text), hidden ids and file stamps."""

    path: Path
    manifest: Manifest
    sources: list[SegmentFiles]  # its segments (or a format-1 version folder)
    articles: dict[str, StoredArticle] = field(default_factory=dict)  # live articles by key
    hidden: set[int] = field(default_factory=set)
    stamps: dict[str, list] = field(default_factory=dict)  # path -> [size, mtime_ns, read at], newer than segments
    legacy: bool = False  # format 1: one SQLite and one FAISS file per version; read to reuse vectors only
    by_path: dict[str, list[str]] = field(default_factory=dict)  # file -> keys of its articles
    _known: dict[str, KnownFile] | None = None

    @classmethod
    def read(cls, index_dir: IndexDir, path: Path, manifest: Manifest) -> IndexState:
        if manifest.format not in (1, FORMAT_VERSION):
            raise IndexCorrupt(str(path), f"format {manifest.format}, expected {FORMAT_VERSION}")
        state = cls(path, manifest, index_dir.sources(path, manifest), legacy=manifest.format == 1)
        state.hidden = {int(i) for i in read_hidden(path, manifest)}
        state.stamps = read_stamps(path)
        for src in state.sources:
            for known in src.articles(state.hidden):
                state.articles[known.key] = known
                if known.path is not None:
                    state.by_path.setdefault(known.path, []).append(known.key)
        return state

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

    def advance(self, done: Published) -> None:
        """Become the state of the version this writer just published (so the next reindex need not read it)."""
        touched = {self.articles[k].path for k in done.gone} | {k.path for k in done.new.values()}
        touched |= set(done.stamps) ^ set(self.stamps) | set(done.folded)
        touched |= {p for p in done.stamps if done.stamps[p] != self.stamps.get(p)}
        for key in done.gone:
            p = self.articles.pop(key).path
            if p is not None and key in self.by_path.get(p, ()):
                self.by_path[p].remove(key)
                if not self.by_path[p]:
                    del self.by_path[p]
        for key, known in done.new.items():
            self.articles[key] = known
            if known.path is not None:
                self.by_path.setdefault(known.path, []).append(key)
        for p, stamp in done.folded.items():  # a full merge wrote these file stamps into the rows
            for key in self.by_path.get(p, ()):
                self.articles[key] = replace(self.articles[key], stamp=tuple(stamp))
        self.path, self.manifest, self.sources = done.path, done.manifest, done.sources
        self.hidden, self.stamps = done.hidden, done.stamps
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
        return [a for src in self.sources for a in src.full_articles(ids)]

    def count_passages(self, article_ids: Sequence[int]) -> int:
        return sum(src.count_passages(article_ids) for src in self.sources)


class StateCache:
    """The state of the version last read or published through this cache (one index folder's).

    Whoever reindexes the same folder again and again (the engine of the bot, a benchmark) holds one and
    hands it to every reindex: the next one starts from it instead of reading every article's key, hash
    and file stamp back. A state is used only while its version is still the current one.
    """

    def __init__(self) -> None:
        self._state: IndexState | None = None

    def get(self, path: Path, manifest: Manifest) -> IndexState | None:
        """The state kept, when it is that of version `path` with this manifest."""
        state = self._state
        if state is not None and state.path == path and state.manifest == manifest:
            return state
        return None

    def keep(self, state: IndexState) -> None:
        self._state = state

    def forget(self) -> None:
        self._state = None
