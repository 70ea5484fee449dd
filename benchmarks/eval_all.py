"""`make eval`: every evaluation set through the real `ask` path, with baselines, in one table.

Sets (from ../shared/eval beside the project): piaf.dev and piaf.test (the same 761 French paragraphs, indexed
once), piaf_abstain, xquad_en, squad2_dev, and the cross-lingual XQuAD sets (English questions over the Spanish
and German paragraphs, Spanish questions over the English ones). Each set is indexed in a temporary folder, one paragraph per
article, and measured by `index.evaluation` (what `newsdesk eval --baselines` prints for one set) with
Newsdesk's fusion and the baselines BM25 alone, dense alone and reciprocal rank fusion.

The model is whatever Newsdesk's settings choose for a new index (the default, unless NEWSDESK_MODEL or
NEWSDESK_BACKEND say otherwise; no `.env`). For piaf.dev and xquad_en it also asks every answerable question
once more through `Engine.ask` on the same index and counts, with benchmarks/common.py's `answer_stats` (the
function `make bench` uses): R@5 of the ranking, answered, R@5 counting answered questions only, and the first
quote holding the answer. Those figures are the floors `make bench` is anchored to: a full run (no --limit)
records them in benchmarks/floors.json under the embedder's identity where there are none or where they are
higher, and checks them first against the floors already committed for that identity (a drop of more than
one point is a miss). `--set-floors` records this run's figures even where they are lower (a deliberate
trade-off, visible in the file's history).

Writes the table, with the date, the command and the model, into docs/quality.md between the markers
below (a rerun replaces it), and every figure to benchmarks/eval_results.json. About 10 minutes on 2 cores
(20 when other work shares them); passage and question vectors are cached in benchmarks/cache for reruns.
`--limit N` keeps the first N questions of each set.

Exit status: 0 when every target passes, 1 when one is missed, 3 when nothing is missed but something could
not be checked ("SKIPPED: <why>": the evaluation data in ../shared/eval is missing, or a floor is missing
for a --limit run); --report-only always exits 0.

    python -m benchmarks.eval_all [--limit N] [--sets piaf.dev,xquad_en] [--no-write] [--report-only]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index.answer.answer_type import TYPES
from index.embedding import CachedEmbedder
from index.engine import Engine

from .common import (
    EVAL,
    ROOT,
    HashedVectors,
    answer_stats,
    embedder_identity,
    floor_result,
    identity_key,
    newsdesk_settings,
    record_floors,
)

EXIT_OK, EXIT_MISS, EXIT_SKIPPED = 0, 1, 3
# The sets whose answer figures anchor `make bench` (benchmarks/quality.py, load.py).
ANCHOR_SETS = ("piaf.dev", "xquad_en")
ANCHOR_METRICS = ("r@5", "answered", "answered_r@5", "quote_hit@1")
DOC = ROOT / "docs" / "quality.md"
RESULTS = ROOT / "benchmarks" / "eval_results.json"
BEGIN = "<!-- eval_all:begin (written by `make eval`; edits between these markers are replaced) -->"
END = "<!-- eval_all:end -->"

# passages file -> the question sets measured against it
GROUPS = {
    "piaf.passages.jsonl": {"piaf.dev": "piaf.dev.questions.jsonl", "piaf.test": "piaf.test.questions.jsonl"},
    "piaf_abstain.passages.jsonl": {"piaf_abstain": "piaf_abstain.questions.jsonl"},
    "xquad_en.passages.jsonl": {"xquad_en": "xquad_en.questions.jsonl", "xquad_es2en": "xquad_es2en.questions.jsonl"},
    "xquad_es.passages.jsonl": {"xquad_en2es": "xquad_en2es.questions.jsonl"},
    "xquad_de.passages.jsonl": {"xquad_en2de": "xquad_en2de.questions.jsonl"},
    "squad2_dev.passages.jsonl": {"squad2_dev": "squad2_dev.questions.jsonl"},
}
LANG = {"piaf.dev": "fr", "piaf.test": "fr", "piaf_abstain": "fr", "xquad_en": "en", "squad2_dev": "en",
        "xquad_es2en": "es->en", "xquad_en2es": "en->es", "xquad_en2de": "en->de"}


def _get(report: dict, path: str):
    value = report
    for part in path.split("."):
        value = (value or {}).get(part)
    return value


# (set, what, metric path, minimum)
# The targets of the multilingual-model issue, for the shipped default (piaf.test: report only, never tuned on).
TARGETS = [
    ("piaf.test", "R@1", "passage.r@1", 0.78),
    ("piaf.test", "R@5", "passage.r@5", 0.93),
    ("piaf.test", "quote hit@1", "quote.hit@1", 0.66),
    ("xquad_en", "R@1", "passage.r@1", 0.97),
    ("xquad_en", "quote hit@1", "quote.hit@1", 0.85),
    *[(name, what, path, minimum) for name in ("xquad_en2es", "xquad_en2de", "xquad_es2en")
      for what, path, minimum in (("R@1", "passage.r@1", 0.85), ("quote hit@1", "quote.hit@1", 0.60))],
    ("piaf_abstain", "abstains on unanswerable", "abstention.abstained_unanswerable", 0.72),
    ("piaf_abstain", "answers answerable", "abstention.answered_answerable", 0.90),
    ("squad2_dev", "abstains on unanswerable", "abstention.abstained_unanswerable", 0.20),
    ("squad2_dev", "answers answerable", "abstention.answered_answerable", 0.90),
]
# The targets of the answers issue ("the right quote or an honest 'not in the articles'"), stricter, same rules.
ANSWER_TARGETS = [
    ("piaf.test", "R@1", "passage.r@1", 0.80),
    ("piaf.test", "R@5", "passage.r@5", 0.94),
    ("piaf.test", "quote hit@1", "quote.hit@1", 0.72),
    ("xquad_en", "quote hit@1", "quote.hit@1", 0.88),
    *[(name, "quote hit@1", "quote.hit@1", 0.75) for name in ("xquad_en2es", "xquad_en2de", "xquad_es2en")],
    ("piaf_abstain", "abstains on unanswerable", "abstention.abstained_unanswerable", 0.78),
    ("piaf_abstain", "answers answerable", "abstention.answered_answerable", 0.90),
    ("squad2_dev", "abstains on unanswerable", "abstention.abstained_unanswerable", 0.30),
    ("squad2_dev", "answers answerable", "abstention.answered_answerable", 0.90),
]


def floor_targets(reports: dict[str, dict], key: str) -> list[dict]:
    """The anchor sets' answer figures against the floors committed for this embedder (benchmarks/floors.json)."""
    out = []
    for name, r in reports.items():
        stats = r.get("answers")
        if not stats:
            continue
        for metric in ANCHOR_METRICS:
            res = floor_result(f"{metric}", stats[metric], key, [(name, metric, stats["n"])])
            out.append({"set": name, "target": f"{metric} no more than a point below the committed floor"
                        + (f" ({res.target})" if res.target and not res.skipped else ""),
                        "value": stats[metric], "pass": res.passed, "skipped": res.skipped,
                        "floor": None if res.baseline is None else res.baseline / 100})  # fmt: skip
    return out


