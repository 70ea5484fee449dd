"""Items 4 and 5: start-up to the first answer, index load, and peak RSS, each in a fresh process.

The index is item 2's 100k-passage index (IVF; 10k with --quick). Each process is started with the
environment the bot gets (offline model, this run's NEWSDESK_* settings, an exported model already cached)
and timed from just before the process is spawned to the moment its first answer is ready. The page cache is
warm (the index was just used), as after a restart. The bot module must import (a child that cannot import
it fails, and so does this benchmark), and the first answer must be an answer whose quotes hold the expected
text: a fast start to an abstention or a wrong quote misses the target. The serving process answers item 2's
questions through the bot's query pool; the share whose first quote holds the answer is checked against the
floor item 2 committed for the same index and questions. Baselines, in the same run, interleaved: a plain
process that loads sentence-transformers (torch) and the FAISS file, encodes the question and searches.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import (
    ROOT,
    Result,
    VectorCache,
    floor_result,
    median,
    model_key,
    questions,
    say,
    scaled_index,
    target_result,
)


def _spawn(mode: str, root: Path, qfile: str, env: dict) -> dict:
    if mode.startswith("plain"):
        from .common import plain_model_path

        # Resolved here, not in the child: finding it builds Newsdesk's settings, which the baseline must not pay.
        env = dict(env, BENCH_PLAIN_MODEL=plain_model_path())
    started = time.time()
    proc = subprocess.run([sys.executable, "-m", "benchmarks.child", mode, str(root), qfile], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        last = [ln for ln in proc.stderr.splitlines() if ln.strip()][-1:] or ["no output"]
        raise RuntimeError(f"benchmarks.child {mode} failed (exit status {proc.returncode}): {last[0].strip()[:300]}")
    out = json.loads(line[len("RESULT ") :])
    out["start_to_answer_s"] = out["t_first_answer"] - started
    if "t_main" in out:  # where the time went, for the log
        marks = [("python+imports", "t_main"), ("settings", "t_settings"), ("bot module", "t_bot"),
                 ("engine+index", "t_loaded"), ("warm-up", "t_warm"), ("first ask", "t_first_answer")]  # fmt: skip
        prev, parts = started, []
        for label, key in marks:
            parts.append(f"{label} {out[key] - prev:.2f}")
            prev = out[key]
        out["phases"] = ", ".join(parts)
    return out


def run(emb, quick: bool, state: dict) -> list[Result]:
    n = 10_000 if quick else 100_000
    root, _, _ = scaled_index(n, emb, VectorCache(emb))
    env = dict(os.environ, NEWSDESK_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT))
    per_set = 25 if quick else 100  # item 2's questions, so its committed floor applies
    if state.get("limit"):
        per_set = max(1, min(per_set, state["limit"] // 2))
    qs = [{"id": q["id"], "question": q["question"], "answers": q["answers"]} for q in questions(per_set)]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(qs, fh)
        qfile = fh.name
    try:
        ours, plain = [], []
        for i in range(2 if quick else 3):
            if i != 1:  # the plain baseline loads torch: slow, so twice (first and last), interleaved
                plain.append(_spawn("plain", root, qfile, env))
            ours.append(_spawn("newsdesk", root, qfile, env))
            say(f"  start to first answer: newsdesk {ours[-1]['start_to_answer_s']:.2f} s (index load "
                f"{ours[-1]['load_s']:.2f} s; {ours[-1]['phases']}), plain baseline "
                f"{plain[-1]['start_to_answer_s']:.2f} s")  # fmt: skip
        serve = _spawn("serve", root, qfile, env)
        plain_serve = _spawn("plain-serve", root, qfile, env)
    finally:
        os.unlink(qfile)
    hits = serve["hits"]
    served_hits = sum(sum(h) for h in hits.values())
    say(f"  peak RSS after {serve['served']} questions: newsdesk {serve['peak_rss_mb']:.0f} MB, plain baseline "
        f"{plain_serve['peak_rss_mb']:.0f} MB; embedder {serve['backend']}; first quote holds the answer: "
        f"{served_hits}/{serve['served']}")  # fmt: skip
    label = f"{ours[0]['passages']:,}-passage index ({ours[0]['index_type']})"
    start = median([o["start_to_answer_s"] for o in ours])
    load = median([o["load_s"] for o in ours])
    first = target_result(f"start-up: process start to first answer, {label}", start, "s", "<=", 5,
                          median([p["start_to_answer_s"] for p in plain]),
                          "baseline: plain sentence-transformers + faiss.read_index process")
    wrong = sum(not o["first_holds"] for o in ours)
    if wrong:
        first.passed = False
        first.note = (f"the first answer ({ours[0]['first_question']!r}) did not quote the expected text in "
                      f"{wrong} of {len(ours)} starts; " + first.note)
    scope = f"bench: ask() at {n:,} scaled passages ({ours[0]['index_type']})"
    parts = [(scope, "quote_hit@1", serve["served"])]
    return [
        first,
        floor_result(f"start-up: the serving process's answers, first quote holds the answer ({serve['served']} q)",
                     served_hits / serve["served"], model_key(emb), parts,
                     "anchor: item 2's floor for the same index and questions",
                     scope_hint="a `make bench` that asks every question"),
        target_result(f"start-up: index load (Snapshot), {label}", load, "s", "<=", 1,
                      median([p["load_s"] for p in plain]), "baseline: faiss.read_index alone"),
        target_result(f"peak RSS of the bot process, {label}, {serve['served']} questions", serve["peak_rss_mb"],
                      "MB", "<=", 1200, plain_serve["peak_rss_mb"], "baseline: plain torch process; MB = 10^6 bytes"),
    ]  # fmt: skip
