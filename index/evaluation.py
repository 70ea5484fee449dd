"""`newsdesk eval`: passage retrieval, quote and abstention metrics on a QA set, through the real `ask` path."""

from __future__ import annotations

import json
import logging
import math
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from index.answer.fuse import dense_only, lexical_only, rrf
from index.answer.pipeline import Pipeline
from index.build.reindex import reindex_articles
from index.embedding import CachedEmbedder
from index.engine import Engine
from index.errors import NewsdeskError
from index.records import Article
from index.text.normalize import fold, normalize_text

log = logging.getLogger(__name__)


def read_jsonl(path: Path) -> list[dict]:
    try:
        with open(path, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
    except FileNotFoundError as exc:
        raise NewsdeskError(f"{path}: no such file") from exc
    except json.JSONDecodeError as exc:
        raise NewsdeskError(f"{path}: malformed JSON line ({exc.msg})") from exc


def passages_as_articles(rows: Sequence[dict]) -> list[Article]:
    """Each evaluation passage becomes one article (one unit, no re-chunking), keyed by its passage id."""
    from index.ingest.articles import make_article

    return [
        make_article(
            key=str(r["id"]), text=r["text"], path=None, fallback_title=str(r["id"]),
            meta={"title": r.get("title"), "url": r.get("source"), "lang": r.get("lang"), "date": r.get("date")},
        )
        for r in rows
    ]  # fmt: skip


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def _auc(pos: list[float], neg: list[float]) -> float | None:
    """P(a random answerable question scores above a random unanswerable one): the area under the trade-off."""
    if not pos or not neg:
        return None
    scores = np.array(pos + neg)
    order = scores.argsort(kind="stable")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    # average ranks over ties
    for value in np.unique(scores):
        idx = scores == value
        ranks[idx] = ranks[idx].mean()
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def _fixed_threshold(pos: list[float], neg: list[float], answered: float) -> dict | None:
    """A fixed threshold on one score, set to answer the same share of answerable questions as Newsdesk:
    the share of unanswerable ones it abstains on, and its AUC. The bar Newsdesk's confidence has to beat."""
    if not pos or not neg:
        return None
    cut = float(np.quantile(pos, 1 - answered)) if answered < 1 else min(pos)
    return {"abstained_unanswerable": float(np.mean(np.array(neg) < cut)), "auc": _auc(pos, neg), "threshold": cut}


def _contains(quote: str, answers: Sequence[str]) -> bool:
    q = " ".join(fold(normalize_text(quote)).split())
    return any(" ".join(fold(normalize_text(a)).split()) in q for a in answers if a.strip())


def evaluate(engine: Engine, questions: Sequence[dict], key_of: dict[int, str], doc_of: dict[str, str],
             progress: bool = False, fixed: bool = True) -> dict:  # fmt: skip
    """Run every question through `engine.ask` and compute the report.

    With unanswerable questions in the set (and `fixed`), the abstention report also gives what a fixed
    threshold on one retrieval score of the best passage (dense cosine, fused score) would do, answering as
    many answerable questions: the bar the confidence has to beat.
    """
    ranks: list[int | None] = []
    art_hits1 = art_hits5 = 0
    hit1 = hit3 = 0
    latencies: list[float] = []
    conf_pos: list[float] = []
    conf_neg: list[float] = []
    answered_pos = abstained_neg = 0
    iterator = questions
    if progress:
        from tqdm import tqdm

        iterator = tqdm(questions, desc="questions", leave=False)
    threshold = engine.profile.min_confidence
    has_negatives = fixed and any(q.get("is_impossible") for q in questions)
    fixed_pos: dict[str, list[float]] = {"dense": [], "score": []}
    fixed_neg: dict[str, list[float]] = {"dense": [], "score": []}
    quote_words: list[int] = []
    for q in iterator:
        t0 = time.perf_counter()
        answer = engine.ask(q["question"], k=3)
        latencies.append((time.perf_counter() - t0) * 1000)
        impossible = bool(q.get("is_impossible"))
        if has_negatives:
            # The comparison: a fixed threshold on one retrieval score of the best passage.
            hits = engine.search(q["question"], k=1)
            for key in fixed_pos:
                value = (hits[0].dense if key == "dense" else hits[0].score) if hits else 0.0
                (fixed_neg if impossible else fixed_pos)[key].append(value)
        if impossible:
            conf_neg.append(answer.confidence)
            abstained_neg += answer.confidence < threshold
            continue
        conf_pos.append(answer.confidence)
        answered_pos += answer.answered
        ranked = [key_of[a] for a in answer.ranking]
        ranks.append(ranked.index(q["passage_id"]) + 1 if q["passage_id"] in ranked else None)
        docs = list(dict.fromkeys(doc_of.get(p) for p in ranked))
        doc = q.get("doc_id") or doc_of.get(q["passage_id"])  # without doc_id, as passages: its own passage
        art_hits1 += doc in docs[:1]
        art_hits5 += doc in docs[:5]
        quotes = list(answer.quotes) + list(answer.more)
        if quotes:
            quote_words.append(len(quotes[0].text.split()))
        hit1 += any(_contains(x.text, q["answers"]) for x in quotes[:1])
        hit3 += any(_contains(x.text, q["answers"]) for x in quotes[:3])
    n = len(ranks)

    def recall(k: int) -> float:
        return sum(1 for r in ranks if r is not None and r <= k) / n if n else 0.0

    return {
        "questions": len(questions),
        "answerable": n,
        "unanswerable": len(conf_neg),
        "passage": {"r@1": recall(1), "r@5": recall(5), "r@20": recall(20),
                    "mrr": sum(1 / r for r in ranks if r) / n if n else 0.0},
        "article": {"r@1": art_hits1 / n if n else 0.0, "r@5": art_hits5 / n if n else 0.0},
        "quote": {"hit@1": hit1 / n if n else 0.0, "hit@3": hit3 / n if n else 0.0,
                  "words_mean": float(np.mean(quote_words)) if quote_words else 0.0,
                  "words_p95": _percentile(quote_words, 95)},
        "abstention": None if not conf_neg else {
            "abstained_unanswerable": abstained_neg / len(conf_neg),
            "answered_answerable": answered_pos / n if n else 0.0,
            "auc": _auc(conf_pos, conf_neg),
            "threshold": threshold,
            "fixed": {key: _fixed_threshold(fixed_pos[key], fixed_neg[key], answered_pos / n if n else 0.0)
                      for key in fixed_pos} if has_negatives else None,
        },
        "latency_ms": {"p50": _percentile(latencies, 50), "p95": _percentile(latencies, 95)},
    }


# One stage swapped each (index/answer/fuse.py): the ranking is BM25 alone, the dense score alone, or reciprocal
# rank fusion; none of them lets the dense score stand in for shared words across languages.
BASELINES = {"bm25": Pipeline(fuse=lexical_only), "dense": Pipeline(fuse=dense_only), "rrf": Pipeline(fuse=rrf)}


def run_eval(passages: Path, questions: Path, engine: Engine, *, limit: int | None = None, baselines: bool = False,
             progress: bool = False, index_dir: Path | None = None) -> dict:  # fmt: skip
    """Index `passages` (one unit each) in a temporary folder and evaluate `questions` against it."""
    return run_eval_sets(passages, [questions], engine, limit=limit, baselines=baselines, progress=progress,
                         index_dir=index_dir)[0]  # fmt: skip


def run_eval_sets(passages: Path, question_files: Sequence[Path], engine: Engine, *, limit: int | None = None,
                  baselines: bool = False, progress: bool = False, index_dir: Path | None = None,
                  embedder=None) -> list[dict]:  # fmt: skip
    """Index `passages` once and evaluate each questions file against it (one report per file).

    `engine` gives the embedder, the search config and the build options (as the caller composed them: the
    evaluation never reads the bot's settings); its own index is not touched.

    Questions are embedded in batches first (through a CachedEmbedder, reused by the baselines), so the
    latencies are those of `ask` once the query vector is known; `query_embedding_ms` gives the p50 time
    of encoding one question alone, measured on a sample.
    """
    rows = read_jsonl(passages)
    sets = [(path, read_jsonl(path)[: limit or None]) for path in question_files]
    if not rows or not all(qs for _, qs in sets):
        raise NewsdeskError("the evaluation set has no passages or no questions")
    embedder = embedder or CachedEmbedder(engine.embedder, queries={})
    build = replace(engine.build, whole_articles=True, max_removal_share=1.0)
    reports = []
    with tempfile.TemporaryDirectory(prefix="newsdesk-eval-") as tmp:
        root = index_dir or Path(tmp) / "index"
        t0 = time.perf_counter()
        reindex_articles(Engine(root, embedder, build=build).dir, passages_as_articles(rows), embedder, build,
                         force=True)  # fmt: skip
        build_s = time.perf_counter() - t0
        main = Engine(root, embedder, engine.config, build)
        key_of = {ref.id: k for k, ref in _keys(main).items()}
        doc_of = {str(r["id"]): str(r.get("doc_id") or r["id"]) for r in rows}
        for path, qs in sets:
            texts = [q["question"] for q in qs]
            single = _single_query_ms(embedder, texts[:20])
            embedder.encode_queries(texts)
            report = evaluate(main, qs, key_of, doc_of, progress)
            report.update(set=path.name, passages_file=passages.name, model=embedder.name,
                          index_seconds=round(build_s, 2), query_embedding_ms=single)  # fmt: skip
            if baselines:
                report["baselines"] = {}
                for name, pipeline in BASELINES.items():
                    baseline = Engine(root, embedder, engine.config, build, pipeline=pipeline)
                    report["baselines"][name] = evaluate(baseline, qs, key_of, doc_of, progress, fixed=False)
            reports.append(report)
    return reports


def _single_query_ms(embedder, texts: Sequence[str]) -> float | None:
    """p50 time to encode one question alone (what `ask` pays before the rest), on a few questions."""
    inner = getattr(embedder, "inner", None)
    if inner is None or not texts:
        return None
    inner.encode_queries(texts[:1])  # warm up
    times = []
    for t in texts:
        t0 = time.perf_counter()
        inner.encode_queries([t])
        times.append((time.perf_counter() - t0) * 1000)
    return round(_percentile(times, 50), 2)


def _keys(engine: Engine) -> dict[str, object]:
    snap = engine.snapshot
    return {k: snap.articles[i] for k, i in snap.keys().items()}


def _fmt(v) -> str:
    return "-" if v is None else (f"{v:.3f}" if isinstance(v, float) and not math.isnan(v) else str(v))


def format_report(report: dict) -> str:
    """A plain table of the main figures, with baselines under them when measured."""
    head = f"{report.get('set', '')}: {report['questions']} questions, model {report.get('model', '')}"
    cols = ["method", "R@1", "R@5", "R@20", "MRR", "art R@1", "art R@5", "quote@1", "quote@3", "abst.", "ans.",
            "AUC", "p50 ms", "p95 ms"]  # fmt: skip
    lines = [head, " | ".join(cols)]

    def row(name: str, r: dict) -> str:
        ab = r["abstention"] or {}
        vals = [r["passage"]["r@1"], r["passage"]["r@5"], r["passage"]["r@20"], r["passage"]["mrr"],
                r["article"]["r@1"], r["article"]["r@5"], r["quote"]["hit@1"], r["quote"]["hit@3"],
                ab.get("abstained_unanswerable"), ab.get("answered_answerable"), ab.get("auc"),
                r["latency_ms"]["p50"], r["latency_ms"]["p95"]]  # fmt: skip
        return " | ".join([name, *(_fmt(v) if i < 11 else f"{v:.1f}" for i, v in enumerate(vals))])

    lines.append(row("newsdesk", report))
    for name, r in (report.get("baselines") or {}).items():
        lines.append(row(name, r))
    q = report["quote"]
    lines.append(f"first quote: {q.get('words_mean', 0):.1f} words on average, p95 {q.get('words_p95', 0):.0f}")
    ab = report.get("abstention") or {}
    for key, f in (ab.get("fixed") or {}).items():
        if f:
            lines.append(f"fixed threshold on the best passage's {key}, answering as many: abstains on "
                         f"{f['abstained_unanswerable']:.3f} of unanswerable, AUC {_fmt(f['auc'])}")  # fmt: skip
    if report.get("query_embedding_ms") is not None:
        lines.append(f"latencies exclude the query embedding: {report['query_embedding_ms']:.1f} ms p50 alone")
    return "\n".join(lines)
