"""The engine: a facade over one index folder: the version served, reindexing, and the answer pipeline."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.answer.config import SearchConfig
from index.answer.conversation import Turn
from index.answer.pipeline import Context, Pipeline
from index.build.reindex import BuildOptions, Progress, reindex_folders
from index.build.state import StateCache
from index.embedding import Embedder, identity_of
from index.feedback import FeedbackEffects
from index.lang import load_identifier
from index.lang.analyzer import analyze
from index.records import Answer, ArticleRef, Filters, Hit, IndexStats, ReindexSummary
from index.store.folder import IndexDir
from index.store.manifest import FORMAT_VERSION
from index.text.normalize import fold
from index.tuning import profile_for

if TYPE_CHECKING:
    from index.store.snapshot import Snapshot  # what IndexDir.load gives; the stages see it as a Store


class Engine:
    """Answers questions from an index folder; reindexes it; never touches Discord.

    Thread-safe for queries: `ask` and `search` may run in several worker threads while `reindex` runs in
    another; the serving snapshot is swapped in one assignment once a new version is published.
    """

    def __init__(
        self,
        index_dir: Path | str,
        embedder: Embedder,
        config: SearchConfig | None = None,
        build: BuildOptions | None = None,
        successor: Callable[[], Embedder] | None = None,
        pipeline: Pipeline | None = None,
    ):
        self.dir = IndexDir(index_dir)
        self.config = config or SearchConfig()
        self.build = build or BuildOptions()
        self.pipeline = pipeline or Pipeline()  # an evaluation baseline swaps one of its stages
        self.feedback: FeedbackEffects | None = None  # what readers' votes change; set by bot/compose.py
        self._use(embedder)
        # What a forced rebuild moves the index to, when it was not chosen by the operator: an index is served
        # with the model it was built with until `reindex --force` (see bot/compose.py).
        self._successor = successor
        self._snapshot: Snapshot | None = None
        self._load_lock = threading.Lock()
        self._built = StateCache()  # this folder's state after each reindex: the next one need not read it

    def _use(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.profile = self.config.tuned(profile_for(identity_of(embedder)))

    @property
    def upgrade(self) -> str | None:
        """The model a forced reindex would move this index to, when that is not the model it serves with."""
        if self._successor is None:
            return None
        nxt = self._successor()
        return nxt.name if identity_of(nxt) != identity_of(self.embedder) else None

    # --- index lifecycle ---------------------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot:
        """The version being served; picks up a version published by another process."""
        snap = self._snapshot
        if snap is not None:
            try:
                if self.dir.current.resolve() == snap.path:
                    return snap
            except OSError:
                return snap
        with self._load_lock:
            if self._snapshot is None or self.dir.current_path() != self._snapshot.path:
                snap = self.dir.load(self._snapshot)
                snap.manifest.check_model(identity_of(self.embedder))
                self._snapshot = snap
            return self._snapshot

    def warm_up(self) -> None:
        """Load what the first question would otherwise load: the model, the language identifier, the index.

        Some of it holds the GIL for most of a second; done before serving, no one waits for it later.
        """
        # Imports a first reindex would otherwise run in a worker thread, holding the GIL for up to half a
        # second each (trafilatura compiles large regexes): the event loop of the bot would stall meanwhile.
        import markdown_it  # noqa: F401
        import trafilatura  # noqa: F401
        import yaml  # noqa: F401

        load_identifier()
        analyze("warm up", "fr")
        analyze("warm up", "en")
        self.embedder.encode_queries(["warm up"])
        if self.has_index():
            _ = self.snapshot

    def has_index(self) -> bool:
        return self.dir.exists()

    def outdated(self) -> bool:
        """True when the index was written by an older Newsdesk: the next reindex updates it, reusing vectors."""
        manifest = self.dir.manifest() if self.dir.exists() else None
        return manifest is not None and manifest.format < FORMAT_VERSION

    def reindex(
        self,
        folders: Sequence[Path],
        *,
        force: bool = False,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
        who: str = "",
    ) -> ReindexSummary:
        embedder = self.embedder
        if force and self._successor is not None:
            embedder = self._successor()
        summary = reindex_folders(
            self.dir, folders, embedder, self.build, force=force, progress=progress, cancel=cancel, who=who,
            cache=self._built,
        )
        with self._load_lock:
            if embedder is not self.embedder:
                self._use(embedder)  # the new version was written by it: serve with it from now on
                self._snapshot = None
        self._refresh()
        return summary

    def _refresh(self) -> None:
        with self._load_lock:
            if self.dir.exists() and (self._snapshot is None or self.dir.current_path() != self._snapshot.path):
                self._snapshot = self.dir.load(self._snapshot)

    def stats(self) -> IndexStats:
        return replace(self.snapshot.stats(), upgrade=self.upgrade)

    def articles(self, query: str | None = None) -> list[ArticleRef]:
        """Indexed articles, newest first; `query` keeps those whose title or source contains it."""
        refs = list(self.snapshot.articles.values())
        if query:
            q = fold(query)
            refs = [r for r in refs if q in fold(r.title) or q in fold(r.source or "")]
        return sorted(refs, key=lambda r: (r.date or "", r.id), reverse=True)

    # --- answering (the stages: index/answer/) ---------------------------------------------------------------

    def search(self, query: str, k: int = 5, filters: Filters | None = None) -> list[Hit]:
        """Return the `k` best passages for `query` (a lookup: no quote selection, no abstention)."""
        return self.pipeline.search(self._context(), query, k, filters)

    def ask(self, question: str, k: int | None = None, filters: Filters | None = None, *,
            query_vector: np.ndarray | None = None, context: Sequence[Turn] = ()) -> Answer:  # fmt: skip
        """Answer `question` with up to `k` verified quotes, or abstain and list related articles.

        `query_vector` is the question's embedding when the caller keeps it (a follow's topic), so it is not
        encoded again. `Filters.exclude_articles` leaves articles out of retrieval (a followed story's known
        articles: index/stories/). `context` is the conversation so far, oldest turn first (`Turn.of(answer)`):
        a follow-up borrows from it and says so in `Answer.context_from`. Raises EmptyQuestion,
        QuestionTooLong, IndexMissing, ModelMismatch.
        """
        return self.pipeline.ask(self._context(), question, k, filters, query_vector=query_vector, turns=context)

    def _context(self) -> Context:
        return Context(store=lambda: self.snapshot, embedder=self.embedder, profile=self.profile, config=self.config,
                       feedback=self.feedback)  # fmt: skip
