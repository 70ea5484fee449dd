"""Item 1: ingestion throughput, Newsdesk's reindex against the plain baseline, at three sizes.

Corpus: the 100 Wikinews articles of ../shared/eval written as .txt files, then copies of them (own URL and
title, same text) up to the size wanted; the largest size holds at least 5,000 passages. It is item 3's
large corpus (the same articles), so its build is item 3's real full build too (kept in `state`).

Newsdesk: `Engine.reindex([folder])` into an empty index folder, with the embedder Newsdesk's settings build
(already loaded, as in a running bot). The time covers reading the files, chunking, embedding (each passage's
sentences too, as a new index gets them: NEWSDESK_SENTENCE_VECTORS), SQLite, BM25, FAISS and the atomic
publication. For context, the middle size is built once more without sentence vectors.

Baseline: `SentenceTransformer(bundled model).encode(texts)` with default settings, then
`faiss.IndexFlatIP.add`, on the passages Newsdesk cuts from the 100 distinct articles (every other one: the
same length mix as the corpus, whose copies repeat them). Its rate does not depend on the corpus size (the
work is per passage), so it is measured on that sample before and after each Newsdesk run, and each ratio uses
the mean of the two baseline runs around it.
"""

from __future__ import annotations

import shutil
import time

from .common import (
    CACHE,
    CachedEmbedder,
    Result,
    fresh_dir,
    passage_texts,
    plain_model,
    say,
    target_result,
    wikinews_folder,
)


def run(emb, quick: bool, state: dict) -> list[Result]:
    import faiss

    from index.build.options import BuildOptions
    from index.engine import Engine

    from .incremental import sizes as incremental_sizes

    # articles; 100 articles = the 100 distinct ones. The largest is item 3's large corpus (about 10k passages).
    sizes = (25, 50, incremental_sizes(quick)[1]) if quick else (100, 500, incremental_sizes(quick)[1])
    work = fresh_dir(CACHE / "work" / "ingest")
    folders = {n: wikinews_folder(work / f"articles-{n}", n) for n in sizes}
    sample = passage_texts(folders[min(sizes)])[::2]

    model = plain_model()
    base_rates: list[float] = []

    def baseline() -> None:
        started = time.perf_counter()
        vectors = model.encode_document(sample)
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors)
        base_rates.append(len(sample) / (time.perf_counter() - started))
        say(f"  baseline: {len(sample)} passages, {base_rates[-1]:.2f} passages/s")

    runs: dict[int, dict] = {}
    without: dict[int, dict] = {}  # NEWSDESK_SENTENCE_VECTORS=false, for context

    def newsdesk(n: int, sentences: bool = True) -> None:
        root = fresh_dir(work / f"index-{n}")
        timing = CachedEmbedder(emb)  # no cache: times every passage it embeds
        engine = Engine(root, timing, build=BuildOptions(sentence_vectors=sentences))
        started = time.perf_counter()
        summary = engine.reindex([folders[n]])
        took = time.perf_counter() - started
        assert summary.passages_embedded == summary.passages, "every passage of a fresh build is embedded"
        run = {"passages": summary.passages, "seconds": took, "rate": summary.passages / took,
               "embed_seconds": timing.embed_seconds}  # fmt: skip
        if not sentences:
            without[n] = run
            say(f"  newsdesk without sentence vectors: {n} articles, {run['rate']:.2f} passages/s")
            shutil.rmtree(root, ignore_errors=True)
            return
        runs[n] = run
        state.setdefault("full_builds", {})[n] = dict(runs[n], by="item 1 (ingestion), same run")
        say(f"  newsdesk: {n} articles, {summary.passages} passages in {took:.1f} s = "
            f"{summary.passages / took:.2f} passages/s (embedding {timing.embed_seconds:.1f} s)")  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)

    # B N B N B N B: each Newsdesk run is compared with the mean of the baseline runs just before and after
    # it, the closest measure of the machine's state during that run (other work on it comes and goes).
    baseline()
    for n in sizes:
        newsdesk(n)
        baseline()
    newsdesk(sizes[1], sentences=False)
    baseline()
    near = {n: (base_rates[i] + base_rates[i + 1]) / 2 for i, n in enumerate(sizes)}
    big_n = sizes[2]
    state["embed_seconds_per_passage"] = runs[big_n]["embed_seconds"] / runs[big_n]["passages"]
    state["ingest_rate"] = runs[big_n]["rate"]

    out = []
    for n in sizes[:2]:
        r = runs[n]
        out.append(Result(f"ingestion, {r['passages']:,} passages: Newsdesk / baseline", r["rate"] / near[n], "x",
                          None, None, near[n], f"{r['rate']:.2f} vs {near[n]:.2f} passages/s"))  # fmt: skip
    big = runs[big_n]
    rates = ", ".join(f"{b:.1f}" for b in base_rates)
    note = (f"{big['rate']:.2f} vs {near[big_n]:.2f} passages/s (baseline: mean of the runs before and after; "
            f"all baseline runs: {rates}); {big['embed_seconds'] / big['seconds']:.0%} of the reindex is embedding")
    name = f"ingestion, {big['passages']:,} passages: Newsdesk / baseline"
    if big["passages"] >= 5000:
        out.append(target_result(name, big["rate"] / near[big_n], "x", ">=", 2.0, near[big_n], note))
    else:
        out.append(Result(name + " (--quick: under 5,000)", big["rate"] / near[big_n], "x", None, None,
                          near[big_n], note))  # fmt: skip
    out.append(Result(f"ingestion rate, {big['passages']:,} passages", big["rate"], "passages/s", None, None,
                      near[big_n], "baseline column: the plain baseline's rate"))  # fmt: skip
    plain = without[sizes[1]]
    around = (base_rates[-2] + base_rates[-1]) / 2
    out.append(Result(f"ingestion, {plain['passages']:,} passages, no sentence vectors: Newsdesk / baseline",
                      plain["rate"] / around, "x", None, None, around,
                      f"{plain['rate']:.2f} vs {around:.2f} passages/s; NEWSDESK_SENTENCE_VECTORS=false, what "
                      f"embedding each passage's sentences too costs (with them: {runs[sizes[1]]['rate']:.2f})"))  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)
    return out
