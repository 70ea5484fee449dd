"""Items 4 and 5: start-up to the first answer, index load, and peak RSS, each in a fresh process.

The index is item 2's 100k-passage index (IVF; 10k with --quick). Each process is started with the
environment the bot gets (offline model, NEWSDESK_BACKEND=onnx, the exported model already cached) and
timed from just before the process is spawned to the moment its first answer is ready. The page cache is warm
(the index was just used), as after a restart. Baselines, in the same run, interleaved: a plain process that
loads sentence-transformers (torch) and the FAISS file, encodes the question and searches.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import ROOT, Result, VectorCache, median, questions, say, scaled_index, target_result


def _spawn(mode: str, root: Path, qfile: str, env: dict) -> dict:
    started = time.time()
    proc = subprocess.run([sys.executable, "-m", "benchmarks.child", mode, str(root), qfile], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"benchmarks.child {mode} failed ({proc.returncode}): {proc.stderr.strip()[-800:]}")
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
    env = dict(os.environ, NEWSDESK_BACKEND="onnx", NEWSDESK_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT))
    qs = [q["question"] for q in questions(50)]
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
    say(f"  peak RSS after {serve['served']} questions: newsdesk {serve['peak_rss_mb']:.0f} MB, plain baseline "
        f"{plain_serve['peak_rss_mb']:.0f} MB; bot module imported: {serve['bot_module']}")  # fmt: skip
    if not ours[0]["onnx"]:
        say("  note: the ONNX backend was not available in the child (torch was used)")
    label = f"{ours[0]['passages']:,}-passage index ({ours[0]['index_type']})"
    start = median([o["start_to_answer_s"] for o in ours])
    load = median([o["load_s"] for o in ours])
    return [
        target_result(f"start-up: process start to first answer, {label}", start, "s", "<=", 5,
                      median([p["start_to_answer_s"] for p in plain]),
                      "baseline: plain sentence-transformers + faiss.read_index process"),
        target_result(f"start-up: index load (Snapshot), {label}", load, "s", "<=", 1,
                      median([p["load_s"] for p in plain]), "baseline: faiss.read_index alone"),
        target_result(f"peak RSS of the bot process, {label}, {serve['served']} questions", serve["peak_rss_mb"],
                      "MB", "<=", 1200, plain_serve["peak_rss_mb"],
                      "baseline: plain torch process; MB = 10^6 bytes"
                      + ("" if serve["bot_module"] is True else "; bot.client not importable")),
    ]  # fmt: skip
