"""Fit the re-ranking formula (Profile.rerank_weights, index/answer/rerank.py) on the dev sets.

    python -m benchmarks.fit_rerank [--limit N] [--l2 0.001] [--variants x_en,all,per_language,no_cosines] [--out F]

Dev sets only (never piaf.test): piaf.dev and xquad_en for the passages in the question's language, the
cross-lingual XQuAD sets (en->de, en->es, es->en) for "x". Each set's passages are indexed as `make eval`
indexes them (one article each, benchmarks/cache's vectors), and every question is asked through the real
`Engine.ask` with the fitted path switched on (the hand-set formula as its table, so the order is unchanged): the
re-ranking stage is wrapped to record the FEATURES each passage of its pool shows, as serving computes them.

The model: a conditional logit (softmax over the pool, the gold passage the positive; questions whose gold
passage is not in the pool are left out), L2 on standardized features, weights kept non-negative (more
evidence never ranks a passage lower), one weight block per case ("*" or per question language, and "x"),
fitted jointly with scipy's L-BFGS-B. Each block is then mapped onto the hand-set scores by a scale and an offset
(`calibrated`; the ranking is unchanged by them): the final scores stay on the scale the margins, the quote
cut-off and the abstention models were set on.

Out of sample: two folds by article (XQuAD's articles are one set of 48 in four languages: a fold holds an
article in every language), fit on one, asked through the real pipeline with those weights on the other;
R@1 / R@5 / quote hit@1 are counted by index/evaluation.py, beside the hand-set formula on the same index.
Prints, per variant, the two-fold figures and the weights fitted on every dev question (what the profile
keeps: "x_en" for multilingual-e5-small, index/tuning.py).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

from .common import EVAL

# name -> (passages, questions, case): "same" (the question's language) or "x" (across languages)
SETS = {
    "piaf.dev": ("piaf.passages.jsonl", "piaf.dev.questions.jsonl"),
    "xquad_en": ("xquad_en.passages.jsonl", "xquad_en.questions.jsonl"),
    "xquad_en2de": ("xquad_de.passages.jsonl", "xquad_en2de.questions.jsonl"),
    "xquad_en2es": ("xquad_es.passages.jsonl", "xquad_en2es.questions.jsonl"),
    "xquad_es2en": ("xquad_en.passages.jsonl", "xquad_es2en.questions.jsonl"),
}
COSINES = ("sentence_dense", "sentence_dense_pool")
# Which features each variant offers (index/answer/rerank.py FEATURES), how it splits the cases, and which
# tables it keeps (a case left out keeps the hand-set formula): "x_en" fits as "per_language" does and leaves the
# French questions ("*") on the hand-set formula.
VARIANTS = {
    "all": {"drop": (), "per_language": False, "keep": ("x", "*")},
    "no_cosines": {"drop": COSINES, "per_language": False, "keep": ("x", "*")},
    "per_language": {"drop": (), "per_language": True, "keep": ("x", "*", "en")},
    "x_en": {"drop": (), "per_language": True, "keep": ("x", "en")},
}


def _doc(q: dict) -> str:
    """The article a question is about, one name across XQuAD's languages ("xquad_de-a012" -> "xquad-a012")."""
    doc = q.get("doc_id") or q["passage_id"].rsplit("-", 1)[0]
    return "xquad-" + doc.rsplit("-", 1)[-1] if doc.startswith("xquad") else doc


