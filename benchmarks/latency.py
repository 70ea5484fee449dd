"""Item 2: ask() latency, in-process and warm, at three sizes; query embedding apart; flat against IVF.

Corpora: the distinct real paragraphs of the evaluation sets (Wikinews fr, PIAF fr, XQuAD en, SQuAD 2.0 en:
about 2,050), each one article, repeated (copy 1, 2, ...) until the index holds 1k, 10k or 100k passages. The
copies' vectors are the cached vector of their paragraph plus seeded noise (see common.CachedEmbedder), so the
index holds distinct points; the index itself is built by Newsdesk's reindex and cached in
benchmarks/cache/indexes/ until the index code changes. At 100k it is IVF (the automatic switch at 50k).

Per question, interleaved: Newsdesk's ask(); the query embedding alone; and the plain baseline
(SentenceTransformer.encode of the question with torch, then IndexFlatIP.search over the same vectors).

Quality at the largest size, on the answers of the served index (IVF at 100k): what IVF costs against exact
search over the same vectors (R@5 within a point, the same ask() path with the exact index swapped in), and,
anchored outside the code under test, the answered share, R@5 counting answered questions only and the first
quote holding the answer, each against the floor a full `make bench` committed for this embedder in
benchmarks/floors.json (recorded by the first such run; a model without one is a SKIP).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

import numpy as np

from .common import (
    NOISE,
    STAT_LABELS,
    Result,
    VectorCache,
    answer_stats,
    article_keys,
    backend_of,
    embedder_identity,
    floor_result,
    median,
    model_key,
    pct,
    plain_model,
    questions,
    record_floors,
    say,
    scaled_index,
    target_result,
)

ANCHORED = ("answered", "answered_r@5", "quote_hit@1")


def index_vectors(index) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) held by a Newsdesk FAISS index: IndexIDMap2 over a flat index, or IVF-Flat."""
    import faiss

    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        lists = ivf.invlists
        ids, vecs = [], []
        for i in range(ivf.nlist):
            n = lists.list_size(i)
            if n:
                ids.append(faiss.rev_swig_ptr(lists.get_ids(i), n).copy())
                codes = faiss.rev_swig_ptr(lists.get_codes(i), n * ivf.code_size)
                vecs.append(np.frombuffer(codes.tobytes(), dtype=np.float32).reshape(n, ivf.d))
        return np.concatenate(ids), np.vstack(vecs)
    idmap = faiss.downcast_index(index)
    flat = faiss.downcast_index(idmap.index)
    ids = faiss.vector_to_array(idmap.id_map)
    return ids, faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * flat.d).reshape(flat.ntotal, flat.d).copy()


def _search_us(index, qv: np.ndarray, k: int = 100) -> float:
    """Median microseconds of one vector search (one query at a time, as ask() does)."""
    times = []
    for i in range(len(qv)):
        started = time.perf_counter()
        index.search(qv[i : i + 1], k)
        times.append(time.perf_counter() - started)
    return median(times) * 1e6


