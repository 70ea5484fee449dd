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

from .build import reindex_articles
from .errors import NewsdeskError
from .models import Article
from .search import Engine
from .text import fold, normalize_text

log = logging.getLogger(__name__)


class CachingEmbedder:
    """Remembers query vectors, so baselines measured on the same questions do not re-encode them."""

    def __init__(self, inner):
        self.inner = inner
        self.name = inner.name
        self._cache: dict[str, np.ndarray] = {}

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode_queries(self, texts):
        missing = [t for t in texts if t not in self._cache]
        if missing:
            for t, v in zip(missing, self.inner.encode_queries(missing), strict=True):
                self._cache[t] = v
        return np.vstack([self._cache[t] for t in texts])

    def encode_documents(self, texts, progress=None):
        return self.inner.encode_documents(texts, progress)


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
    from .articles import make_article

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


def _contains(quote: str, answers: Sequence[str]) -> bool:
    q = " ".join(fold(normalize_text(quote)).split())
    return any(" ".join(fold(normalize_text(a)).split()) in q for a in answers if a.strip())


def evaluate(engine: Engine, questions: Sequence[dict], key_of: dict[int, str], doc_of: dict[str, str],
             progress: bool = False) -> dict:  # fmt: skip
    """Run every question through `engine.ask` and compute the report."""
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
    threshold = engine.config.min_confidence
    for q in iterator:
        t0 = time.perf_counter()
        answer = engine.ask(q["question"], k=3)
        latencies.append((time.perf_counter() - t0) * 1000)
        impossible = bool(q.get("is_impossible"))
        if impossible:
            conf_neg.append(answer.confidence)
            abstained_neg += answer.confidence < threshold
            continue
        conf_pos.append(answer.confidence)
        answered_pos += answer.answered
        ranked = [key_of[a] for a in answer.ranking]
        ranks.append(ranked.index(q["passage_id"]) + 1 if q["passage_id"] in ranked else None)
        docs = list(dict.fromkeys(doc_of.get(p) for p in ranked))
        art_hits1 += q.get("doc_id") in docs[:1]
        art_hits5 += q.get("doc_id") in docs[:5]
        quotes = list(answer.quotes) + list(answer.more)
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
        "quote": {"hit@1": hit1 / n if n else 0.0, "hit@3": hit3 / n if n else 0.0},
        "abstention": None if not conf_neg else {
            "abstained_unanswerable": abstained_neg / len(conf_neg),
            "answered_answerable": answered_pos / n if n else 0.0,
            "auc": _auc(conf_pos, conf_neg),
            "threshold": threshold,
        },
        "latency_ms": {"p50": _percentile(latencies, 50), "p95": _percentile(latencies, 95)},
    }


BASELINES = {
    "bm25": {"dense_weight": {"*": 0.0}},
    "dense": {"dense_weight": {"*": 1.0}},
    "rrf": {"fusion": "rrf"},
}


def run_eval(passages: Path, questions: Path, settings, *, limit: int | None = None, baselines: bool = False,
             progress: bool = False, index_dir: Path | None = None) -> dict:  # fmt: skip
    """Index `passages` (one unit each) in a temporary folder and evaluate `questions` against it."""
    rows = read_jsonl(passages)
    qs = read_jsonl(questions)[: limit or None]
    if not rows or not qs:
        raise NewsdeskError("the evaluation set has no passages or no questions")
    engine = settings.make_engine()
    embedder = CachingEmbedder(engine.embedder)
    build = replace(engine.build, whole_articles=True, max_removal_share=1.0)
    with tempfile.TemporaryDirectory(prefix="newsdesk-eval-") as tmp:
        root = index_dir or Path(tmp) / "index"
        t0 = time.perf_counter()
        reindex_articles(Engine(root, embedder, build=build).dir, passages_as_articles(rows), embedder, build,
                         force=True)  # fmt: skip
        build_s = time.perf_counter() - t0
        main = Engine(root, embedder, engine.config, build)
        key_of = {ref.id: k for k, ref in _keys(main).items()}
        doc_of = {str(r["id"]): str(r.get("doc_id") or r["id"]) for r in rows}
        report = evaluate(main, qs, key_of, doc_of, progress)
        report.update(set=questions.name, passages_file=passages.name, model=embedder.name,
                      index_seconds=round(build_s, 2))  # fmt: skip
        if baselines:
            report["baselines"] = {}
            for name, overrides in BASELINES.items():
                cfg = replace(engine.config, **overrides)
                report["baselines"][name] = evaluate(Engine(root, embedder, cfg, build), qs, key_of, doc_of, progress)
    return report


def _keys(engine: Engine) -> dict[str, object]:
    snap = engine.snapshot
    with snap._db_lock:
        ids = dict(snap.db.execute("SELECT key, id FROM articles"))
    return {k: snap.articles[i] for k, i in ids.items()}


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
    return "\n".join(lines)
