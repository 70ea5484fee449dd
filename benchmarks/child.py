"""Processes measured from outside (items 4 and 5): `python -m benchmarks.child MODE INDEX QUESTIONS_JSON`.

Modes:
  newsdesk  the bot's start: settings, engine (bot.compose.make_engine), the discord.py bot module, warm-up,
            then the first answer; prints the timings as JSON (wall-clock times, for the parent to subtract),
            and whether that answer holds an expected text. A bot module that cannot be imported is a failure
            (exit status 1), not a figure measured without it.
  serve     the same, then every question through the bot's query pool (NewsdeskBot.jobs.offload); prints peak RSS
            and, per question set, which answers' first quote holds an expected text.
  plain     the baseline: sentence-transformers (torch) + faiss.read_index, encode, search.
  plain-serve  the baseline answering every question; prints peak RSS.
The index is the folder a Newsdesk index lives in (with its `current` link); QUESTIONS_JSON a list of
{"id", "question", "answers"}. The settings are read from the environment the parent passes (no `.env`).
Peak RSS is VmHWM.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time


def _peak_mb() -> float:
    """Peak resident memory of this process (VmHWM). Not ru_maxrss: Linux carries the parent's peak across
    fork and exec into it, so a child of a large process would report the parent's figure."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def _newsdesk(root: str, questions: list[dict], serve: bool) -> dict:
    out: dict = {"t_main": time.time()}
    from bot.settings import Settings

    out["t_settings"] = time.time()
    import bot.client  # the bot process imports discord.py and the bot module before anything answers
    import bot.compose

    out["t_bot"] = time.time()
    settings = Settings(_env_file=None, index_dir=root)
    engine = bot.compose.make_engine(settings)
    started = time.perf_counter()
    snap = engine.snapshot
    out["load_s"] = time.perf_counter() - started
    out["index_type"] = snap.manifest.index_type
    out["passages"] = snap.size
    out["rss_after_load_mb"] = _peak_mb()
    out["t_loaded"] = time.time()
    if hasattr(engine, "warm_up"):
        engine.warm_up()
    out["t_warm"] = time.time()
    answer = engine.ask(questions[0]["question"])
    out["t_first_answer"] = time.time()
    from benchmarks.common import backend_of, holds_answer

    out["first_holds"] = holds_answer(answer, questions[0]["answers"], first_only=False)
    out["first_question"] = questions[0]["question"]
    out["backend"] = backend_of(engine.embedder)
    if serve:
        import asyncio

        async def main() -> dict[str, list[int]]:
            client = bot.client.NewsdeskBot(settings, engine)
            hits: dict[str, list[int]] = {}
            for q in questions:
                a = await client.jobs.offload(engine.ask, q["question"])
                name = "piaf.dev" if str(q["id"]).startswith("piaf") else "xquad_en"
                hits.setdefault(name, []).append(int(holds_answer(a, q["answers"])))
            return hits

        out["hits"] = asyncio.run(main())
        out["served"] = sum(len(h) for h in out["hits"].values())
    out["peak_rss_mb"] = _peak_mb()
    return out


def _plain(root: str, questions: list[dict], serve: bool) -> dict:
    from pathlib import Path

    import faiss
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(os.environ["BENCH_PLAIN_MODEL"], device="cpu")
    started = time.perf_counter()
    version = (Path(root) / "current").resolve()
    segment = json.loads((version / "manifest.json").read_text())["segments"][0]["name"]
    index = faiss.read_index(str(version.parent.parent / "segments" / segment / "vectors.faiss"))
    load_s = time.perf_counter() - started
    index.search(model.encode_query([questions[0]["question"]]), 5)
    out = {"t_first_answer": time.time(), "load_s": load_s}
    if serve:
        for q in questions:
            index.search(model.encode_query([q["question"]]), 5)
        out["served"] = len(questions)
    out["peak_rss_mb"] = _peak_mb()
    return out


def main(argv: list[str]) -> int:
    mode, root, qfile = argv
    with open(qfile, encoding="utf-8") as fh:
        questions = json.load(fh)
    if mode in ("newsdesk", "serve"):
        out = _newsdesk(root, questions, serve=mode == "serve")
    else:
        out = _plain(root, questions, serve=mode == "plain-serve")
    print("RESULT " + json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