def check_targets(reports: dict[str, dict]) -> list[dict]:
    """Every target with its measured value and verdict; sets not measured are left out."""
    out = []
    for targets, issue in ((TARGETS, ""), (ANSWER_TARGETS, " (answers issue)")):
        for name, what, path, minimum in targets:
            if name in reports:
                value = _get(reports[name], path)
                out.append({"set": name, "target": f"{what} >= {minimum}{issue}", "value": value,
                            "pass": value is not None and value >= minimum})  # fmt: skip
    for name, r in reports.items():
        ab = r.get("abstention") or {}
        for key, fixed in (ab.get("fixed") or {}).items():
            if fixed:
                value = ab["abstained_unanswerable"]
                out.append({"set": name, "target": f"abstains more than a fixed threshold on the best {key} "
                            f"({fixed['abstained_unanswerable']:.3f}), answering as many",
                            "value": value, "pass": value > fixed["abstained_unanswerable"]})  # fmt: skip
        base = r.get("baselines") or {}
        if "bm25" in base and "dense" in base:
            worse = [m for m in ("r@1", "r@5", "mrr")
                     if r["passage"][m] < max(base["bm25"]["passage"][m], base["dense"]["passage"][m])]  # fmt: skip
            out.append({"set": name, "target": "fusion >= its better component (R@1, R@5, MRR)",
                        "value": ", ".join(worse) or "none worse", "pass": not worse})  # fmt: skip
    return out


