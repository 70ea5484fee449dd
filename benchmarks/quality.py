"""Item 1's quality guard: answers through ask(), anchored to `make eval`'s committed figures.

Each paragraph of XQuAD en and PIAF dev is indexed as one article (as `make eval` does), with the embedder
Newsdesk's settings choose, and every answerable question of the set (the questions `make eval` asks, so the
figures compare) goes through `Engine.ask`. Four targets per set, each against the floor committed for this
embedder identity in benchmarks/floors.json (recorded by a full `make eval`), failing when the figure is more
than one point below it (plus the sampling error when --limit or --quick asks only part of the questions):

- R@5 of `Answer.ranking` (retrieval and re-ranking, answered or not);
- answered (not an abstention);
- R@5 counting a question only if it was answered;
- the first quote holds an expected answer.

No floor for the model: SKIP ("no anchor for model X"), never PASS. Dense-only R@5 (the vectors alone, no BM25)
is shown for context, and, where the embedder has a torch fp32 counterpart (the onnx and openvino backends of
a sentence-transformers model), that counterpart's R@5 through the same path: what the backend costs. Vectors
are cached in benchmarks/cache/vectors-*.npz.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from .common import (
    STAT_LABELS,
    Result,
    VectorCache,
    answer_stats,
    article_keys,
    backend_of,
    cached_embedder,
    embedder_identity,
    floor_result,
    model_key,
    newsdesk_settings,
    paragraph_article,
    read_jsonl,
    say,
)

# make eval's set name -> (label, passages, questions)
SETS = {
    "xquad_en": ("XQuAD en", "xquad_en.passages.jsonl", "xquad_en.questions.jsonl"),
    "piaf.dev": ("PIAF dev fr", "piaf.passages.jsonl", "piaf.dev.questions.jsonl"),
}
METRICS = ("r@5", "answered", "answered_r@5", "quote_hit@1")


def spread(items: list, limit: int | None) -> list:
    """`limit` items spread evenly over the list (all of them without a limit)."""
    if not limit or limit >= len(items):
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def _dense_recall(cache: VectorCache, texts: list[str], ids: list[str], qs: list[dict]) -> float:
    docs = cache.get(texts)
    queries = cache.get([q["question"] for q in qs], "q")
    top = np.argsort(-(queries @ docs.T), axis=1)[:, :5]
    return float(np.mean([q["passage_id"] in {ids[j] for j in top[i]} for i, q in enumerate(qs)]))


def torch_counterpart(emb):
    """The same sentence-transformers model on torch fp32, for an onnx or openvino embedder; else None."""
    if embedder_identity(emb).get("backend") not in ("onnx", "openvino") or not getattr(emb, "model_path", None):
        return None
    from index.embedding import SentenceTransformerEmbedder

    try:
        other = SentenceTransformerEmbedder(emb.model_path, backend="torch")
        other.encode_queries(["warm up"])
    except Exception as exc:  # context only: the targets do not depend on it
        say(f"  no torch counterpart of {emb.name}: {exc.__class__.__name__}: {exc}")
        return None
    return other


def measure(emb, articles, texts, qs, origin, settings) -> tuple[dict, VectorCache]:
    """Index the articles with `emb` (vectors cached), ask every question; the answer_stats figures."""
    from bot.compose import build_options, search_config
    from index.build.reindex import reindex_articles
    from index.engine import Engine
    from index.store.folder import IndexDir

    cache = VectorCache(emb)
    cache.fill(texts)
    cache.fill([q["question"] for q in qs], "q")
    wrapped = cached_embedder(emb, cache, cache_queries=True)
    build = replace(build_options(settings), whole_articles=True, max_removal_share=1.0)
    with tempfile.TemporaryDirectory(prefix="newsdesk-bench-q-") as tmp:
        root = Path(tmp) / "index"
        reindex_articles(IndexDir(root), articles, wrapped, build, force=True)
        engine = Engine(root, wrapped, search_config(settings), build)
        keys = article_keys(engine)
        answers = [engine.ask(q["question"]) for q in qs]
        engine.snapshot.close()
    return answer_stats(answers, qs, lambda a: origin[keys[a]]), cache


def run(emb, quick: bool, limit: int | None = None) -> list[Result]:
    """Newsdesk's embedder `emb` (the settings' choice) on each set; targets against the committed floors."""
    from index.text.chunking import whole_text_window

    settings = newsdesk_settings()
    key = model_key(emb)
    counterpart = None if quick else torch_counterpart(emb)
    results: list[Result] = []
    sets = dict(list(SETS.items())[:1]) if quick else SETS
    for set_name, (label, pfile, qfile) in sets.items():
        rows = read_jsonl(pfile)
        every = [q for q in read_jsonl(qfile) if not q.get("is_impossible")]
        qs = spread(every[::4] if quick else every, limit)
        articles = [paragraph_article(r, 0) for r in rows]
        texts = [a.text[w.start : w.end] for a in articles for w in [whole_text_window(a.text)]]
        origin = {a.key: str(r["id"]) for a, r in zip(articles, rows, strict=True)}
        stats, cache = measure(emb, articles, texts, qs, origin, settings)
        dense = _dense_recall(cache, texts, [origin[a.key] for a in articles], qs)
        say(f"  {label} ({len(qs)} q, {backend_of(emb)}): " + ", ".join(f"{m} {stats[m]:.3f}" for m in METRICS)
            + f" (dense only R@5 {dense:.3f})")  # fmt: skip
        for metric in METRICS:
            results.append(floor_result(f"{label} ({len(qs)} of {len(every)} q): {STAT_LABELS[metric]}",
                                        stats[metric], key, [(set_name, metric, len(qs))]))  # fmt: skip
        results.append(Result(f"{label}: R@5 of the vectors alone (no BM25)", dense * 100, "%", None, None, None,
                              f"context: {backend_of(emb)}"))  # fmt: skip
        if counterpart is not None:
            other, _ = measure(counterpart, articles, texts, qs, origin, settings)
            say(f"  {label}: torch fp32 counterpart R@5 {other['r@5']:.3f}, quote {other['quote_hit@1']:.3f}")
            results.append(Result(f"{label}: R@5 of the ranking, {backend_of(emb)} vs the same model on torch fp32",
                                  stats["r@5"] * 100, "%", None, None, other["r@5"] * 100,
                                  "context: what the backend costs (baseline column: torch fp32)"))  # fmt: skip
    return results
