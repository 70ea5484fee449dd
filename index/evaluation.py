"""`newsdesk eval`: passage retrieval, quote and abstention metrics on a QA set, through the real `ask` path."""

from __future__ import annotations

import json
import logging
import math
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from index.answer.answer_type import expected_type
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


@dataclass(frozen=True)
class Outcome:
    """What one question got: the figures of the report are sums over these."""

    question: str
    answers: tuple[str, ...]
    answer_type: str  # what the question asks for (index/answer/answer_type.py)
    pair: str  # the question's language, and "->" the gold passage's where it differs ("en->es")
    impossible: bool
    answered: bool
    confidence: float
    latency_ms: float
    rank: int | None = None  # of the gold passage in the ranking (None: not in it, or unanswerable)
    article_rank: int | None = None  # of the gold article among the ranking's articles
    hit: int | None = None  # the first of the first three quotes that holds an answer (1-based)
    quote: str | None = None  # the first quote shown (or withheld: an abstention still chose one)
    quote_article: str | None = None  # its article's key and title
    fixed: Mapping[str, float] = field(default_factory=dict)  # one retrieval score of the best passage
    # A "wrong quote" row (index/feedback/export.py), which has no gold passage: is the passage readers flagged
    # still quoted first? None for every other row.
    wrong_quote: bool | None = None


def _outcome(engine: Engine, q: dict, key_of: Mapping[int, str], doc_of: Mapping[str, str],
             lang_of: Mapping[str, str], fixed: bool) -> Outcome:  # fmt: skip
    """Ask one question (and, with `fixed`, search it) and record what came back."""
    t0 = time.perf_counter()
    answer = engine.ask(q["question"], k=3)
    latency = (time.perf_counter() - t0) * 1000
    impossible = bool(q.get("is_impossible"))
    gold = lang_of.get(q.get("passage_id") or "", answer.lang)
    base = Outcome(question=q["question"], answers=tuple(q.get("answers") or ()),
                   answer_type=expected_type(q["question"], answer.lang),
                   pair=answer.lang if gold == answer.lang else f"{answer.lang}->{gold}", impossible=impossible,
                   answered=answer.answered, confidence=answer.confidence, latency_ms=latency)  # fmt: skip
    if fixed:
        hits = engine.search(q["question"], k=1)
        base = replace(base, fixed={"dense": hits[0].dense if hits else 0.0, "score": hits[0].score if hits else 0.0})
    if impossible:
        return base
    if q.get("negative_passage_id"):
        shown = answer.quotes[0] if answer.quotes else None
        return replace(base, wrong_quote=shown is not None and key_of.get(shown.article.id) == q["negative_passage_id"])
    ranked = [key_of[a] for a in answer.ranking]
    docs = list(dict.fromkeys(doc_of.get(p) for p in ranked))
    doc = q.get("doc_id") or doc_of.get(q["passage_id"])  # without doc_id, as passages: its own passage
    quotes = list(answer.quotes) + list(answer.more)
    first = quotes[0] if quotes else None
    return replace(base, rank=ranked.index(q["passage_id"]) + 1 if q["passage_id"] in ranked else None,
                   article_rank=docs.index(doc) + 1 if doc in docs else None,
                   hit=next((i + 1 for i, x in enumerate(quotes[:3]) if _contains(x.text, base.answers)), None),
                   quote=first.text if first else None,
                   quote_article=f"{key_of.get(first.article.id, '?')}: {first.article.title}" if first else None)


def evaluate(engine: Engine, questions: Sequence[dict], key_of: dict[int, str], doc_of: dict[str, str],
             progress: bool = False, fixed: bool = True, lang_of: Mapping[str, str] | None = None) -> dict:  # fmt: skip
    """Run every question through `engine.ask` and compute the report.

    With unanswerable questions in the set (and `fixed`), the abstention report also gives what a fixed
    threshold on one retrieval score of the best passage (dense cosine, fused score) would do, answering as
    many answerable questions: the bar the confidence has to beat. `lang_of` (passage key -> language) names
    the language pairs of the breakdown; without it every question counts in its own language.
    """
    iterator = questions
    if progress:
        from tqdm import tqdm

        iterator = tqdm(questions, desc="questions", leave=False)
    searched = fixed and any(q.get("is_impossible") for q in questions)
    outcomes = [_outcome(engine, q, key_of, doc_of, lang_of or {}, searched) for q in iterator]
    return report_of(outcomes, engine.profile.min_confidence, fixed=searched)


