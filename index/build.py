"""The (re)index pipeline: diff articles by content hash, embed only what changed, publish atomically."""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .analyzer import ANALYZER_VERSION, analyze
from .articles import DEFAULT_MAX_BYTES, content_hash, load_articles
from .chunking import Window, make_windows, whole_text_window
from .embedding import Embedder
from .errors import IndexCorrupt, ModelMismatch, NewsdeskError, RemovalGuard
from .models import Article, Failure, ReindexSummary
from .store import (
    DEFAULT_ANN_THRESHOLD,
    FORMAT_VERSION,
    IndexDir,
    Manifest,
    article_row,
    faiss_type,
    new_faiss_index,
    open_writable_db,
    reconstruct,
    utcnow,
)

log = logging.getLogger(__name__)

# progress(stage, done, total): stage is "reading" (files) or "embedding" (articles).
Progress = Callable[[str, int, int], None]


class Cancelled(NewsdeskError):
    def __init__(self) -> None:
        super().__init__("The reindex was cancelled; the previous index is still in use.")


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
    """Read every article under `folders` and bring the index in line with them."""
    started = time.perf_counter()
    articles, failures = load_articles(
        folders, options.max_file_bytes, (lambda d, t: progress("reading", d, t)) if progress else None
    )
    return reindex_articles(
        index_dir, articles, embedder, options, failures=failures, force=force, progress=progress,
        cancel=cancel, who=who, started=started,
    )  # fmt: skip


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
    started: float | None = None,
) -> ReindexSummary:
    """Make the index hold exactly `articles` (or add/replace them when `prune` is False).

    Unchanged articles (same key, same content hash) are left alone; passages whose text is already in the
    index reuse its vector. Nothing is written when nothing changed. Raises RemovalGuard when more than
    `options.max_removal_share` of the indexed articles would go (unless `force`), ModelMismatch when the
    index was built with another model (unless `force`, which rebuilds), Cancelled when `cancel` is set.
    """
    started = time.perf_counter() if started is None else started
    with index_dir.writer_lock(who):
        return _Reindex(index_dir, list(articles), list(failures), embedder, options, prune, force, progress,
                        cancel, started).run()  # fmt: skip


