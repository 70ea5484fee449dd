"""What every benchmark shares: paths, results, statistics, corpora built from ../shared/eval, vector caches.

Nothing here copies evaluation text into the project: corpora are built in memory or under benchmarks/cache/
(gitignored) at run time, from the files in ../shared/eval.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT.parent / "shared" / "eval"
CACHE = ROOT / "benchmarks" / "cache"
MODELS = CACHE / "models"


def setup_env() -> None:
    """Offline model loading, one tokenizer thread, and the ONNX export cached under benchmarks/cache/."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("NEWSDESK_MODEL_CACHE", str(MODELS))
    CACHE.mkdir(parents=True, exist_ok=True)


class Skip(Exception):
    """A benchmark cannot run here (evaluation data or a package is missing); the message says why."""


def eval_file(name: str) -> Path:
    path = EVAL / name
    if not path.is_file():
        raise Skip(f"{path} not found: the evaluation data lives in ../shared/eval beside the project")
    return path


def read_jsonl(name: str) -> list[dict]:
    with open(eval_file(name), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# --- results -----------------------------------------------------------------------------------------------


@dataclass
class Result:
    """One line of results.json: {"name", "value", "unit", "target", "pass", "baseline"}."""

    name: str
    value: float | None
    unit: str
    target: str | None = None  # e.g. "<= 30 ms"; None for a figure shown for context
    passed: bool | None = None
    baseline: float | str | None = None  # the baseline measured in the same run, where there is one
    note: str = ""  # shown in the table only

    def to_json(self) -> dict:
        value = None if self.value is None else round(float(self.value), 4)
        base = round(float(self.baseline), 4) if isinstance(self.baseline, (int, float)) else self.baseline
        return {"name": self.name, "value": value, "unit": self.unit, "target": self.target, "pass": self.passed,
                "baseline": base}  # fmt: skip


def check(value: float, op: str, limit: float) -> bool:
    return value <= limit if op == "<=" else value >= limit


def target_result(name: str, value: float, unit: str, op: str, limit: float, baseline=None, note: str = "",
                  target_unit: str | None = None) -> Result:  # fmt: skip
    """A figure with a target: PASS when `value op limit` holds."""
    tu = unit if target_unit is None else target_unit
    return Result(name, value, unit, f"{op} {limit:g}{' ' + tu if tu else ''}", check(value, op, limit), baseline, note)


def median(values: Sequence[float]) -> float:
    return float(np.median(values)) if len(values) else float("nan")


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


@contextlib.contextmanager
def timer() -> Iterator[list[float]]:
    """with timer() as t: ...; t[0] is the elapsed seconds."""
    box: list[float] = []
    start = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - start)


def say(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


# --- embedders -----------------------------------------------------------------------------------------------


def make_embedder(backend: str):
    """The real embedder as the bot builds it (bundled model), with the given backend, loaded and warm."""
    from index.embedding import SentenceTransformerEmbedder

    emb = SentenceTransformerEmbedder(backend=backend)
    emb.encode_queries(["warm up"])
    return emb


def backend_of(emb) -> str:
    """What actually runs: 'onnx-int8' or 'torch' (onnx falls back to torch when its extra is missing)."""
    return "onnx-int8" if getattr(emb, "_onnx", None) is not None else "torch"


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class VectorCache:
    """Document and query vectors of one embedder configuration, kept in benchmarks/cache/vectors-*.npz."""

    def __init__(self, emb):
        from index.embedding import ONNX_RECIPE

        self.emb = emb
        sig = f"{emb.name}|{backend_of(emb)}|{ONNX_RECIPE}|{emb._max_seq_length}"
        self.path = CACHE / f"vectors-{backend_of(emb)}-{hashlib.sha1(sig.encode()).hexdigest()[:10]}.npz"
        self.vectors: dict[str, np.ndarray] = {}
        if self.path.is_file():
            with np.load(self.path) as data:
                for k, v in zip(data["keys"], data["vectors"], strict=True):
                    self.vectors[str(k)] = v
        self._dirty = False

    def fill(self, texts: Sequence[str], kind: str = "d") -> float:
        """Embed the texts not cached yet (kind 'd' documents, 'q' queries); return the seconds it took."""
        missing = list(dict.fromkeys(t for t in texts if f"{kind}:{text_key(t)}" not in self.vectors))
        if not missing:
            return 0.0
        say(f"  embedding {len(missing)} {'queries' if kind == 'q' else 'passages'} once for the cache "
            f"({backend_of(self.emb)}): {self.path.name}")  # fmt: skip
        started = time.perf_counter()
        step = 256
        for i in range(0, len(missing), step):
            part = missing[i : i + step]
            vecs = self.emb.encode_queries(part) if kind == "q" else self.emb.encode_documents(part)
            for t, v in zip(part, vecs, strict=True):
                self.vectors[f"{kind}:{text_key(t)}"] = v
        self._dirty = True
        self.save()
        return time.perf_counter() - started

    def get(self, texts: Sequence[str], kind: str = "d") -> np.ndarray:
        return np.vstack([self.vectors[f"{kind}:{text_key(t)}"] for t in texts]).astype(np.float32)

    def has(self, text: str, kind: str = "d") -> bool:
        return f"{kind}:{text_key(text)}" in self.vectors

    def save(self) -> None:
        if not self._dirty:
            return
        keys = np.array(list(self.vectors))
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, vectors=np.vstack(list(self.vectors.values())).astype(np.float32))
        os.replace(tmp, self.path)
        self._dirty = False


