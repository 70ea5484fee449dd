"""The serving side: one loaded, read-only version of the index (Snapshot) and what it hands out.

Snapshot implements the Store protocol (index/store/base.py) over the segments a version names.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from index.errors import IndexCorrupt, IndexOutdated
from index.files import dir_size
from index.records import ArticleRef, IndexStats, Passage
from index.store.bm25 import K1, B, Bm25
from index.store.faults import UNREADABLE
from index.store.manifest import FORMAT_VERSION, Manifest, read_hidden
from index.store.segments import Segment
from index.store.vectors import reconstruct, search

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


class Selection:
    """Which passages a search may return: an opaque value made by `Snapshot.select`."""

    __slots__ = ("mask",)

    def __init__(self, mask: np.ndarray | None):
        self.mask = mask  # per-row 0/1 weights (None: every live row); only the store reads it

    @property
    def empty(self) -> bool:
        return self.mask is not None and not self.mask.any()


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
            for s in self.manifest.segments:
                seg = loaded.get(s["name"]) or Segment(root / s["name"], self.manifest.dimension)
                self.segments.append(seg)
                if len(seg.rows) != s["passages"]:
                    raise ValueError(f"segment {s['name']} holds {len(seg.rows)} passages, the manifest says "
                                     f"{s['passages']}")  # fmt: skip
            hidden = read_hidden(path, self.manifest)
            self.hidden_articles = frozenset(int(i) for i in hidden)
            self._arrange()
        except UNREADABLE as exc:
            for seg in self.segments:
                if seg.path.name not in loaded:
                    seg.close()
            raise IndexCorrupt(str(path), str(exc)[:200]) from exc
        self.articles: Mapping[int, ArticleRef] = ArticleTable(self)
        self._scorers: dict[tuple[float, float], Bm25] = {}

    def _arrange(self) -> None:
        segs = self.segments
        self._offsets = np.cumsum([0] + [len(s.rows) for s in segs])
        self._rows = np.concatenate([s.rows for s in segs]) if segs else np.zeros(0, np.int64)
        self._row_article = np.concatenate([s.row_article for s in segs]) if segs else np.zeros(0, np.int64)
        if self.hidden_articles:
            self._live = (~np.isin(self._row_article, list(self.hidden_articles))).astype(np.float32)
        else:
            self._live = None  # every row is live
        # Per segment, the passage ids of hidden articles: what a search with no filter leaves out.
        self._hidden_rows: list[np.ndarray] = [
            s.rows[np.isin(s.row_article, list(self.hidden_articles))] if self.hidden_articles else s.rows[:0]
            for s in segs
        ]  # fmt: skip

    @property
    def size(self) -> int:
        """Rows, hidden ones included (the length of every per-row array)."""
        return len(self._rows)

    def segment_of_article(self, article_id: int) -> Segment | None:
        if article_id in self.hidden_articles:
            return None
        return next((s for s in self.segments if s.has_article(article_id)), None)

    def _rows_of(self, pids: Sequence[int]) -> np.ndarray:
        """Row of each passage id (-1 where there is none). Each segment's rows are sorted by passage id."""
        pids = np.asarray(pids, dtype=np.int64)
        out = np.full(len(pids), -1, dtype=np.int64)
        for i, seg in enumerate(self.segments):
            if not len(seg.rows):
                continue
            at = np.minimum(np.searchsorted(seg.rows, pids), len(seg.rows) - 1)
            hit = seg.rows[at] == pids
            out[hit] = at[hit] + self._offsets[i]
        return out

    def _by_segment(self, pids: Sequence[int]) -> dict[int, list[int]]:
        """Positions in `pids` grouped by the segment holding each passage (unknown ids left out)."""
        rows = self._rows_of(pids)
        segs = np.searchsorted(self._offsets, rows, side="right") - 1
        out: dict[int, list[int]] = {}
        for j, (row, seg) in enumerate(zip(rows.tolist(), segs.tolist(), strict=True)):
            if row >= 0:
                out.setdefault(seg, []).append(j)
        return out

    def _weights(self, allowed_articles: Iterable[int] | None = None) -> np.ndarray | None:
        """Per-row 0/1 weights: live rows, of `allowed_articles` when given; None when every row counts."""
        if allowed_articles is None:
            return self._live
        mask = np.isin(self._row_article, list(allowed_articles)).astype(np.float32)
        return mask if self._live is None else mask * self._live

    def _bm25(self, k1: float = K1, b: float = B) -> Bm25:
        """The BM25 scorer over every segment (built on first use per parameter pair, then kept)."""
        scorer = self._scorers.get((k1, b))
        if scorer is None:
            scorer = self._scorers[(k1, b)] = Bm25([s.postings for s in self.segments], k1, b)
        return scorer

    def _dense_search(self, qvec: np.ndarray, k: int, weights: np.ndarray | None) -> dict[int, float]:
        """Inner products of the `k` nearest live passages (allowed by `weights`), by passage id.

        With no filter (`weights` is None or `self._weights()`), only the few hidden passages of a segment are
        left out; a filter names the passages it allows.
        """
        hits: list[tuple[float, int]] = []
        for i, seg in enumerate(self.segments):
            lo, hi = int(self._offsets[i]), int(self._offsets[i + 1])
            if hi == lo:
                continue
            only = without = None
            if weights is None or weights is self._live:
                if len(self._hidden_rows[i]) == hi - lo:
                    continue
                without = self._hidden_rows[i]
            else:
                allowed = seg.rows[weights[lo:hi] > 0]
                if not len(allowed):
                    continue
                if len(allowed) < hi - lo:
                    only = allowed
            hits += search(seg.vectors, qvec, min(k, hi - lo), only=only, without=without)
        hits.sort(reverse=True)
        return {p: d for d, p in hits[:k]}

    # --- the query interface (index/store/base.py `Store`): passage and article ids in and out ------------

    def select(self, articles: Iterable[int] | None = None, exclude: Iterable[int] = ()) -> Selection | None:
        """The live passages of `articles` (every article when None) minus those of `exclude`.

        None stands for every live passage, the case searches are fastest in.
        """
        exclude = list(exclude)
        if articles is None and not exclude:
            return None
        mask = self._weights(articles)
        if exclude:
            mask = np.ones(self.size, dtype=np.float32) if mask is None else mask.copy()
            mask[np.isin(self._row_article, np.asarray(exclude, dtype=np.int64))] = 0
        return Selection(mask)

    def dense(self, qvec: np.ndarray, k: int, within: Selection | None = None) -> dict[int, float]:
        """Passage id -> inner product with `qvec` of the `k` nearest passages of `within`."""
        if within is not None and within.empty:
            return {}
        return self._dense_search(qvec, k, self._live if within is None else within.mask)

    def similarity(self, qvec: np.ndarray, pids: Sequence[int]) -> dict[int, float]:
        """Passage id -> inner product with `qvec`, for the given passages (vectors read back)."""
        pids = [int(p) for p in pids]
        if not pids:
            return {}
        return dict(zip(pids, (self._vectors(pids) @ qvec[0]).tolist(), strict=True))

    def lexical(self, terms: Sequence[str], k: int, within: Selection | None = None, *, k1: float = K1,
                b: float = B, also: Sequence[int] = ()) -> dict[int, float]:  # fmt: skip
        """Passage id -> BM25 score: the `k` best passages of `within` with a positive score, and `also`."""
        n = self.size
        bm25 = self._bm25(k1, b)
        known = [t for t in terms if t in bm25]
        if not n or not known:
            return dict.fromkeys((int(p) for p in also), 0.0)
        mask = self._live if within is None else within.mask
        scores = bm25.scores(known, mask)
        top = np.argpartition(-scores, min(k, n - 1))[:k] if n > k else np.arange(n)
        out = {int(self._rows[r]): float(scores[r]) for r in top if scores[r] > 0}
        rows = self._rows_of(list(also))
        for p, r in zip(also, rows.tolist(), strict=True):
            out.setdefault(int(p), float(scores[r]) if r >= 0 else 0.0)
        return out

    def lexical_scores(self, terms: Sequence[str], pids: Sequence[int], *, k1: float = K1,
                       b: float = B) -> dict[int, float]:  # fmt: skip
        """Passage id -> BM25 score of a few passages (no pass over the corpus)."""
        bm25 = self._bm25(k1, b)
        known = [t for t in terms if t in bm25]
        rows = self._rows_of(list(pids))
        ok = [(int(p), int(r)) for p, r in zip(pids, rows.tolist(), strict=True) if r >= 0]
        if not known or not ok:
            return dict.fromkeys((int(p) for p in pids), 0.0)
        scores = bm25.score_rows(known, [r for _, r in ok])
        return {p: float(v) for (p, _), v in zip(ok, scores.tolist(), strict=True)}

    def terms(self, k1: float = K1, b: float = B) -> Bm25:
        """The corpus' term statistics (`t in terms`, `terms.idf(t)`), as BM25 with these parameters sees them."""
        return self._bm25(k1, b)

    def article_of(self, pids: Iterable[int]) -> dict[int, int]:
        """Passage id -> article id."""
        pids = [int(p) for p in pids]
        rows = self._rows_of(pids)
        return {p: int(self._row_article[r]) for p, r in zip(pids, rows.tolist(), strict=True) if r >= 0}

    def _vectors(self, pids: Sequence[int]) -> np.ndarray:
        """The vectors of passages `pids`, in that order."""
        out = np.zeros((len(pids), self.manifest.dimension), dtype=np.float32)
        for i, js in self._by_segment(pids).items():
            out[js] = reconstruct(self.segments[i].vectors, [pids[j] for j in js])
        return out

    def sentence_vectors(self, pids: Iterable[int]) -> dict[int, np.ndarray]:
        """Passage id -> its sentences' vectors computed at index time, for those of `pids` its segment holds."""
        pids = [int(p) for p in pids]
        out: dict[int, np.ndarray] = {}
        for i, js in self._by_segment(pids).items():
            out.update(self.segments[i].sentence_vectors([pids[j] for j in js]))
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
        return {key: aid for key, (_, aid) in self.versions().items()}

    def versions(self) -> dict[str, tuple[str, int]]:
        """Article key -> (content hash, id), for the live articles: what changed since another snapshot."""
        out = {}
        for seg in self.segments:
            for aid, key, digest in seg.query("SELECT id, key, content_hash FROM articles"):
                if aid not in self.hidden_articles:
                    out[key] = (digest, aid)
        return out

    def stats(self) -> IndexStats:
        langs = Counter(ref.lang or "?" for ref in self.articles.values())
        dates = [a.date for a in self.articles.values() if a.date]
        return IndexStats(
            articles=len(self.articles),
            passages=self.manifest.passages,
            languages=dict(langs.most_common()),
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
