"""`make bench`: run every benchmark, print a table, write benchmarks/results.json (and the README's block).

    python -m benchmarks.run                  # the full run (what benchmarks/README.md shows)
    python -m benchmarks.run --quick          # CI-sized: smaller corpora, fewer questions, no README update
    python -m benchmarks.run --only latency,startup
    python -m benchmarks.run --only quality --limit 100   # a quick look: at most 100 questions per set
    python -m benchmarks.run --report-only    # measure and report, exit 0 whatever the verdicts

Exit status: 0 when every target passes; 1 when one is missed or a benchmark failed (a bot that cannot be
imported is a failure); 3 when nothing was missed but something could not be checked (the evaluation data
in ../shared/eval is missing: "SKIPPED: <why>"; or a quality target has no committed floor for this
model: "no anchor for model X"). --report-only always exits 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

from .common import EVAL, ROOT, Result, Skip, backend_of, model_key, newsdesk_embedder, say, setup_env

EXIT_OK, EXIT_MISS, EXIT_SKIPPED = 0, 1, 3
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
RESULTS = ROOT / "benchmarks" / "results.json"
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
        verdict = {"MISS": "**MISS**", "SKIP": "**SKIP**"}.get(r.verdict, r.verdict)
        unit = f" {r.unit}" if r.unit else ""
        value = _fmt(r.value) + (unit if r.value is not None else "")
        note = f"SKIPPED: {r.skipped}" + (f"; {r.note}" if r.note else "") if r.skipped else r.note
        note = " ".join(note.split()).replace("|", "/")  # one table cell
        lines.append(f"| {TITLES[item].split('.')[0]} | {r.name} | {value} | {r.target or '-'} | {verdict} | "
                     f"{_fmt(r.baseline)} | {note} |")  # fmt: skip
    return "\n".join(lines)


def verdicts(results: list[tuple[str, Result]]) -> dict[str, list[Result]]:
    out: dict[str, list[Result]] = {"PASS": [], "MISS": [], "SKIP": []}
    for _, r in results:
        if r.verdict in out:
            out[r.verdict].append(r)
    return out


def summary(results: list[tuple[str, Result]]) -> list[str]:
    """The verdict line and one line per miss and per skip, generated from the run (the README's block)."""
    v = verdicts(results)
    lines = [f"**{len(v['PASS'])} PASS, {len(v['MISS'])} MISS, {len(v['SKIP'])} SKIP.**"]
    if v["MISS"]:
        lines += ["", "Missed (the exit status is 1):", ""]
        for r in v["MISS"]:
            value = "-" if r.value is None else f"{_fmt(r.value)}{' ' + r.unit if r.unit else ''}"
            lines.append(f"- {r.name}: {value}, target {r.target or '-'}" + (f" ({r.note})" if r.note else ""))
    if v["SKIP"]:
        lines += ["", "Not checked (the exit status is 3 when nothing is missed):", ""]
        lines += [f"- {r.name}: SKIPPED: {r.skipped}" for r in v["SKIP"]]
    return lines


def exit_status(results: list[tuple[str, Result]]) -> int:
    v = verdicts(results)
    if v["MISS"]:
        return EXIT_MISS
    return EXIT_SKIPPED if v["SKIP"] else EXIT_OK


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
    parser.add_argument("--limit", type=int, default=None,
                        help="at most N questions per quality measure (a quick look; no README, no floors)")
    parser.add_argument("--out", type=Path, default=None,
                        help="results file (default: benchmarks/results.json for a full run of every item, "
                             "benchmarks/cache/results-last.json otherwise)")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite the block in the README")
    parser.add_argument("--report-only", action="store_true", help="exit 0 whatever the verdicts")
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",")] if args.only else list(ITEMS)
    unknown = [s for s in only if s not in ITEMS]
    if unknown:
        parser.error(f"unknown item(s): {', '.join(unknown)}")
    status = _run(args, only)
    if args.report_only and status:
        print(f"--report-only: exit 0 instead of {status}")
        return EXIT_OK
    return status


def _run(args, only: list[str]) -> int:
    setup_env()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    import bm25s  # noqa: F401  (it sets its logger's level when imported: silence it after)

    for noisy in ("sentence_transformers", "transformers", "faiss", "bm25s", "discord"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    if not EVAL.is_dir():
        print(f"SKIPPED: {EVAL} not found (the evaluation data lives in ../shared/eval beside the project); "
              f"nothing was measured and nothing was written. Exit status {EXIT_SKIPPED}.")  # fmt: skip
        return EXIT_SKIPPED
    started = time.perf_counter()
    emb = newsdesk_embedder()
    full = not args.quick and args.limit is None
    say(f"embedder: {model_key(emb)}, running as {backend_of(emb)}; mode: {'quick' if args.quick else 'full'}"
        + (f", at most {args.limit} questions per measure" if args.limit else ""))  # fmt: skip
    # Floors (benchmarks/floors.json) of the bench's own scopes are recorded by runs that ask every question,
    # never by a --limit look.
    command = "make bench" if full and not args.only else "python -m benchmarks.run " + " ".join(
        a for a in ("--quick" if args.quick else "", f"--only {args.only}" if args.only else "") if a)
    state: dict = {"record_floors": args.limit is None, "limit": args.limit, "command": command.strip()}
    results: list[tuple[str, Result]] = []
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

                rows = quality.run(emb, args.quick, args.limit)
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
            say(f"  SKIPPED: {exc}")
            rows = [Result(f"{TITLES[item]}: not run", None, "", None, None, None, skipped=str(exc))]
        except Exception as exc:
            traceback.print_exc()
            rows = [Result(f"{TITLES[item]}: failed", None, "", None, False, None,
                           f"{exc.__class__.__name__}: {exc}"[:300])]  # fmt: skip
        say(f"  ({time.perf_counter() - t0:.0f} s)")
        for r in rows:
            if r.verdict in ("MISS", "SKIP"):
                say(f"  {r.verdict}: {r.name}" + (f": {r.skipped}" if r.skipped else f" ({r.value}, {r.target})"))
        results += [(item, r) for r in rows]
    elapsed = time.perf_counter() - started
    text = table(results)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cmd = "python -m benchmarks.run" + (" --quick" if args.quick else "") + (f" --only {args.only}" if args.only else "")
    cmd += f" --limit {args.limit}" if args.limit else ""
    header = (f"`{cmd}` on {stamp}: {platform.machine()}, {len(os.sched_getaffinity(0))} cores, "
              f"Python {platform.python_version()}; embedder {model_key(emb)}, running as {backend_of(emb)}; "
              f"took {elapsed / 60:.1f} min.")  # fmt: skip
    lines = summary(results)
    status = exit_status(results)
    print(header)
    print()
    print(text)
    print()
    print("\n".join(lines))
    out = args.out or (RESULTS if full and not args.only else ROOT / "benchmarks" / "cache" / "results-last.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([r.to_json() for _, r in results], indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out}; exit status {status}")
    if full and not args.only and not args.no_readme:
        _update_readme("\n".join([header, "", text, "", *lines]))
    return status


if __name__ == "__main__":
    sys.exit(main())