class CachedEmbedder:
    """The real embedder's name and queries; document vectors from a VectorCache where it has them.

    Misses are embedded by the real embedder (timed in `embed_seconds`; with no cache, every passage is a
    miss: the wrapper just times the real embedder). With `noise` > 0, the k-th time a
    text is seen (k >= 1) its vector gets seeded Gaussian noise of that standard deviation per dimension and
    is normalized again: the copies of a passage in a scaled corpus become distinct nearby points (cosine
    about 0.95 to the original at 0.017) instead of exact ties.
    """

    def __init__(self, inner, cache: VectorCache | None, noise: float = 0.0, cache_queries: bool = False):
        self.inner = inner
        self.name = inner.name
        self.cache = cache
        self.noise = noise
        self.cache_queries = cache_queries
        self.seen: dict[str, int] = {}
        self.embed_seconds = 0.0
        self.embedded = 0

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode_queries(self, texts):
        if self.cache_queries and self.cache is not None and all(self.cache.has(t, "q") for t in texts):
            return self.cache.get(texts, "q")
        return self.inner.encode_queries(texts)

    def encode_documents(self, texts, progress=None):
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        todo = [i for i, t in enumerate(texts) if self.cache is None or not self.cache.has(t)]
        if todo:
            started = time.perf_counter()
            out[todo] = self.inner.encode_documents([texts[i] for i in todo])
            self.embed_seconds += time.perf_counter() - started
            self.embedded += len(todo)
        for i, t in enumerate(texts):
            if self.cache is not None and self.cache.has(t):
                out[i] = self.cache.get([t])[0]
            if self.noise:
                k = self.seen.get(t, 0)
                self.seen[t] = k + 1
                if k:
                    rng = np.random.default_rng([int(text_key(t)[:12], 16), k])
                    v = out[i] + rng.normal(0.0, self.noise, size=out.shape[1]).astype(np.float32)
                    out[i] = v / np.linalg.norm(v)
        if progress:
            progress(len(texts))
        return out


# --- corpora -------------------------------------------------------------------------------------------------


def wikinews_folder(folder: Path, n_articles: int) -> Path:
    """Write `n_articles` Wikinews articles as .txt files with a header: the 100 articles, then copies of them.

    Copy k (k >= 1) keeps the text and gets its own URL and title, so each copy is its own article; the text
    is the same, and Newsdesk embeds every copy (it reuses vectors only from the previous version of the
    index, never within one build).
    """
    rows = read_jsonl("wikinews_fr.articles.jsonl")
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_articles):
        k, r = divmod(i, len(rows))
        r = rows[r]
        sub = folder / f"copy{k:03d}"
        sub.mkdir(exist_ok=True)
        header = [f"title: {r['title']}" + (f" ({k})" if k else ""), f"date: {r.get('date') or ''}",
                  f"url: {r['source']}" + (f"#copy{k}" if k else ""), "source: Wikinews",
                  f"lang: {r.get('lang') or 'fr'}"]  # fmt: skip
        (sub / f"{r['id']}.txt").write_text("\n".join(header) + "\n\n" + r["text"] + "\n", encoding="utf-8")
    return folder


def passage_texts(folder: Path) -> list[str]:
    """The passages Newsdesk cuts from the articles under `folder` (same loader, same chunking)."""
    from index.articles import load_articles
    from index.build import BuildOptions
    from index.chunking import make_windows

    o = BuildOptions()
    articles, _ = load_articles([folder])
    return [a.text[w.start : w.end] for a in articles for w in make_windows(a.text, o.target_words, o.max_words,
                                                                            o.overlap)]  # fmt: skip


PARAGRAPH_SETS = ("wikinews_fr.passages.jsonl", "piaf.passages.jsonl", "xquad_en.passages.jsonl",
                  "squad2_dev.passages.jsonl")  # fmt: skip