def report_of(outcomes: Sequence[Outcome], threshold: float, *, fixed: bool = False) -> dict:
    """The report of a set from its questions' outcomes (`threshold`: the confidence the answers needed)."""
    pos = [o for o in outcomes if not o.impossible and o.wrong_quote is None]
    neg = [o for o in outcomes if o.impossible]
    wrong = [o.wrong_quote for o in outcomes if o.wrong_quote is not None]
    n = len(pos)

    def share(count: float, total: int) -> float:
        return count / total if total else 0.0

    def recall(k: int, attr: str = "rank") -> float:
        return share(sum(1 for o in pos if getattr(o, attr) is not None and getattr(o, attr) <= k), n)

    words = [len(o.quote.split()) for o in pos if o.quote is not None]
    answered = share(sum(o.answered for o in pos), n)
    return {
        "questions": len(outcomes),
        "answerable": n,
        "unanswerable": len(neg),
        "passage": {"r@1": recall(1), "r@5": recall(5), "r@20": recall(20),
                    "mrr": share(sum(1 / o.rank for o in pos if o.rank), n)},
        "article": {"r@1": recall(1, "article_rank"), "r@5": recall(5, "article_rank")},
        "quote": {"hit@1": share(sum(o.hit == 1 for o in pos), n), "hit@3": share(sum(o.hit is not None for o in pos), n),
                  "words_mean": float(np.mean(words)) if words else 0.0, "words_p95": _percentile(words, 95)},
        "abstention": None if not neg else {
            "abstained_unanswerable": share(sum(o.confidence < threshold for o in neg), len(neg)),
            "answered_answerable": answered,
            "auc": _auc([o.confidence for o in pos], [o.confidence for o in neg]),
            "threshold": threshold,
            "fixed": {key: _fixed_threshold([o.fixed[key] for o in pos], [o.fixed[key] for o in neg], answered)
                      for key in ("dense", "score")} if fixed else None,
        },
        "errors": {"answered_unanswerable": sum(o.answered for o in neg),
                   "abstained_answerable": sum(not o.answered for o in pos)},
        "by_type": _breakdown(pos, neg, "answer_type"),
        "by_pair": _breakdown(pos, neg, "pair"),
        "misses": [_miss(o) for o in pos if o.hit != 1][:MISSES],
        "latency_ms": {"p50": _percentile([o.latency_ms for o in outcomes], 50),
                       "p95": _percentile([o.latency_ms for o in outcomes], 95)},
        "wrong_quotes": {"questions": len(wrong), "quoted_first": share(sum(wrong), len(wrong))} if wrong else None,
    }  # fmt: skip


MISSES = 20  # example misses kept in a report: enough to see a pattern, short enough to read


def _breakdown(pos: Sequence[Outcome], neg: Sequence[Outcome], attr: str) -> dict[str, dict]:
    """Per answer type or language pair: answerable questions, first-quote hits, answered; unanswerable ones
    answered by mistake."""
    out: dict[str, dict] = {}
    for key in sorted({getattr(o, attr) for o in (*pos, *neg)}):
        mine = [o for o in pos if getattr(o, attr) == key]
        wrong = [o for o in neg if getattr(o, attr) == key]
        out[key] = {"answerable": len(mine), "hit@1": sum(o.hit == 1 for o in mine) / len(mine) if mine else None,
                    "answered": sum(o.answered for o in mine) / len(mine) if mine else None,
                    "unanswerable": len(wrong), "answered_unanswerable": sum(o.answered for o in wrong)}  # fmt: skip
    return out


def _miss(o: Outcome) -> dict:
    """A question whose first quote does not hold the answer, as the report shows it."""
    return {"question": o.question, "expected": list(o.answers), "answer_type": o.answer_type, "pair": o.pair,
            "answered": o.answered, "passage_rank": o.rank, "quote": o.quote, "article": o.quote_article}


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
        lang_of = {str(r["id"]): r["lang"] for r in rows if r.get("lang")}
        for path, qs in sets:
            texts = [q["question"] for q in qs]
            single = _single_query_ms(embedder, texts[:20])
            embedder.encode_queries(texts)
            report = evaluate(main, qs, key_of, doc_of, progress, lang_of=lang_of)
            report.update(set=path.name, passages_file=passages.name, model=embedder.name,
                          index_seconds=round(build_s, 2), query_embedding_ms=single)  # fmt: skip
            if baselines:
                report["baselines"] = {}
                for name, pipeline in BASELINES.items():
                    baseline = Engine(root, embedder, engine.config, build, pipeline=pipeline)
                    report["baselines"][name] = _without_examples(
                        evaluate(baseline, qs, key_of, doc_of, progress, fixed=False, lang_of=lang_of))
            reports.append(report)
    return reports


def _without_examples(report: dict) -> dict:
    """A baseline's report without its misses: the report file shows Newsdesk's own."""
    return {k: v for k, v in report.items() if k != "misses"}


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
    lines += _breakdown_lines(report)
    if report.get("wrong_quotes"):
        w = report["wrong_quotes"]
        lines.append(f"wrong quotes readers flagged: {w['quoted_first']:.3f} of {w['questions']} still quoted first")
    if report.get("query_embedding_ms") is not None:
        lines.append(f"latencies exclude the query embedding: {report['query_embedding_ms']:.1f} ms p50 alone")
    return "\n".join(lines)


def _breakdown_lines(report: dict) -> list[str]:
    """Quote hits per answer type and language pair, and the two kinds of abstention error."""
    lines = []
    for title, key in (("per answer type", "by_type"), ("per language pair", "by_pair")):
        parts = [f"{name} {_fmt(b['hit@1'])} ({b['answerable']})" for name, b in (report.get(key) or {}).items()
                 if b["answerable"]]  # fmt: skip
        if parts:
            lines.append(f"quote@1 {title} (questions): " + ", ".join(parts))
    errors = report.get("errors")
    if errors and report.get("unanswerable"):
        lines.append(f"abstention errors: answered {errors['answered_unanswerable']} of {report['unanswerable']} "
                     f"unanswerable, abstained on {errors['abstained_answerable']} of {report['answerable']} "
                     "answerable")  # fmt: skip
    if report.get("misses"):
        lines.append(f"{len(report['misses'])} example misses in the JSON report (--json, --out)")
    return lines
