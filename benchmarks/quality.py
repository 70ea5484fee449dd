"""Item 1's quality guard: R@5 through ask() with int8 ONNX vectors against fp32 torch vectors.

Each evaluation paragraph is indexed as one article (as `newsdesk eval` does), once with the vectors of the
baseline (sentence-transformers, torch, fp32) and once with Newsdesk's (ONNX int8); questions are encoded by
the same backend as the passages. R@5: the gold paragraph is among the first five of Answer.ranking. Dense-only
R@5 (vectors alone, no BM25) is shown too, so what int8 does to the model itself is visible. Vectors are cached
in benchmarks/cache/vectors-*.npz (the first run embeds the passages with both backends).
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from .common import CachedEmbedder, Result, VectorCache, article_keys, paragraph_article, read_jsonl, say

SETS = {
    "XQuAD en": ("xquad_en.passages.jsonl", "xquad_en.questions.jsonl"),
    "PIAF dev fr": ("piaf.passages.jsonl", "piaf.dev.questions.jsonl"),
}


def _recall(engine, qs: list[dict], origin: dict[str, str]) -> float:
    keys = article_keys(engine)
    hits = 0
    for q in qs:
        ranking = engine.ask(q["question"], k=3).ranking[:5]
        hits += q["passage_id"] in {origin[keys[a]] for a in ranking}
    return hits / len(qs)


def _dense_recall(cache: VectorCache, rows: list[dict], qs: list[dict]) -> float:
    docs = cache.get([r["text"] for r in rows])
    queries = cache.get([q["question"] for q in qs], "q")
    top = np.argsort(-(queries @ docs.T), axis=1)[:, :5]
    ids = [str(r["id"]) for r in rows]
    return float(np.mean([q["passage_id"] in {ids[j] for j in top[i]} for i, q in enumerate(qs)]))


def run(embedders: dict[str, object], quick: bool) -> list[Result]:
    """embedders: {"baseline": torch embedder, "newsdesk": onnx embedder}."""
    from index.build import BuildOptions, reindex_articles
    from index.chunking import whole_text_window
    from index.search import Engine
    from index.store import IndexDir

    results: list[Result] = []
    sets = dict(list(SETS.items())[:1]) if quick else SETS
    caches = {who: VectorCache(emb) for who, emb in embedders.items()}
    for label, (pfile, qfile) in sets.items():
        rows = read_jsonl(pfile)
        qs = [q for q in read_jsonl(qfile) if not q.get("is_impossible")]
        if quick or label.startswith("PIAF"):  # PIAF: every other question, to keep `make bench` in time
            qs = qs[:: 4 if quick else 2]
        articles = [paragraph_article(r, 0) for r in rows]
        texts = [a.text[w.start : w.end] for a in articles for w in [whole_text_window(a.text)]]
        origin = {a.key: str(r["id"]) for a, r in zip(articles, rows, strict=True)}
        recall, dense = {}, {}
        for who, emb in embedders.items():
            cache = caches[who]
            cache.fill(texts)
            cache.fill([q["question"] for q in qs], "q")
            wrapped = CachedEmbedder(emb, cache, cache_queries=True)
            build = replace(BuildOptions(), whole_articles=True, max_removal_share=1.0)
            with tempfile.TemporaryDirectory(prefix="newsdesk-bench-q-") as tmp:
                root = Path(tmp) / "index"
                reindex_articles(IndexDir(root), articles, wrapped, build, force=True)
                recall[who] = _recall(Engine(root, wrapped, build=build), qs, origin)
            rows_ = [{"id": origin[a.key], "text": t} for a, t in zip(articles, texts, strict=True)]
            dense[who] = _dense_recall(cache, rows_, qs)
            say(f"  {label}: {who} R@5 {recall[who]:.3f} (dense only {dense[who]:.3f})")
        base, new = recall["baseline"] * 100, recall["newsdesk"] * 100
        results.append(Result(f"R@5 ask(), {label} ({len(qs)} q): int8 ONNX vs fp32 torch", new, "%",
                              f">= {base - 1:.1f} % (baseline - 1 point)", new >= base - 1 - 1e-9, base))  # fmt: skip
        results.append(Result(f"R@5 dense only, {label}: int8 ONNX vs fp32 torch", dense["newsdesk"] * 100, "%",
                              None, None, dense["baseline"] * 100, "context: the model alone, no BM25"))  # fmt: skip
    return results