def folds(questions: Sequence[dict], seed: int = 7) -> dict[str, int]:
    """Article -> fold (0 or 1), half of the articles each."""
    docs = sorted({_doc(q) for q in questions})
    random.Random(seed).shuffle(docs)
    return {d: int(i >= len(docs) // 2) for i, d in enumerate(docs)}


class Recorder:
    """Wraps the pipeline's re-ranking stage: each call's pool (best first) with its passages' FEATURES."""

    def __init__(self, real):
        self.real = real
        self.calls: list[tuple[list, dict]] = []

    def __call__(self, pool, store, *args, **kwargs):
        out = self.real(pool, store, *args, **kwargs)
        self.calls.append(([c for c in pool if c.pid in out.signals], dict(out.signals)))
        return out


def record(engine, questions: Sequence[dict], key_of: dict[int, str], name: str) -> list[dict]:
    """Ask each question through `engine` and keep, per question, its pool's features and where its gold is."""
    import index.answer.pipeline as pipeline
    from index.answer.rerank import FEATURES

    recorder = Recorder(pipeline.rerank)
    pipeline.rerank = recorder
    rows = []
    try:
        for q in questions:
            before = len(recorder.calls)
            answer = engine.ask(q["question"], k=3)
            if len(recorder.calls) != before + 1:
                raise RuntimeError(f"{len(recorder.calls) - before} re-rankings for one question ({q['id']})")
            pool, signals = recorder.calls[-1]
            keys = [key_of[c.article] for c in pool]
            rows.append({"set": name, "doc": _doc(q), "lang": answer.lang,
                         "gold": keys.index(q["passage_id"]) if q["passage_id"] in keys else None,
                         "cross": np.array([c.cross for c in pool], dtype=bool),
                         "x": np.array([[signals[c.pid][f] for f in FEATURES] for c in pool], dtype=float)})  # fmt: skip
    finally:
        pipeline.rerank = recorder.real
    return rows


def blocks(row: dict, per_language: bool) -> np.ndarray:
    """Per passage of the pool, the index of its weight block: 0 "x", 1 "*" (the question's language), 2 "en"
    when `per_language` (English questions get a block of their own)."""
    return np.where(row["cross"], 0, 1 + (per_language and row["lang"] == "en"))


def design(rows: Sequence[dict], keep: np.ndarray, per_language: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Padded pools (questions x 20 x blocks*features), their mask, and the gold's place; gold in the pool only."""
    used = [r for r in rows if r["gold"] is not None and len(r["x"]) > 1]
    n_blocks, width = 3, int(keep.sum())
    depth = max(len(r["x"]) for r in used)
    x = np.zeros((len(used), depth, n_blocks * width))
    mask = np.zeros((len(used), depth), dtype=bool)
    for i, r in enumerate(used):
        for j, b in enumerate(blocks(r, per_language)):
            x[i, j, b * width : (b + 1) * width] = r["x"][j, keep]
        mask[i, : len(r["x"])] = True
    return x, mask, np.array([r["gold"] for r in used])


def fit_logit(x: np.ndarray, mask: np.ndarray, gold: np.ndarray, l2: float) -> np.ndarray:
    """Weights (raw feature units) of the conditional logit, non-negative, L2 on standardized features."""
    flat = x[mask]
    mean, std = flat.mean(axis=0), flat.std(axis=0)
    std = np.where(std > 1e-9, std, 1.0)
    xs = np.where(mask[..., None], (x - mean) / std, 0.0)
    rows = np.arange(len(gold))

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = np.where(mask, xs @ w, -np.inf)
        lse = logsumexp(s, axis=1)
        p = np.exp(s - lse[:, None])
        value = float(np.mean(lse - s[rows, gold])) + l2 * float(w @ w)
        grad = np.mean(np.einsum("qj,qjf->qf", p, xs) - xs[rows, gold], axis=0) + 2 * l2 * w
        return value, grad

    w0 = np.zeros(x.shape[2])
    found = minimize(loss, w0, jac=True, method="L-BFGS-B", bounds=[(0, None)] * len(w0))
    return found.x / std


def tables(w: np.ndarray, rows: Sequence[dict], keep: np.ndarray, spec: dict) -> dict[str, dict[str, float]]:
    """The weight blocks as Profile.rerank_weights, each mapped onto the hand-set scale (`calibrated`)."""
    from index.answer.rerank import FEATURES

    names = [f for f, k in zip(FEATURES, keep, strict=True) if k]
    width = len(names)
    per_language = spec["per_language"]
    out = {}
    for b, key in enumerate(("x", "*", "en") if per_language else ("x", "*")):
        if key not in spec["keep"]:
            continue
        pools = [r["x"][blocks(r, per_language) == b] for r in rows]
        pools = [x for x in pools if len(x) > 1]
        block = w[b * width : (b + 1) * width]
        if not pools or not block.any():
            continue  # a case the data did not show: the hand-set formula stays
        scale, bias = calibrated(block, keep, pools)
        table = {n: round(float(v * scale), 4) for n, v in zip(names, block, strict=True) if v * scale >= 5e-4}
        out[key] = {"bias": round(bias, 4), **table}
    return out


def calibrated(block: np.ndarray, keep: np.ndarray, pools: Sequence[np.ndarray]) -> tuple[float, float]:
    """Scale and offset that put the fitted scores on the hand-set ones: the first passage's lead over the second is on
    on average the hand-set one's (the `margin` the abstention models read), and so is the mean score (what the quote cut-off
    `min_relative_score` and a pool mixing both cases compare)."""
    from index.answer.rerank import FEATURES, hand_set

    base = np.array([hand_set(0.6).get(f, 0.0) for f in FEATURES])
    fitted = [x[:, keep] @ block for x in pools]
    now = [x @ base for x in pools]
    lead = float(np.mean([np.diff(np.sort(s)[-2:])[0] for s in fitted]))
    scale = float(np.mean([np.diff(np.sort(s)[-2:])[0] for s in now])) / lead if lead > 0 else 1.0
    bias = float(np.mean(np.concatenate(now)) - scale * np.mean(np.concatenate(fitted)))
    return scale, bias


def offline(rows: Sequence[dict], weights: dict | None, sentence_weight: float) -> dict[str, float]:
    """Gold passages first / in the first five of the recorded pools re-sorted by `weights` (None: the hand-set
    formula), counted over every question (a gold passage outside the pool counts as a miss)."""
    from index.answer.rerank import FEATURES, hand_set, table_for

    hit1 = hit5 = 0
    for r in rows:
        if r["gold"] is None:
            continue
        scores = []
        for j, cross in enumerate(r["cross"]):
            table = (table_for(weights, r["lang"], bool(cross)) if weights else None) or hand_set(sentence_weight)
            scores.append(sum(table.get(f, 0.0) * v for f, v in zip(FEATURES, r["x"][j], strict=True)))
        order = sorted(range(len(scores)), key=lambda j: -scores[j])  # stable: ties in the pool's order
        place = order.index(r["gold"])
        hit1 += place == 0
        hit5 += place < 5
    return {"hit1": hit1, "hit5": hit5, "n": len(rows)}


def fit(rows: Sequence[dict], variant: str, l2: float) -> dict:
    from index.answer.rerank import FEATURES

    spec = VARIANTS[variant]
    keep = np.array([f not in spec["drop"] for f in FEATURES])
    x, mask, gold = design(rows, keep, spec["per_language"])
    w = fit_logit(x, mask, gold, l2)
    return tables(w, [r for r in rows if r["gold"] is not None], keep, spec)


def _index(rows: list[dict], embedder, root: Path) -> None:
    from .fit_profile import _index as build

    build(rows, embedder, root)


def _engine(root: Path, embedder, weights: dict | None):
    from index.answer.config import SearchConfig
    from index.engine import Engine

    return Engine(root, embedder, SearchConfig(rerank_weights=weights))


def _read(name: str) -> list[dict]:
    from index.evaluation import read_jsonl

    return read_jsonl(EVAL / name)


def measured(engine, questions: Sequence[dict], passages: list[dict]) -> dict:
    """R@1, R@5, quote hit@1 and the questions counted, by index/evaluation.py (the figures of `make eval`)."""
    from index.evaluation import evaluate

    key_of = {i: k for k, i in engine.snapshot.keys().items()}
    doc_of = {str(r["id"]): str(r.get("doc_id") or r["id"]) for r in passages}
    lang_of = {str(r["id"]): r["lang"] for r in passages if r.get("lang")}
    report = evaluate(engine, questions, key_of, doc_of, lang_of=lang_of)
    return {"n": len(questions), "r@1": report["passage"]["r@1"], "r@5": report["passage"]["r@5"],
            "hit@1": report["quote"]["hit@1"], "p50_ms": report["latency_ms"]["p50"]}  # fmt: skip


def pooled(parts: Sequence[dict]) -> dict:
    n = sum(p["n"] for p in parts)
    return {"n": n, **{m: round(sum(p[m] * p["n"] for p in parts) / n, 4) for m in ("r@1", "r@5", "hit@1", "p50_ms")}}


def prepare(embedder, tmp: Path, limit: int | None) -> dict:
    """Per set: its index root, passages and questions (the first `limit`), each passages file indexed once."""
    roots: dict[str, Path] = {}
    out = {}
    for name, (pfile, qfile) in SETS.items():
        passages = _read(pfile)
        if pfile not in roots:
            roots[pfile] = tmp / pfile.split(".")[0]
            _index(passages, embedder, roots[pfile])
        questions = [q for q in _read(qfile) if not q.get("is_impossible")][: limit or None]
        embedder.encode_queries([q["question"] for q in questions])
        out[name] = {"root": roots[pfile], "passages": passages, "questions": questions}
    return out


def two_fold(sets: dict, embedder, rows: list[dict], fold_of: dict[str, int], variant: str, l2: float) -> dict:
    """Each fold's weights, fitted on the other fold's articles, asked on its own through the real pipeline."""
    fitted = {f: fit([r for r in rows if fold_of[r["doc"]] != f], variant, l2) for f in (0, 1)}
    out: dict = {"weights": fitted, "sets": {}, "offline": {}}
    for name, s in sets.items():
        parts = []
        for f in (0, 1):
            qs = [q for q in s["questions"] if fold_of[_doc(q)] == f]
            parts.append(measured(_engine(s["root"], embedder, fitted[f]), qs, s["passages"]))
        out["sets"][name] = pooled(parts)
        held = [offline([r for r in rows if r["set"] == name and fold_of[r["doc"]] == f], fitted[f], 0.6)
                for f in (0, 1)]
        n = sum(h["n"] for h in held)
        out["offline"][name] = {"r@1": sum(h["hit1"] for h in held) / n, "r@5": sum(h["hit5"] for h in held) / n}
        print(f"  {variant} l2={l2} {name}: {out['sets'][name]}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fit_rerank", description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="first N questions of each set (a quick look)")
    parser.add_argument("--l2", default="0.001", help="comma-separated L2 strengths to try (0.001, 0.01, 0.1: the "
                        "first was the best on every dev set)")
    parser.add_argument("--variants", default="x_en,all,per_language,no_cosines", help=f"of {', '.join(VARIANTS)}")
    parser.add_argument("--out", type=Path, default=None, help="write every figure and weight here (JSON)")
    args = parser.parse_args(argv)
    from .eval_all import dev_embedder

    cached = dev_embedder("fit_rerank")
    if cached is None:
        return 3
    embedder, disk = cached
    from index.answer.rerank import hand_set

    started = time.perf_counter()
    result: dict = {"model": embedder.name, "hand_set": {}, "fits": {}}
    with tempfile.TemporaryDirectory(prefix="newsdesk-fit-rerank-") as tmp:
        sets = prepare(embedder, Path(tmp), args.limit)
        disk.save()
        rows: list[dict] = []
        # Today's formula through the fitted path: its table names the cosines (at 0), so the pool's sentence
        # cosines are computed, as they are where a fitted table reads them.
        recording = {"*": hand_set(0.6), "x": hand_set(0.6)}
        for name, s in sets.items():
            engine = _engine(s["root"], embedder, None)
            result["hand_set"][name] = measured(engine, s["questions"], s["passages"])
            key_of = {i: k for k, i in engine.snapshot.keys().items()}
            rows += record(_engine(s["root"], embedder, recording), s["questions"], key_of, name)
            counts = offline([r for r in rows if r["set"] == name], None, 0.6)
            offline_hand_set = {"r@1": counts["hit1"] / counts["n"], "r@5": counts["hit5"] / counts["n"]}
            print(f"hand-set {name}: {result['hand_set'][name]} (recorded pools: {offline_hand_set})", flush=True)
            disk.save()
        fold_of = folds([q for s in sets.values() for q in s["questions"]])
        for variant in args.variants.split(","):
            for l2 in (float(v) for v in args.l2.split(",")):
                key = f"{variant} l2={l2}"
                result["fits"][key] = two_fold(sets, embedder, rows, fold_of, variant, l2)
                result["fits"][key]["all_dev"] = fit(rows, variant, l2)
                print(f"fit_rerank: {key}: rerank_weights={json.dumps(result['fits'][key]['all_dev'])}", flush=True)
        disk.save()
    result["seconds"] = round(time.perf_counter() - started, 1)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"fit_rerank: done in {result['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
