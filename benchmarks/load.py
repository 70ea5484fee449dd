"""Item 6: 50 concurrent questions through the bot's async path while a reindex runs.

The path is the bot's own: `NewsdeskBot.jobs.offload` (its query pool for questions, its writer pool for the
reindex) with the switch interval its setup_hook sets. It measures the bot: when bot.client cannot be
imported, the benchmark fails (no stand-in path is measured instead). The index is item 3's (about 10k
Wikinews passages) plus, as articles of their own, the paragraphs that hold the answers of the 50 questions
(XQuAD en and PIAF dev), so every question can be answered; the reindex has 20 edited Wikinews articles to
embed, so it is busy for the whole test. A probe coroutine sleeps 5 ms at a time and records how late it
wakes: the event-loop lag. Baseline, in the same run: the same 50 questions with no reindex running.

An answer counts as answered when it is not an abstention and its first quote holds an expected answer (as
`make eval`'s quote hit@1 counts it); an exception is never an answer. Targets: no question raised; during
the reindex, as many answered as with no reindex (the reindex costs no answer); and, with no reindex, the
answered share against the first-quote floors `make eval` committed for this embedder (XQuAD en and PIAF
dev, pooled; benchmarks/floors.json), as in item 1.
"""

from __future__ import annotations

import asyncio
import sys
import time

import numpy as np

from .common import (
    CACHE,
    Result,
    floor_result,
    fresh_dir,
    gold_paragraphs,
    holds_answer,
    model_key,
    newsdesk_settings,
    paragraph_files,
    pct,
    questions,
    say,
    target_result,
    wikinews_folder,
)


def _set_of(q: dict) -> str:
    return "piaf.dev" if str(q["id"]).startswith("piaf") else "xquad_en"


async def _probe(lags: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(0.005)
        lags.append(max(0.0, time.perf_counter() - started - 0.005) * 1000)


async def _phase(offload, engine, qs: list[dict], reindex=None) -> dict:
    lags: list[float] = []
    stop = asyncio.Event()
    probe = asyncio.create_task(_probe(lags, stop))
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    job = asyncio.create_task(offload(reindex, writer=True)) if reindex else None
    await asyncio.sleep(0.2 if reindex else 0)  # the reindex is reading files and embedding by now
    asked = time.perf_counter()
    answers = await asyncio.gather(*(offload(engine.ask, q["question"]) for q in qs), return_exceptions=True)
    answered_s = time.perf_counter() - asked
    summary = await job if job else None
    total = time.perf_counter() - started
    stop.set()
    await probe
    errors = [a for a in answers if isinstance(a, BaseException)]
    hits = [not isinstance(a, BaseException) and holds_answer(a, q["answers"]) for a, q in zip(answers, qs,
                                                                                            strict=True)]  # fmt: skip
    by_set: dict[str, list[int]] = {}
    for q, hit in zip(qs, hits, strict=True):
        by_set.setdefault(_set_of(q), []).append(int(hit))
    return {"answered": sum(hits), "by_set": by_set, "errors": errors,
            "not_answered": [q["question"] for q, hit in zip(qs, hits, strict=True) if not hit],
            "seconds": answered_s, "qps": len(qs) / answered_s, "lag_p99": pct(lags, 99),
            "lag_max": float(np.max(lags)) if lags else 0.0, "total": total, "summary": summary}  # fmt: skip


def run(emb, quick: bool, state: dict) -> list[Result]:
    from bot.compose import build_options, search_config
    from index.engine import Engine

    try:  # the bot's own path, or nothing: this benchmark measures the bot
        from bot.client import NewsdeskBot
    except Exception as exc:
        raise RuntimeError(f"bot.client cannot be imported ({exc.__class__.__name__}: {exc}): the load test "
                           "measures the bot's path and has no other") from exc  # fmt: skip

    if "incremental_index" in state:
        root, folder = state["incremental_index"]
    else:  # item 3 did not run: a smaller index of the same kind
        work = fresh_dir(CACHE / "work" / "load")
        folder = wikinews_folder(work / "articles", 485)
        root = work / "index"
    qs = questions(25)
    paragraph_files(folder / "answers", gold_paragraphs(qs))
    settings = newsdesk_settings(root)
    engine = Engine(root, emb, search_config(settings), build_options(settings))
    engine.reindex([folder])  # the answers' paragraphs join the index (and a fresh index is built)
    engine.warm_up()
    news = sorted(p for p in folder.rglob("*.txt") if "answers" not in p.parts)
    edited = news[:: max(1, len(news) // 20)][:20]
    for i, path in enumerate(edited):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.rstrip("\n") + f"\n\nComplément {i} : un nouveau paragraphe ajouté à l'article.\n",
                        encoding="utf-8")  # fmt: skip

    async def main() -> tuple[dict, dict]:
        bot = NewsdeskBot(settings, engine)
        interval = sys.getswitchinterval()
        sys.setswitchinterval(0.001)  # as NewsdeskBot.setup_hook does
        try:
            base = await _phase(bot.jobs.offload, engine, qs)
            loaded = await _phase(bot.jobs.offload, engine, qs, reindex=lambda: engine.reindex([folder]))
        finally:
            sys.setswitchinterval(interval)
        return base, loaded

    base, loaded = asyncio.run(main())
    s = loaded["summary"]
    n = len(qs)
    say(f"  no reindex: {base['answered']}/{n} answered with the expected quote in {base['seconds']:.1f} s "
        f"({base['qps']:.2f} q/s), lag p99 {base['lag_p99']:.1f} ms")  # fmt: skip
    say(f"  during a reindex ({s.passages_embedded} passages embedded, {loaded['total']:.1f} s): "
        f"{loaded['answered']}/{n} answered with the expected quote in {loaded['seconds']:.1f} s "
        f"({loaded['qps']:.2f} q/s), lag p99 {loaded['lag_p99']:.1f} ms, max {loaded['lag_max']:.1f} ms")  # fmt: skip
    for err in (base["errors"] + loaded["errors"])[:3]:
        say(f"  error: {err!r}")
    errors = len(base["errors"]) + len(loaded["errors"])
    parts = [(name, "quote_hit@1", len(hits)) for name, hits in sorted(base["by_set"].items())]
    return [
        target_result(f"load: questions that raised, {n} concurrent, with and without a reindex", errors,
                      "questions", "<=", 0, None,
                      "; ".join(f"{e.__class__.__name__}: {e}"[:80] for e in (base["errors"] + loaded["errors"])[:2])),
        target_result(f"load: {n} concurrent questions during a reindex, answered with the expected quote",
                      loaded["answered"], "questions", ">=", base["answered"], base["answered"],
                      "path: NewsdeskBot.jobs.offload; target: as many as with no reindex (baseline column)"),
        floor_result(f"load: {n} concurrent questions, no reindex, answered with the expected quote",
                     base["answered"] / n, model_key(emb), parts,
                     f"{base['answered']}/{n}; the index: Wikinews plus the answers' paragraphs"),
        target_result("load: event-loop lag p99 during the reindex", loaded["lag_p99"], "ms", "<=", 100,
                      base["lag_p99"], f"max {loaded['lag_max']:.0f} ms; baseline column: same questions, no reindex"),
        Result("load: throughput during the reindex", loaded["qps"], "questions/s", None, None, base["qps"],
               f"baseline column: the same {n} questions with no reindex running"),
    ]  # fmt: skip