def run(emb, quick: bool, state: dict) -> list[Result]:
    import faiss

    from index.engine import Engine
    from index.store.vectors import new_faiss_index

    sizes = (1_000, 3_000, 10_000) if quick else (1_000, 10_000, 100_000)
    per_set = 25 if quick else 100
    if state.get("limit"):
        per_set = max(1, min(per_set, state["limit"] // 2))
    qs = questions(per_set)
    cache = VectorCache(emb)
    overlap_qs = questions(min(500, per_set * 5))
    cache.fill([q["question"] for q in overlap_qs], "q")
    qv_all = cache.get([q["question"] for q in overlap_qs], "q")
    model = plain_model()
    engines, plain, origins, data = {}, {}, {}, {}
    for n in sizes:
        root, origins[n], _ = scaled_index(n, emb, cache)
        engines[n] = Engine(root, emb)
        data[n] = index_vectors(engines[n].snapshot.segments[0].vectors)  # built in one go: one segment
        plain[n] = faiss.IndexFlatIP(data[n][1].shape[1])
        plain[n].add(data[n][1])
        for q in qs[:5]:
            engines[n].ask(q["question"])
    # Round robin: each question is asked at every size in turn, so all sizes share the machine's noise.
    ask_ms = {n: [] for n in sizes}
    base_ms = {n: [] for n in sizes}
    answers = {n: [] for n in sizes}
    embed_ms = []
    for i, q in enumerate(qs):
        for n in sizes:
            started = time.perf_counter()
            answers[n].append(engines[n].ask(q["question"]))
            ask_ms[n].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        emb.encode_queries([q["question"]])
        embed_ms.append((time.perf_counter() - started) * 1000)
        if i % 4 == 0:  # the plain baseline is slow (torch and FAISS each spin OpenMP threads): every 4th question
            for n in sizes:
                started = time.perf_counter()
                plain[n].search(model.encode_query([q["question"]]), 5)
                base_ms[n].append((time.perf_counter() - started) * 1000)
    out: list[Result] = []
    growth = {}
    for n in sizes:
        ids, vecs = data[n]
        kind = engines[n].snapshot.manifest.index_type
        # Vector search alone, exact and IVF, at this size (IVF as Newsdesk builds it above the threshold).
        exact_us = _search_us(plain[n], qv_all[:100])
        ivf, _ = new_faiss_index(vecs.shape[1], n, 0, train=vecs)
        ivf.add_with_ids(vecs, ids)
        ivf_us = _search_us(ivf, qv_all[:100])
        growth[n] = {"p50": median(ask_ms[n]), "exact_us": exact_us, "ivf_us": ivf_us}
        say(f"  {n:,} passages ({kind}): ask p50 {median(ask_ms[n]):.1f} p95 {pct(ask_ms[n], 95):.1f} ms; baseline "
            f"p50 {median(base_ms[n]):.1f} ms; vector search exact {exact_us:.0f} us, IVF {ivf_us:.0f} us")  # fmt: skip
        label = f"ask() at {n:,} passages ({kind})"
        note = f"baseline ({len(base_ms[n])} q): plain encode (torch) + IndexFlatIP.search"
        if n == 100_000:
            out.append(target_result(f"{label} p50", median(ask_ms[n]), "ms", "<=", 30, median(base_ms[n]), note))
            out.append(target_result(f"{label} p95", pct(ask_ms[n], 95), "ms", "<=", 60, pct(base_ms[n], 95)))
        else:
            out.append(Result(f"{label} p50", median(ask_ms[n]), "ms", None, None, median(base_ms[n]), note))
            out.append(Result(f"{label} p95", pct(ask_ms[n], 95), "ms", None, None, pct(base_ms[n], 95)))
    top = max(sizes)
    say(f"  query embedding alone: p50 {median(embed_ms):.1f} ms, p95 {pct(embed_ms, 95):.1f} ms")
    out.append(Result(f"query embedding alone ({backend_of(emb)}), p50", median(embed_ms), "ms", None, None, None,
                      f"share of ask() p50 at {top:,}: {100 * median(embed_ms) / median(ask_ms[top]):.0f}%"))  # fmt: skip
    out.append(Result(f"query embedding alone ({backend_of(emb)}), p95", pct(embed_ms, 95), "ms", None, None, None))
    kind = engines[top].snapshot.manifest.index_type
    keys = article_keys(engines[top])
    served = answer_stats(answers[top], qs, lambda a: origins[top][keys[a]])
    if kind == "ivf":
        out += _ivf_vs_flat(engines[top], engines[top].dir.root, *data[top], qv_all, qs, served, origins[top])
    out += _anchored(emb, f"bench: ask() at {top:,} scaled passages ({kind})", served, state)
    for engine in engines.values():
        engine.snapshot.close()
    first, last = growth[sizes[0]], growth[sizes[-1]]
    factor = sizes[-1] // sizes[0]
    out.append(Result(f"ask() p50 growth, {sizes[0]:,} -> {sizes[-1]:,} passages ({factor}x)",
                      last["p50"] / first["p50"], "x", None, None, None,
                      " / ".join(f"{n:,}: {g['p50']:.1f} ms" for n, g in growth.items())))  # fmt: skip
    out.append(Result(f"exact vector search growth, {sizes[0]:,} -> {sizes[-1]:,}",
                      last["exact_us"] / first["exact_us"], "x", None, None, None,
                      " / ".join(f"{n:,}: {g['exact_us']:.0f} us" for n, g in growth.items())))  # fmt: skip
    out.append(Result(f"IVF vector search growth, {sizes[0]:,} -> {sizes[-1]:,}",
                      last["ivf_us"] / first["ivf_us"], "x", None, None, None,
                      " / ".join(f"{n:,}: {g['ivf_us']:.0f} us" for n, g in growth.items())))  # fmt: skip
    state["noise"] = NOISE
    return out


def _anchored(emb, scope: str, stats: dict, state: dict) -> list[Result]:
    """The served index's answers against the floors a full `make bench` committed for this embedder; this
    run's figures are recorded where there are none (or where they are higher) unless it asked a subset."""
    key = model_key(emb)
    out = [floor_result(f"{scope[len('bench: '):]}: {STAT_LABELS[m]} ({stats['n']} q)", stats[m], key,
                        [(scope, m, stats["n"])], scope_hint="a `make bench` that asks every question")
           for m in ANCHORED]  # fmt: skip
    if state.get("record_floors"):
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M UTC")
        source = f"{state.get('command', 'python -m benchmarks.run')} {stamp}"
        for line in record_floors(key, embedder_identity(emb), scope, {m: stats[m] for m in ANCHORED}, stats["n"],
                                  source):  # fmt: skip
            say(f"  floor recorded in benchmarks/floors.json: {line}")
    return out


def _ivf_vs_flat(engine, root, ids, vecs, qv_all, qs, served: dict, origin) -> list[Result]:
    """At 100k: IVF (what Newsdesk serves) against exact flat search over the same vectors and queries."""
    import faiss

    from index.engine import Engine

    snap = engine.snapshot
    flat = faiss.IndexIDMap2(faiss.IndexFlatIP(vecs.shape[1]))
    flat.add_with_ids(vecs, ids)
    _, exact = flat.search(qv_all, 5)
    _, approx = snap.segments[0].vectors.search(qv_all, 5)
    overlap = float(np.mean([len(set(a) & set(b)) / 5 for a, b in zip(exact, approx, strict=True)]))
    # The same ask() path with the exact index swapped in for the IVF one.
    exact_engine = Engine(root, engine.embedder, engine.config, engine.build)
    exact_engine.snapshot.segments[0].vectors = flat
    flat_answers = [exact_engine.ask(q["question"]) for q in qs]
    keys = article_keys(engine)
    exact_stats = answer_stats(flat_answers, qs, lambda a: origin[keys[a]])
    r_ivf, r_flat = served["r@5"] * 100, exact_stats["r@5"] * 100
    say(f"  IVF vs flat at {len(ids):,}: dense top-5 overlap {overlap:.3f} on {len(qv_all)} questions; "
        f"ask() R@5 {r_ivf:.1f} (IVF) vs {r_flat:.1f} (flat) on {len(qs)}; answered {served['answered']:.3f}, "
        f"first quote holds the answer {served['quote_hit@1']:.3f} (IVF)")  # fmt: skip
    exact_engine.snapshot.close()
    return [
        Result(f"IVF vs exact, {len(ids):,} passages: dense top-5 overlap ({len(qv_all)} q)", overlap * 100, "%",
               None, None, 100.0, "share of the exact top-5 that IVF also returns"),
        target_result(f"IVF vs exact, {len(ids):,} passages: R@5 through ask() ({len(qs)} q)", r_ivf, "%", ">=",
                      round(r_flat - 1, 1), r_flat, "what IVF costs: within 1 point of the exact flat index "
                      "(both move with the rest of ask(): the anchored rows below hold the served answers)", target_unit="%"),
    ]  # fmt: skip
