"""The one place CPU work leaves the event loop: the worker threads, `offload`, and the one reindex at a time."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.settings import Settings
from index.engine import Engine
from index.records import ReindexSummary
from index.sources.feeds import FetchPolicy, refresh_feeds

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class ReindexJob:
    """The one reindex that may run at a time: who started it, its progress, how to cancel it."""

    who: str
    cancel: threading.Event = field(default_factory=threading.Event)
    stage: str = "reading"
    done: int = 0
    total: int = 0
    started: float = field(default_factory=time.monotonic)
    task: asyncio.Task | None = None

    def progress(self, stage: str, done: int, total: int) -> None:  # called from the worker thread
        self.stage, self.done, self.total = stage, done, total


class Jobs:
    """Worker threads for questions and for the reindex, and the slot of the one reindex that may run."""

    def __init__(self) -> None:
        # Few worker threads: each holds the GIL in slices while it tokenizes or scores, and the event loop
        # thread competes with all of them. Two for questions, one for the reindex, so neither waits for the other.
        self._query_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="newsdesk-query")
        self._write_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsdesk-reindex")
        self.current: ReindexJob | None = None

    async def offload(self, fn: Callable[..., T], /, *args: Any, writer: bool = False, **kwargs: Any) -> T:
        """Run CPU work (embedding, search, reindex) in a worker thread, never on the event loop."""
        pool = self._write_pool if writer else self._query_pool
        return await asyncio.get_running_loop().run_in_executor(pool, functools.partial(fn, *args, **kwargs))

    def claim(self, who: str) -> ReindexJob | None:
        """Take the reindex slot for `who`; None when a reindex already holds it."""
        if self.current is not None:
            return None
        self.current = ReindexJob(who=who)
        return self.current

    def release(self) -> None:
        self.current = None

    async def cancel_reindex(self) -> None:
        """Cancel the running reindex (its staged version is removed) and give it a while to stop."""
        job = self.current
        if job is None:
            return
        log.info("cancelling the running reindex (started by %s)", job.who)
        job.cancel.set()
        if job.task is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(job.task), timeout=10)

    def shutdown(self) -> None:
        """Stop the worker threads; queued work is dropped (the bot is closing)."""
        self._query_pool.shutdown(wait=False, cancel_futures=True)
        self._write_pool.shutdown(wait=False, cancel_futures=True)


def reindex_job(engine: Engine, settings: Settings, job: ReindexJob, force: bool = False) -> ReindexSummary:
    """The whole reindex, in a worker thread: pull the feeds into the first folder, then read the folders."""
    if settings.feeds:
        policy = FetchPolicy(allow_hosts=tuple(settings.allow_hosts))
        for st in refresh_feeds(settings.feeds, settings.articles_dir[0], policy):
            log.info("feed %s: %s%s", st.url, st.status, f" ({st.error})" if st.error else "")
    return engine.reindex(settings.articles_dir, force=force, progress=job.progress, cancel=job.cancel, who=job.who)