class _Reindex:
    def __init__(self, index_dir, articles, failures, embedder, options, prune, force, progress, cancel, started):
        self.dir: IndexDir = index_dir
        self.articles: list[Article] = articles
        self.failures: list[Failure] = failures
        self.embedder: Embedder = embedder
        self.options: BuildOptions = options
        self.prune = prune
        self.force = force
        self.progress = progress
        self.cancel = cancel
        self.started = started

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled()

    def _old(self) -> tuple[Path | None, Manifest | None]:
        if not self.dir.exists():
            return None, None
        path = self.dir.current_path()
        try:
            manifest = Manifest.read(path)
        except IndexCorrupt:
            if self.force:
                return None, None
            raise
        try:
            manifest.check_model(self.embedder.name, self.embedder.dimension)
        except ModelMismatch:
            if self.force:
                log.warning("rebuilding the index for model %s (was %s)", self.embedder.name, manifest.model)
                return None, None
            raise
        return path, manifest

    def run(self) -> ReindexSummary:
        old_path, old_manifest = self._old()
        same_layout = bool(
            old_manifest
            and old_manifest.chunking == self.options.chunking()
            and old_manifest.analyzer == ANALYZER_VERSION
            and old_manifest.format == FORMAT_VERSION
        )
        old_articles: dict[str, tuple[int, str]] = {}
        if old_path is not None:
            db = sqlite3.connect(f"file:{old_path / 'passages.sqlite'}?mode=ro", uri=True)
            old_articles = {k: (i, h) for i, k, h in db.execute("SELECT id, key, content_hash FROM articles")}
            db.close()

        new_by_key = {a.key: a for a in self.articles}
        added = [a for k, a in new_by_key.items() if k not in old_articles]
        updated = [a for k, a in new_by_key.items() if k in old_articles and (
            old_articles[k][1] != a.content_hash or not same_layout)]  # fmt: skip
        unchanged = len(new_by_key) - len(added) - len(updated)
        removed_keys = [k for k in old_articles if k not in new_by_key] if self.prune else []

        if old_articles and removed_keys and not self.force:
            share = len(removed_keys) / len(old_articles)
            if share > self.options.max_removal_share:
                raise RemovalGuard(len(removed_keys), len(old_articles), self.options.max_removal_share)

        if old_path is not None and not (added or updated or removed_keys):
            manifest = old_manifest
            assert manifest is not None
            return self._summary(0, 0, 0, unchanged, 0, manifest.articles, manifest.passages)

        staged = self.dir.staging()
        try:
            embedded, manifest = self._write(staged, old_path, old_manifest, same_layout, added + updated,
                                             [old_articles[k][0] for k in removed_keys] +
                                             [old_articles[a.key][0] for a in updated])  # fmt: skip
            self._check_cancel()
            self.dir.publish(staged)
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        return self._summary(len(added), len(updated), len(removed_keys), unchanged, embedded, manifest.articles,
                             manifest.passages)  # fmt: skip

    def _summary(self, added, updated, removed, unchanged, embedded, n_articles, n_passages) -> ReindexSummary:
        return ReindexSummary(
            added=added, updated=updated, removed=removed, unchanged=unchanged, failed=tuple(self.failures),
            passages_embedded=embedded, articles=n_articles, passages=n_passages,
            seconds=time.perf_counter() - self.started,
        )  # fmt: skip

    def _write(self, staged, old_path, old_manifest, same_layout, to_add, drop_article_ids):
        import faiss

        now = utcnow()
        db_path = staged / "passages.sqlite"
        if old_path is not None:
            shutil.copyfile(old_path / "passages.sqlite", db_path)
        db = open_writable_db(db_path)
        try:
            # Passages about to be dropped: their vectors may be reused by identical new passages.
            reusable: dict[str, int] = {}
            dropped_ids: list[int] = []
            if old_path is not None:
                reusable = {h: i for i, h in db.execute("SELECT id, text_hash FROM passages")}
                for aid in drop_article_ids:
                    dropped_ids += [r[0] for r in db.execute("SELECT id FROM passages WHERE article_id = ?", (aid,))]
                # With a new chunking or analyzer every article counts as updated, so all are cut again;
                # their vectors are still reused wherever a passage's text is unchanged.
                db.executemany("DELETE FROM articles WHERE id = ?", [(i,) for i in drop_article_ids])

            new_rows: list[tuple[int, str, str]] = []  # (passage id, text_hash, text) in insertion order
            per_article: list[int] = []
            for article in to_add:
                cur = db.execute(
                    "INSERT INTO articles (key, title, text, date, url, path, source, author, lang, content_hash,"
                    " indexed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    article_row(article, now),
                )
                aid = cur.lastrowid
                title_terms = analyze(article.title, article.lang)
                count = 0
                for pos, w in enumerate(_windows(article, self.options)):
                    text = article.text[w.start : w.end]
                    h = content_hash(text)
                    terms = title_terms + analyze(text, article.lang)
                    cur = db.execute(
                        "INSERT INTO passages (article_id, position, start, end, text, text_hash, sentences, lang,"
                        " terms) VALUES (?,?,?,?,?,?,?,?,?)",
                        (aid, pos, w.start, w.end, text, h, json.dumps(w.sentences), article.lang, " ".join(terms)),
                    )
                    new_rows.append((cur.lastrowid, h, text))
                    count += 1
                per_article.append(count)

            # Vectors: reuse by text hash, embed the rest.
            old_index = faiss.read_index(str(old_path / "vectors.faiss")) if old_path is not None else None
            reuse_ids = [reusable.get(h) if old_index is not None else None for _, h, _ in new_rows]
            vectors = np.zeros((len(new_rows), self.embedder.dimension), dtype=np.float32)
            if old_index is not None:
                idx = [i for i, r in enumerate(reuse_ids) if r is not None]
                if idx:
                    vectors[idx] = reconstruct(old_index, [reuse_ids[i] for i in idx])
            todo = [i for i, r in enumerate(reuse_ids) if r is None]
            self._embed(vectors, todo, [t for _, _, t in new_rows], per_article)

            self._check_cancel()
            all_ids = [r[0] for r in db.execute("SELECT id FROM passages ORDER BY id")]
            new_ids = np.array([r[0] for r in new_rows], dtype=np.int64)
            index, kind = self._vectors(old_index, dropped_ids, new_ids, vectors, all_ids)
            faiss.write_index(index, str(staged / "vectors.faiss"))

            self._bm25(db, staged, all_ids)
            n_articles = db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
            langs = dict(db.execute("SELECT COALESCE(lang, '?'), COUNT(*) FROM articles GROUP BY 1"))
            db.commit()
        finally:
            db.close()
        manifest = Manifest(
            format=FORMAT_VERSION, model=self.embedder.name, dimension=self.embedder.dimension, index_type=kind,
            articles=n_articles, passages=len(all_ids), languages=langs, chunking=self.options.chunking(),
            analyzer=ANALYZER_VERSION, created_at=old_manifest.created_at if old_manifest else now, updated_at=now,
            version=staged.name,
        )  # fmt: skip
        manifest.write(staged)
        return len(todo), manifest

    def _embed(self, vectors: np.ndarray, todo: list[int], texts: list[str], per_article: list[int]) -> None:
        """Embed rows `todo` in chunks, checking for cancellation and reporting articles done."""
        total_articles = len(per_article)
        bounds = np.cumsum(per_article)
        chunk = 64  # one model batch: a cancelled reindex stops within one batch
        done = 0
        if self.progress:
            self.progress("embedding", 0, total_articles)
        for i in range(0, len(todo), chunk):
            self._check_cancel()
            rows = todo[i : i + chunk]
            vectors[rows] = self.embedder.encode_documents([texts[r] for r in rows])
            done = rows[-1] + 1
            if self.progress:
                self.progress("embedding", int(np.searchsorted(bounds, done, side="right")), total_articles)
        if self.progress:
            self.progress("embedding", total_articles, total_articles)

    def _vectors(self, old_index, dropped_ids, new_ids, vectors, all_ids):
        """Update the old FAISS index in place when its type still fits, else build a new one."""

        n = len(all_ids)
        want_ann = n >= self.options.ann_threshold
        if old_index is not None and (faiss_type(old_index) == "ivf") == want_ann:
            if dropped_ids:
                old_index.remove_ids(np.array(dropped_ids, dtype=np.int64))
            if len(new_ids):
                old_index.add_with_ids(vectors, new_ids)
            return old_index, faiss_type(old_index)
        # First build, or crossing the exact/approximate threshold: gather every vector and build afresh.
        new_pos = {int(p): i for i, p in enumerate(new_ids)}
        row = {p: r for r, p in enumerate(all_ids)}
        kept = [p for p in all_ids if p not in new_pos]
        full = np.zeros((n, self.embedder.dimension), dtype=np.float32)
        if kept:
            full[[row[p] for p in kept]] = reconstruct(old_index, kept)
        for p, i in new_pos.items():
            full[row[p]] = vectors[i]
        index, kind = new_faiss_index(full.shape[1], n, self.options.ann_threshold, train=full)
        if n:
            index.add_with_ids(full, np.array(all_ids, dtype=np.int64))
        log.info("built a %s FAISS index over %d passages", kind, n)
        return index, kind

    def _bm25(self, db, staged: Path, all_ids: list[int]) -> None:
        import bm25s

        terms = [row[0].split() or [""] for row in db.execute("SELECT terms FROM passages ORDER BY id")]
        np.save(staged / "rows.npy", np.array(all_ids, dtype=np.int64))
        if not terms:
            return
        retriever = bm25s.BM25(k1=1.2, b=0.75)
        retriever.index(terms, show_progress=False)
        retriever.save(str(staged / "bm25"), show_progress=False)