def paragraphs() -> list[dict]:
    """The distinct real paragraphs of the evaluation sets (piaf_abstain is a subset of piaf: left out)."""
    out, seen = [], set()
    for name in PARAGRAPH_SETS:
        for r in read_jsonl(name):
            if r["text"] not in seen:
                seen.add(r["text"])
                out.append(r)
    return out


def paragraph_article(r: dict, copy: int):
    from index.articles import make_article

    url = r.get("source") or f"https://example.invalid/{r['id']}"
    return make_article(
        key=f"{r['id']}#c{copy}", text=r["text"], path=None, fallback_title=str(r["id"]),
        meta={"title": (r.get("title") or r["id"]) + (f" ({copy})" if copy else ""),
              "url": f"{url}#c{copy}" if copy else url, "lang": r.get("lang"), "date": r.get("date")},
    )  # fmt: skip


def scaled_articles(n_passages: int) -> tuple[list, dict[str, str]]:
    """Articles made of the real paragraphs, repeated (copy 0, 1, 2, ...) until they hold n_passages passages.

    Returns the articles and, for each article key, the id of the paragraph it copies (for recall).
    """
    from index.build import BuildOptions
    from index.chunking import make_windows

    o = BuildOptions()
    rows = paragraphs()
    base = [paragraph_article(r, 0) for r in rows]
    sizes = [len(make_windows(a.text, o.target_words, o.max_words, o.overlap)) for a in base]
    out, origin, total, copy = [], {}, 0, 0
    while total < n_passages:
        for r, a, n in zip(rows, base, sizes, strict=True):
            art = a if copy == 0 else paragraph_article(r, copy)
            out.append(art)
            origin[art.key] = str(r["id"])
            total += n
            if total >= n_passages:
                break
        copy += 1
    return out, origin


def articles_passages(articles) -> list[str]:
    from index.build import BuildOptions
    from index.chunking import make_windows

    o = BuildOptions()
    return [a.text[w.start : w.end] for a in articles for w in make_windows(a.text, o.target_words, o.max_words,
                                                                            o.overlap)]  # fmt: skip


def questions(per_set: int) -> list[dict]:
    """Answerable questions, alternating XQuAD (en) and PIAF dev (fr), `per_set` of each, spread over the set."""
    out = []
    for name in ("xquad_en.questions.jsonl", "piaf.dev.questions.jsonl"):
        qs = [q for q in read_jsonl(name) if not q.get("is_impossible")]
        step = max(1, len(qs) // per_set)
        out.append(qs[::step][:per_set])
    return [q for pair in zip(*out, strict=False) for q in pair]


_CODE: dict[tuple, str] = {}


def code_key(*extra: str) -> str:
    """A hash of the index code that shapes what is on disk, to know when a cached index is stale.

    Computed once per run: an edit to the index code during a run does not rebuild an index mid-run.
    """
    if extra not in _CODE:
        _CODE[extra] = _code_key(*extra)
    return _CODE[extra]


def _code_key(*extra: str) -> str:
    h = hashlib.sha1()
    # The embedder is not here: the vector cache's name (part of the key) carries its recipe.
    for name in ("build.py", "store.py", "lexical.py", "analyzer.py", "chunking.py", "articles.py", "text.py", "lang.py"):
        with contextlib.suppress(OSError):
            h.update((ROOT / "index" / name).read_bytes())
    for e in extra:
        h.update(e.encode())
    return h.hexdigest()[:10]


NOISE = 0.017


def scaled_index(n_passages: int, emb, cache: VectorCache) -> tuple[Path, dict[str, str], float]:
    """A Newsdesk index over `n_passages` scaled passages, built by Newsdesk's reindex from cached vectors.

    Kept in benchmarks/cache/indexes/ and rebuilt when the index code or the embedder changes. Returns its
    folder, the article key -> paragraph id map, and the build seconds (0 when it was reused).
    """
    from index.build import BuildOptions, reindex_articles
    from index.store import IndexDir

    articles, origin = scaled_articles(n_passages)
    root = CACHE / "indexes" / f"scaled-{n_passages}-{code_key(cache.path.name, str(NOISE))}"
    if (root / "current").exists():
        return root, origin, 0.0
    texts = articles_passages(articles)
    cache.fill(texts)
    for old in (CACHE / "indexes").glob(f"scaled-{n_passages}-*"):
        shutil.rmtree(old, ignore_errors=True)
    say(f"  building the {n_passages:,}-passage index once (cached vectors): {root.name}")
    started = time.perf_counter()
    wrapped = CachedEmbedder(emb, cache, noise=NOISE)
    reindex_articles(IndexDir(root), articles, wrapped, BuildOptions(), force=True)
    return root, origin, time.perf_counter() - started


def article_keys(engine) -> dict[int, str]:
    return {i: k for k, i in engine.snapshot.keys().items()}
