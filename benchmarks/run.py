"""`make bench`: run every benchmark, print a table, write benchmarks/results.json (and the README table).

    python -m benchmarks.run             # the full run (what benchmarks/README.md shows)
    python -m benchmarks.run --quick     # CI-sized: smaller corpora, fewer questions, no README update
    python -m benchmarks.run --only latency,startup

Needs ../shared/eval (the evaluation data); without it, says so and exits 0 having measured nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

from .common import EVAL, ROOT, Result, Skip, backend_of, make_embedder, say, setup_env

ITEMS = ("ingest", "quality", "latency", "incremental", "startup", "load")
TITLES = {
    "ingest": "1. ingestion throughput",
    "quality": "1. quality held (R@5)",
    "latency": "2. ask() latency and scaling",
    "incremental": "3. incremental reindex",
    "startup": "4-5. start-up and memory",
    "load": "6. load during a reindex",
}
README = ROOT / "benchmarks" / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:,.3g}" if abs(v) < 10 else f"{v:,.1f}"


def table(results: list[tuple[str, Result]]) -> str:
    lines = ["| item | measure | value | target | result | baseline | note |", "|---|---|---|---|---|---|---|"]
    for item, r in results:
        verdict = "-" if r.passed is None else ("PASS" if r.passed else "**MISS**")
        unit = f" {r.unit}" if r.unit else ""
        value = _fmt(r.value) + (unit if r.value is not None else "")
        lines.append(f"| {TITLES[item].split('.')[0]} | {r.name} | {value} | {r.target or '-'} | {verdict} | "
                     f"{_fmt(r.baseline)} | {r.note} |")  # fmt: skip
    return "\n".join(lines)


def _update_readme(text: str) -> None:
    if not README.is_file():
        return
    body = README.read_text(encoding="utf-8")
    if START in body and END in body:
        head, rest = body.split(START, 1)
        _, tail = rest.split(END, 1)
        README.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized run: smaller corpora, fewer questions")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(ITEMS)}")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.json")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite the table in the README")
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",")] if args.only else list(ITEMS)
    unknown = [s for s in only if s not in ITEMS]
    if unknown:
        parser.error(f"unknown item(s): {', '.join(unknown)}")
    setup_env()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    import bm25s  # noqa: F401  (it sets its logger's level when imported: silence it after)

    for noisy in ("sentence_transformers", "transformers", "faiss", "bm25s", "discord"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    if not EVAL.is_dir():
        print(f"benchmarks skipped: {EVAL} not found (the evaluation data lives in ../shared/eval beside the "
              "project); nothing was measured.")  # fmt: skip
        return 0
    started = time.perf_counter()
    emb = make_embedder("onnx")
    if backend_of(emb) != "onnx-int8":
        say("warning: the ONNX backend is not available (pip install 'newsdesk[fast]'); Newsdesk runs on torch")
    say(f"embedder: {emb.name}, backend {backend_of(emb)}; mode: {'quick' if args.quick else 'full'}")
    state: dict = {}
    results: list[tuple[str, Result]] = []
    failed = False
    for item in ITEMS:
        if item not in only:
            continue
        say(f"== {TITLES[item]}")
        t0 = time.perf_counter()
        try:
            if item == "ingest":
                from . import ingest

                rows = ingest.run(emb, args.quick, state)
            elif item == "quality":
                from . import quality

                rows = quality.run({"baseline": make_embedder("torch"), "newsdesk": emb}, args.quick)
            elif item == "latency":
                from . import latency

                rows = latency.run(emb, args.quick, state)
            elif item == "incremental":
                from . import incremental

                rows = incremental.run(emb, args.quick, state)
            elif item == "startup":
                from . import startup

                rows = startup.run(emb, args.quick, state)
            else:
                from . import load

                rows = load.run(emb, args.quick, state)
        except Skip as exc:
            say(f"  skipped: {exc}")
            rows = [Result(f"{TITLES[item]}: skipped", None, "", None, None, None, str(exc))]
        except Exception as exc:
            failed = True
            traceback.print_exc()
            rows = [Result(f"{TITLES[item]}: failed", None, "", None, False, None,
                           f"{exc.__class__.__name__}: {exc}"[:200])]  # fmt: skip
        say(f"  ({time.perf_counter() - t0:.0f} s)")
        results += [(item, r) for r in rows]
    elapsed = time.perf_counter() - started
    text = table(results)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cmd = "python -m benchmarks.run" + (" --quick" if args.quick else "") + (f" --only {args.only}" if args.only else "")
    header = (f"`{cmd}` on {stamp}: {platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores, "
              f"Python {platform.python_version()}, embedder backend {backend_of(emb)}; took {elapsed / 60:.1f} min.")  # fmt: skip
    print(header)
    print()
    print(text)
    args.out.write_text(json.dumps([r.to_json() for _, r in results], indent=2) + "\n", encoding="utf-8")
    misses = [r.name for _, r in results if r.passed is False]
    print(f"\n{sum(r.passed is True for _, r in results)} PASS, {len(misses)} MISS; wrote {args.out}")
    if not args.quick and not args.only and not args.no_readme:
        _update_readme(header + "\n\n" + text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
