"""Item 3: incremental reindex at 10k passages: nothing changed, and one changed article.

Corpus: Wikinews articles and their copies as .txt files (about 10k passages; 1k for the growth check). Two
full builds of the large corpus, both measured in this run:

- the real one: `Engine.reindex([folder])` into an empty index with the real embedder, every passage embedded
  (item 1's build of the same corpus when item 1 ran, else one here);
- the build without embedding: the same reindex with every vector served from the cache (the 207 distinct
  Wikinews passages, embedded once), so its time is everything but the model.

Then, through the same `Engine.reindex([folder])`:

- nothing changed: median of three runs, against each of the two full builds (the second is the strict one:
  a no-change reindex must not approach the cost of the work around the model either);
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
    cached_embedder,
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


def sizes(quick: bool) -> tuple[int, int]:
    """Articles of the small and the large corpus: about 1k and 10k passages (quick: 500 and 2k)."""
    return (250, 1000) if quick else (485, 4850)


def real_build(emb, folder, work, n_articles: int) -> dict:
    """A full build of `folder` into an empty index with the real embedder: every passage embedded."""
    from index.engine import Engine

    root = fresh_dir(work / f"real-{n_articles}")
    timing = CachedEmbedder(emb)  # no cache: every passage goes through the real embedder
    started = time.perf_counter()
    summary = Engine(root, timing).reindex([folder])
    took = time.perf_counter() - started
    assert summary.passages_embedded == summary.passages, "every passage of a fresh build is embedded"
    shutil.rmtree(root, ignore_errors=True)
    return {"passages": summary.passages, "seconds": took, "embed_seconds": timing.embed_seconds,
            "by": "item 3, same run"}  # fmt: skip


def _measure(emb, cache: VectorCache, n_articles: int, work, runs: int, real: dict | None = None) -> dict:
    from index.engine import Engine

    folder = wikinews_folder(work / f"articles-{n_articles}", n_articles)
    root = fresh_dir(work / f"index-{n_articles}")
    cached = cached_embedder(emb, cache)
    started = time.perf_counter()
    full = Engine(root, cached).reindex([folder])
    rest = time.perf_counter() - started
    assert cached.embedded == 0, f"the build without embedding embedded {cached.embedded} passage(s)"
    if real is not None:
        assert real["passages"] == full.passages, (real["passages"], full.passages)
    engine = Engine(root, cached_embedder(emb, cache))
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
    timing = CachedEmbedder(emb)  # no cache: times every passage it embeds
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
        "real": real,
        "unchanged": median(unchanged),
        "edited": median([e["seconds"] for e in edited]),
        "own": median([e["own"] for e in edited]),
        "embedded": median([e["embedded"] for e in edited]),
    }
    real_text = f"real full build {real['seconds']:.0f} s ({real['by']}); " if real else ""
    say(f"  {full.passages:,} passages: {real_text}build without embedding {rest:.1f} s; nothing changed "
        f"{m['unchanged']:.2f} s; one article edited {m['edited']:.2f} s, of which its own {m['embedded']:.0f} "
        f"passage(s) {m['own']:.2f} s")  # fmt: skip
    state_index = {"root": root, "folder": folder}
    m.update(state_index)
    return m


def run(emb, quick: bool, state: dict) -> list[Result]:
    work = fresh_dir(CACHE / "work" / "incremental")
    cache = VectorCache(emb)
    distinct = wikinews_folder(work / "distinct", 100)
    cache.fill(passage_texts(distinct))
    small, large = sizes(quick)
    runs = 2 if quick else 3
    a = _measure(emb, cache, small, work, runs)
    real = state.get("full_builds", {}).get(large)
    if real is None:  # item 1 did not build this corpus in this run: build it here, for real
        say(f"  real full build of {large:,} articles (item 1 did not run) ...")
        real = real_build(emb, wikinews_folder(work / f"articles-{large}", large), work, large)
    b = _measure(emb, cache, large, work, runs, real)
    state["incremental_index"] = (b["root"], b["folder"])
    n = f"{b['passages']:,}"
    over_a, over_b = max(a["edited"] - a["own"], 1e-3), b["edited"] - b["own"]
    return [
        target_result(f"reindex, nothing changed, {n} passages: share of a real full build", b["unchanged"]
                      / real["seconds"] * 100, "%", "<=", 5, real["seconds"],
                      f"{b['unchanged']:.2f} s vs {real['seconds']:.0f} s, the build measured by {real['by']} "
                      "(baseline column: that build, s)"),
        target_result(f"reindex, nothing changed, {n} passages: share of the build without embedding",
                      b["unchanged"] / b["rest"] * 100, "%", "<=", 5, b["rest"],
                      f"{b['unchanged']:.2f} s vs {b['rest']:.1f} s: a full rebuild with every vector from the cache, "
                      "only the work around the model (baseline column: that build, s)"),
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