def _f(v, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def table(reports: dict[str, dict]) -> list[str]:
    """One markdown table: a row per set and method."""
    head = ["set", "lang", "method", "R@1", "R@5", "R@20", "MRR", "quote@1", "quote@3", "quote words",
            "abstains", "answers", "AUC", "p50 ms"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, report in reports.items():
        for method, r in [("newsdesk", report), *(report.get("baselines") or {}).items()]:
            ab = r.get("abstention") or {}
            cells = [name, LANG.get(name, ""), method if method != "newsdesk" else "**newsdesk**",
                     _f(r["passage"]["r@1"]), _f(r["passage"]["r@5"]), _f(r["passage"]["r@20"]),
                     _f(r["passage"]["mrr"]), _f(r["quote"]["hit@1"]), _f(r["quote"]["hit@3"]),
                     _f(r["quote"].get("words_mean"), 1), _f(ab.get("abstained_unanswerable")),
                     _f(ab.get("answered_answerable")), _f(ab.get("auc")), _f(r["latency_ms"]["p50"], 1)]  # fmt: skip
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def summary(reports: dict[str, dict], targets: list[dict], command: str, seconds: float) -> list[str]:
    first = next(iter(reports.values()))
    total = sum(r["questions"] for r in reports.values())
    lines = [f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{command}` in {seconds / 60:.1f} min; "
             f"embedder {first.get('embedder') or first.get('model')}; {total} questions.", "", *table(reports),
             ""]  # fmt: skip
    lines.append("Latencies are `ask` once the query vector is known (questions are embedded in batches first); "
                 f"one question alone takes {_f(first.get('query_embedding_ms'), 1)} ms more to embed. "
                 "Abstention: share of unanswerable questions abstained on, share of answerable ones answered, "
                 "AUC of the confidence.")  # fmt: skip
    for name, r in reports.items():
        for key, fixed in ((r.get("abstention") or {}).get("fixed") or {}).items():
            if fixed:
                lines.append(f"- {name}: a fixed threshold on the best passage's {key}, answering as many answerable "
                             f"questions, abstains on {fixed['abstained_unanswerable']:.3f} of unanswerable ones "
                             f"(AUC {_f(fixed['auc'])}).")  # fmt: skip
    anchored = [(name, r["answers"]) for name, r in reports.items() if r.get("answers")]
    if anchored:
        lines += ["", "Answers of the sets `make bench` is anchored to, counted by `benchmarks.common.answer_stats`: "
                  "R@5 of the ranking, answered, R@5 counting answered questions only, first quote holds the answer.",
                  "", "| set | questions | R@5 | answered | R@5, answered only | quote@1 |", "|---|---|---|---|---|---|"]
        for name, a in anchored:
            lines.append(f"| {name} | {a['n']} | {_f(a['r@5'])} | {_f(a['answered'])} | {_f(a['answered_r@5'])} | "
                         f"{_f(a['quote_hit@1'])} |")  # fmt: skip
    lines += breakdown(reports)
    lines += ["", "| set | target | measured | verdict |", "|---|---|---|---|"]
    for t in targets:
        value = _f(t["value"]) if isinstance(t["value"], float) else str(t["value"])
        verdict = f"**skip**: {t['skipped']}" if t.get("skipped") else ("pass" if t["pass"] else "**miss**")
        lines.append(f"| {t['set']} | {t['target']} | {value} | {verdict} |")
    misses = sum(t["pass"] is False for t in targets)
    skips = sum(bool(t.get("skipped")) for t in targets)
    lines += ["", f"**{sum(t['pass'] is True for t in targets)} pass, {misses} miss, {skips} skip.**"]
    return lines


def breakdown(reports: dict[str, dict]) -> list[str]:
    """The first quote's hits per answer type (index/answer/answer_type.py), and the two abstention errors."""
    types = [t for t in TYPES if any((r.get("by_type") or {}).get(t, {}).get("answerable") for r in reports.values())]
    if not types:
        return []
    names = list(reports)
    lines = ["", "Quote hit@1 per answer type the question asks for (answerable questions in brackets):", "",
             "| type | " + " | ".join(names) + " |", "|" + "---|" * (len(names) + 1)]  # fmt: skip
    for t in types:
        cells = []
        for name in names:
            b = (reports[name].get("by_type") or {}).get(t) or {}
            cells.append(f"{_f(b['hit@1'])} ({b['answerable']})" if b.get("answerable") else "-")
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    errors = [(name, r) for name, r in reports.items() if r.get("unanswerable") and r.get("errors")]
    if errors:
        lines += ["", "Abstention errors: unanswerable questions answered, answerable ones abstained on.", "",
                  "| set | answered an unanswerable | abstained on an answerable |", "|---|---|---|"]
        for name, r in errors:
            e = r["errors"]
            lines.append(f"| {name} | {e['answered_unanswerable']} of {r['unanswerable']} | "
                         f"{e['abstained_answerable']} of {r['answerable']} |")  # fmt: skip
    return lines


def write_doc(lines: list[str]) -> None:
    block = "\n".join([BEGIN, *lines, END])
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Answer quality\n"
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        text = before + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## Latest `make eval`\n\n" + block + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, encoding="utf-8")


class _DiskVectors:
    """The question and passage vectors of one embedder in benchmarks/cache (reruns skip the model for every
    text already seen), keyed by its identity. Questions are kept by text, passages by their SHA-1."""

    def __init__(self, embedder, fresh: bool):
        key = identity_key(embedder_identity(embedder))
        slug = re.sub(r"[^A-Za-z0-9]+", "-", embedder.name).strip("-")[:40]
        self.path = ROOT / "benchmarks" / "cache" / f"eval_all-{slug}-{hashlib.sha1(key.encode()).hexdigest()[:10]}.npz"
        self.queries: dict[str, np.ndarray] = {}
        self.documents = HashedVectors()
        self.loaded = 0
        if self.path.is_file() and not fresh:
            try:
                with np.load(self.path) as data:
                    self.queries.update(zip((str(k) for k in data["q_keys"]), data["q_vecs"], strict=True))
                    self.documents.data.update(zip((str(k) for k in data["d_keys"]), data["d_vecs"], strict=True))
                self.loaded = len(self.queries) + len(self.documents.data)
            except (OSError, KeyError, ValueError):
                self.queries.clear()
                self.documents.data.clear()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        q, d = list(self.queries.items()), list(self.documents.data.items())
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, q_keys=np.array([k for k, _ in q]), q_vecs=np.array([v for _, v in q], dtype=np.float32),
                 d_keys=np.array([k for k, _ in d]), d_vecs=np.array([v for _, v in d], dtype=np.float32))  # fmt: skip
        tmp.replace(self.path)


def _vector_cache(embedder, fresh: bool) -> tuple[CachedEmbedder, _DiskVectors]:
    """`embedder` with its vectors remembered in benchmarks/cache; `fresh` ignores what is there."""
    disk = _DiskVectors(embedder, fresh)
    return CachedEmbedder(embedder, queries=disk.queries, documents=disk.documents), disk


def dev_embedder(prog: str) -> tuple[CachedEmbedder, _DiskVectors] | None:
    """For the fitting scripts: the embedder Newsdesk's settings build, behind this vector cache; None, with the
    SKIPPED line on stderr, when ../shared/eval holds no evaluation data."""
    if not (EVAL / "piaf.dev.questions.jsonl").is_file():
        print(f"{prog}: SKIPPED: {EVAL} holds no evaluation data", file=sys.stderr)
        return None
    from bot.compose import make_engine
    from bot.settings import Settings

    return _vector_cache(make_engine(Settings(_env_file=None)).embedder, False)


def _overrides(pairs: list[str]) -> dict:
    """--config NAME=VALUE pairs as SearchConfig fields (numbers, or JSON such as {"fr": 0.6})."""
    out = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        out[name.strip()] = json.loads(value)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.eval_all", description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="first N questions of each set (a quick look)")
    parser.add_argument("--sets", default=None, help="comma-separated subset, e.g. piaf.dev,xquad_en")
    parser.add_argument("--no-write", action="store_true", help="print only: leave docs/, the JSON and the floors alone")
    parser.add_argument("--fresh", action="store_true", help="re-embed everything (ignore benchmarks/cache)")
    parser.add_argument("--set-floors", action="store_true",
                        help="record this full run's figures as the floors even where they are lower")
    parser.add_argument("--report-only", action="store_true", help="exit 0 whatever the verdicts")
    parser.add_argument("--config", action="append", default=[], metavar="NAME=VALUE",
                        help="a SearchConfig override for a try (e.g. sentence_dense_same=0.5); with --no-write")
    parser.add_argument("--no-baselines", action="store_true", help="Newsdesk only (a quicker try)")
    args = parser.parse_args(argv)
    if args.config and not args.no_write:
        parser.error("--config is for tries: add --no-write (the report and the floors hold the profile's figures)")
    status = _run(args, argv)
    if args.report_only and status:
        print(f"eval_all: --report-only: exit 0 instead of {status}")
        return EXIT_OK
    return status


def _run(args, argv) -> int:
    missing = [p for p, qs in GROUPS.items() for f in [p, *qs.values()] if not (EVAL / f).is_file()]
    if missing:
        print(f"eval_all: SKIPPED: {EVAL / missing[0]} not found (the evaluation data lives in ../shared/eval "
              f"beside the project); nothing measured, nothing written. Exit status {EXIT_SKIPPED}.")  # fmt: skip
        return EXIT_SKIPPED
    wanted = set(args.sets.split(",")) if args.sets else None

    from bot.compose import make_engine
    from index.evaluation import run_eval_sets

    settings = newsdesk_settings()  # no index there: the model of a new index
    base = make_engine(settings)
    config = replace(base.config, **_overrides(args.config))
    embedder, disk = _vector_cache(base.embedder, args.fresh)
    ident = embedder_identity(embedder)
    key = identity_key(ident)
    print(f"eval_all: embedder {key}", flush=True)
    if disk.loaded:
        print(f"eval_all: {disk.loaded} cached vectors (benchmarks/cache; --fresh re-embeds)", flush=True)
    started = time.perf_counter()
    reports: dict[str, dict] = {}
    for passages, sets in GROUPS.items():
        chosen = {name: f for name, f in sets.items() if wanted is None or name in wanted}
        if not chosen:
            continue
        print(f"eval_all: {passages} with {', '.join(chosen)} ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="newsdesk-eval-all-") as tmp:
            root = Path(tmp) / "index"
            engine = Engine(base.dir.root, base.embedder, config, base.build)
            measured = run_eval_sets(EVAL / passages, [EVAL / f for f in chosen.values()], engine, limit=args.limit,
                                     baselines=not args.no_baselines, embedder=embedder, index_dir=root)  # fmt: skip
            for (name, qfile), report in zip(chosen.items(), measured, strict=True):
                report["embedder"] = key
                if name in ANCHOR_SETS:
                    report["answers"] = _answers(root, embedder, settings, config, EVAL / qfile, args.limit)
            reports.update(zip(chosen, measured, strict=True))
        disk.save()
    seconds = time.perf_counter() - started
    command = "make eval" if args.limit is None and wanted is None else "python -m benchmarks.eval_all " + " ".join(
        argv if argv is not None else sys.argv[1:])
    # Checked against the floors committed before this run, then recorded.
    targets = check_targets(reports) + floor_targets(reports, key)
    lines = summary(reports, targets, command, seconds)
    print("\n".join(lines))
    if not args.no_write:
        write_doc(lines)
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        RESULTS.write_text(json.dumps({"date": stamp, "command": command, "model": next(iter(reports.values())).get("model"),
                                       "embedder": key, "identity": ident, "seconds": round(seconds, 1),
                                       "targets": targets, "reports": reports}, indent=2, ensure_ascii=False) + "\n")  # fmt: skip
        print(f"eval_all: wrote {DOC.relative_to(ROOT)} and {RESULTS.relative_to(ROOT)}")
        if args.limit is None:  # floors come from every question of a set, never from a --limit look
            for name, r in reports.items():
                if r.get("answers"):
                    figures = {m: r["answers"][m] for m in ANCHOR_METRICS}
                    for line in record_floors(key, ident, name, figures, r["answers"]["n"], f"make eval {stamp}",
                                              lower=args.set_floors):  # fmt: skip
                        print(f"eval_all: floor recorded in benchmarks/floors.json: {line}")
    if any(t["pass"] is False for t in targets):
        return EXIT_MISS
    return EXIT_SKIPPED if any(t.get("skipped") for t in targets) else EXIT_OK


def _answers(root: Path, embedder, settings, config, qfile: Path, limit: int | None) -> dict:
    """answer_stats over the set's answerable questions, asked once more on the index run_eval_sets built."""
    from bot.compose import build_options
    from index.evaluation import read_jsonl

    qs = [q for q in read_jsonl(qfile)[: limit or None] if not q.get("is_impossible")]
    build = replace(build_options(settings), whole_articles=True, max_removal_share=1.0)
    engine = Engine(root, embedder, config, build)
    key_of = {i: k for k, i in engine.snapshot.keys().items()}
    answers = [engine.ask(q["question"]) for q in qs]
    engine.snapshot.close()
    return answer_stats(answers, qs, lambda a: key_of[a])


if __name__ == "__main__":
    sys.exit(main())
