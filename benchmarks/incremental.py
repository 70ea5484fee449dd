"""Item 3: incremental reindex at 10k passages: nothing changed, and one changed article.

Corpus: Wikinews articles and their copies as .txt files (about 10k passages; 1k for the growth check). The
full build runs Newsdesk's reindex with the vectors of the 207 distinct Wikinews passages served from the
cache, so its embedding time is not measured here; the full build time is that measured build plus the
embedding time those passages take at the rate item 1 measured in the same run (seconds per passage inside
the embedder). Then, through the same `Engine.reindex([folder])` with the real embedder:

- nothing changed: median of three runs, against the full build time;
- one article edited (a sentence changed in its first paragraph and a new paragraph appended): the reindex
  time against the time its own new passages take to embed (measured inside the embedder during that run),
  at 1k and 10k passages, to show what grows with the corpus. The engine doing it is the one serving the
  index (loaded before the first edit), as in the bot; the time includes loading the new version for it.
"""

from __future__ import annotations

import shutil
import time

from .common import (
    CACHE,
    CachedEmbedder,
    Result,
    VectorCache,
    fresh_dir,
    median,
    passage_texts,
    say,
    target_result,
    wikinews_folder,
)

EDIT = "\n\nMise à jour {n} : la rédaction a complété cet article le {n} décembre avec de nouvelles précisions.\n"


def _edit(path, n: int) -> None:
    text = path.read_text(encoding="utf-8")
    head, body = text.split("\n\n", 1)
    body = body.replace(" a ", f" a, selon la mise à jour {n}, ", 1) if " a " in body else f"({n}) " + body
    path.write_text(head + "\n\n" + body.rstrip("\n") + EDIT.format(n=n), encoding="utf-8")


def _measure(emb, cache: VectorCache, n_articles: int, work, per_passage: float, runs: int) -> dict:
    from index.search import Engine

    folder = wikinews_folder(work / f"articles-{n_articles}", n_articles)
    root = fresh_dir(work / f"index-{n_articles}")
    cached = CachedEmbedder(emb, cache)
    started = time.perf_counter()
    full = Engine(root, cached).reindex([folder])
    rest = time.perf_counter() - started
    engine = Engine(root, CachedEmbedder(emb, cache))
    unchanged = []
    for _ in range(runs):
        started = time.perf_counter()
        s = engine.reindex([folder])
        unchanged.append(time.perf_counter() - started)
        assert s.passages_embedded == 0 and s.unchanged == n_articles
    edited = []
    target = sorted(folder.rglob("*.txt"))[n_articles // 2]
    # One engine serving the index, as in the bot: it reindexes, then answers from the new version (the
    # segments it has loaded already are shared with it, only the new one is opened).
    timing = CachedEmbedder(emb, None)  # no cache: times every passage it embeds
    engine = Engine(root, timing)
    _ = engine.snapshot
    for i in range(runs):
        _edit(target, i + 1)
        timing.embed_seconds = 0.0
        started = time.perf_counter()
        s = engine.reindex([folder])
        took = time.perf_counter() - started
        assert s.updated == 1 and s.passages_embedded >= 1
        edited.append({"seconds": took, "own": timing.embed_seconds, "embedded": s.passages_embedded})
    m = {
        "passages": full.passages,
        "rest": rest,
        "full": rest + full.passages * per_passage,
        "unchanged": median(unchanged),
        "edited": median([e["seconds"] for e in edited]),
        "own": median([e["own"] for e in edited]),
        "embedded": median([e["embedded"] for e in edited]),
    }
    say(f"  {full.passages:,} passages: build without embedding {rest:.1f} s, full build {m['full']:.0f} s "
        f"(embedding at {1 / per_passage:.1f} passages/s); nothing changed {m['unchanged']:.2f} s; one article "
        f"edited {m['edited']:.2f} s, of which its own {m['embedded']:.0f} passage(s) {m['own']:.2f} s")  # fmt: skip
    state_index = {"root": root, "folder": folder}
    m.update(state_index)
    return m


def run(emb, quick: bool, state: dict) -> list[Result]:
    work = fresh_dir(CACHE / "work" / "incremental")
    cache = VectorCache(emb)
    distinct = wikinews_folder(work / "distinct", 100)
    texts = passage_texts(distinct)
    cache.fill(texts)
    per_passage = state.get("embed_seconds_per_passage")
    if per_passage is None:  # item 1 did not run: measure the embedding rate here, on the distinct passages
        sample = texts[::2]
        started = time.perf_counter()
        emb.encode_documents(sample)
        per_passage = (time.perf_counter() - started) / len(sample)
    small, large = (250, 1000) if quick else (485, 4850)  # about 1k and 10k passages (quick: 500, 2k)
    runs = 2 if quick else 3
    a = _measure(emb, cache, small, work, per_passage, runs)
    b = _measure(emb, cache, large, work, per_passage, runs)
    state["incremental_index"] = (b["root"], b["folder"])
    n = f"{b['passages']:,}"
    share = b["unchanged"] / b["full"] * 100
    over_a, over_b = max(a["edited"] - a["own"], 1e-3), b["edited"] - b["own"]
    return [
        target_result(f"reindex, nothing changed, {n} passages: share of a full build", share, "%", "<=", 5,
                      b["full"], f"{b['unchanged']:.2f} s vs {b['full']:.0f} s (baseline column: full build, s)"),
        Result(f"reindex, nothing changed, {n} passages: share of the build without embedding",
               b["unchanged"] / b["rest"] * 100, "%", None, None, b["rest"],
               "context: against the measured build with cached vectors (s)"),
        target_result(f"reindex, one article edited, {n} passages: time / its own embedding", b["edited"] / b["own"],
                      "x", "<=", 2, b["own"],
                      f"{b['edited']:.2f} s; its {b['embedded']:.0f} new passage(s) embed in {b['own']:.2f} s"),
        target_result(f"reindex, one article edited: overhead growth {a['passages']:,} -> {n} passages",
                      over_b / over_a, "x", "<=", 2, None,
                      f"overhead beyond its own embedding: {over_a:.2f} s -> {over_b:.2f} s for "
                      f"{b['passages'] / a['passages']:.0f}x the corpus"),
    ]  # fmt: skip


def cleanup() -> None:
    shutil.rmtree(CACHE / "work" / "incremental", ignore_errors=True)
