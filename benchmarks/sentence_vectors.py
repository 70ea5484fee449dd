"""Issue 13: sentence vectors at index time, measured (not one of `benchmarks.run`'s items; figures in the report).

    .venv/bin/python -m benchmarks.sentence_vectors choice 300   # (a) separate sentences vs (b) late chunking
    .venv/bin/python -m benchmarks.sentence_vectors cost 200 2   # ingestion, size, ask() latency

`choice`: over the gold passage's sentences, how often the sentence with the highest cosine to the question
holds a gold answer: (a) each sentence embedded as a document of its own, (b) the passage's own token states
mean-pooled over the sentence's tokens ("late chunking", same forward pass), the most shared question terms,
the first sentence, and the ceiling (a sentence holds the answer at all); plus embedding seconds per 1,000
passages. `cost`: all piaf passages indexed with and without sentence vectors (interleaved rounds), their size
on disk, and ask() p50/p95 with the question vectors known, by configuration, questions interleaved and rotated.
"""

from __future__ import annotations

import json
import shutil
import sys
import time

import numpy as np

from .common import CACHE, newsdesk_embedder, read_jsonl, setup_env


def _late_chunks(emb, texts, spans):
    """(b): per text, its vector and its sentences' vectors from one forward pass (the ONNX encoder's graph)."""
    enc, prompt = emb._load(), emb._document_prompt or ""
    pvecs, svecs, missing = [], [], 0
    for e, sp in zip(enc.tokenizer.encode_batch([prompt + t for t in texts]), spans, strict=True):
        ids = np.array([e.ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        hidden = enc.session.run(None, {k: v for k, v in feed.items() if k in enc.inputs})[0][0]
        pvecs.append(hidden.mean(axis=0) / np.linalg.norm(hidden.mean(axis=0)))
        starts = np.array([o[0] for o in e.offsets]) - len(prompt)
        plain = ~np.array(e.special_tokens_mask, dtype=bool)
        rows = []
        for a, b in sp:
            sel = plain & (starts >= a) & (starts < b)
            missing += not sel.any()  # past the 512-token truncation
            v = hidden[sel].mean(axis=0) if sel.any() else np.zeros(hidden.shape[1], dtype=np.float32)
            rows.append(v / max(np.linalg.norm(v), 1e-12))
        svecs.append(np.array(rows, dtype=np.float32))
    return np.array(pvecs), svecs, missing


def _choice(name: str, qfile: str, pfile: str, emb, n: int) -> dict:
    from index.evaluation import _contains
    from index.lang.analyzer import analyze
    from index.text.chunking import whole_text_window

    passages = {r["id"]: r for r in read_jsonl(pfile)}
    qs = [q for q in read_jsonl(qfile) if not q.get("is_impossible") and q["passage_id"] in passages]
    qs = qs[:: max(1, len(qs) // n)][:n]
    gold = list(dict.fromkeys(q["passage_id"] for q in qs))
    texts = [passages[p]["text"] for p in gold]
    spans = [list(whole_text_window(t).sentences) for t in texts]
    seconds = {}
    started = time.perf_counter()
    emb.encode_documents(texts)
    seconds["passages"] = time.perf_counter() - started
    started = time.perf_counter()
    flat = emb.encode_documents([t[a:b] for t, sp in zip(texts, spans, strict=True) for a, b in sp])
    seconds["separate_sentences"] = time.perf_counter() - started
    started = time.perf_counter()
    _, late, missing = _late_chunks(emb, texts, spans)
    seconds["late_chunking_unbatched"] = time.perf_counter() - started
    separate = np.split(flat, np.cumsum([len(sp) for sp in spans])[:-1])
    at = {p: j for j, p in enumerate(gold)}
    hits = dict.fromkeys(("a", "b", "lexical", "first", "ceiling"), 0)
    for q, v in zip(qs, emb.encode_queries([q["question"] for q in qs]), strict=True):
        j = at[q["passage_id"]]
        sentences = [texts[j][a:b] for a, b in spans[j]]
        holds = [_contains(s, q["answers"]) for s in sentences]
        terms = set(analyze(q["question"], q.get("lang")))
        lang = passages[q["passage_id"]].get("lang")
        shared = [len(terms & set(analyze(s, lang))) for s in sentences]
        picks = {
            "a": np.argmax(separate[j] @ v),
            "b": np.argmax(late[j] @ v),
            "lexical": np.argmax(shared),
            "first": 0,
        }
        for k, c in picks.items():
            hits[k] += holds[int(c)]
        hits["ceiling"] += any(holds)
    return {"set": name, "questions": len(qs), "passages": len(gold), "sentences": len(flat),
            "best_sentence_holds_answer": {k: round(h / len(qs), 3) for k, h in hits.items()},
            "seconds_per_1000_passages": {k: round(1000 * s / len(gold), 1) for k, s in seconds.items()},
            "late_sentences_past_truncation": missing}  # fmt: skip


def choice(n: int) -> None:
    emb = newsdesk_embedder()
    print(json.dumps({"identity": emb.identity}), flush=True)
    for args in (("piaf.dev", "piaf.dev.questions.jsonl", "piaf.passages.jsonl"),
                 ("xquad_en2de", "xquad_en2de.questions.jsonl", "xquad_de.passages.jsonl")):  # fmt: skip
        print(json.dumps(_choice(*args, emb, n)), flush=True)


def _build(emb, articles, root, sentence_vectors: bool) -> float:
    from index.build.options import BuildOptions
    from index.build.reindex import reindex_articles
    from index.store.folder import IndexDir

    shutil.rmtree(root, ignore_errors=True)
    options = BuildOptions(whole_articles=True, max_removal_share=1.0, sentence_vectors=sentence_vectors)
    started = time.perf_counter()
    reindex_articles(IndexDir(root), articles, emb, options)
    return time.perf_counter() - started


def _latency(real, roots: dict, n: int) -> None:
    from index.answer.config import SearchConfig
    from index.embedding import CachedEmbedder
    from index.engine import Engine
    from index.evaluation import _contains

    qs = [q for q in read_jsonl("piaf.dev.questions.jsonl") if not q.get("is_impossible")]
    qs = qs[:: max(1, len(qs) // n)][:n]
    emb = CachedEmbedder(real, queries={})  # question vectors known; sentences pass through to the model
    emb.encode_queries([q["question"] for q in qs])
    words = SearchConfig(min_confidence=0.0, sentence_dense_same=0.0, rerank_dense=0.0)
    meaning = SearchConfig(min_confidence=0.0, sentence_dense_same=0.5, rerank_dense=0.1)
    engines = {"words only, stored": Engine(roots["with"], emb, words),
               "meaning, stored": Engine(roots["with"], emb, meaning),
               "meaning, embedded at question time": Engine(roots["without"], emb, meaning),
               "words only, index without": Engine(roots["without"], emb, words)}  # fmt: skip
    for e in engines.values():
        e.ask("warm up?")
    names, ms, hit = list(engines), {k: [] for k in engines}, dict.fromkeys(engines, 0)
    for i, q in enumerate(qs):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            started = time.perf_counter()
            answer = engines[name].ask(q["question"])
            ms[name].append(1000 * (time.perf_counter() - started))
            hit[name] += bool(answer.quotes) and _contains(answer.quotes[0].text, q["answers"])
    for name in names:
        print(json.dumps({"config": name, "questions": len(qs), "p50_ms": round(float(np.percentile(ms[name], 50)), 1),
                          "p95_ms": round(float(np.percentile(ms[name], 95)), 1),
                          "quote@1": round(hit[name] / len(qs), 3)}), flush=True)  # fmt: skip


def cost(n: int = 200, rounds: int = 2) -> None:
    from index.evaluation import passages_as_articles
    from index.files import dir_size

    real = newsdesk_embedder()
    articles = passages_as_articles(read_jsonl("piaf.passages.jsonl"))
    roots = {k: CACHE / "work" / f"sentence-vectors-{k}" for k in ("without", "with")}
    for r in range(rounds):
        for kind in ("without", "with") if r % 2 == 0 else ("with", "without"):
            took = _build(real, articles, roots[kind], kind == "with")
            print(json.dumps({"round": r, "build": kind, "passages": len(articles), "seconds": round(took, 1),
                              "passages_per_s": round(len(articles) / took, 2)}), flush=True)  # fmt: skip
    for kind, root in roots.items():
        files = {p.name: p.stat().st_size for p in (root / "segments").rglob("*") if p.is_file()}
        print(json.dumps({"index": kind, "bytes": dir_size(root), "vectors.faiss": files["vectors.faiss"],
                          "sentence files": files.get("sentences.npy", 0) + files.get("sentence_offsets.npy", 0)}),
              flush=True)  # fmt: skip
    _latency(real, roots, n)


if __name__ == "__main__":
    setup_env()
    what, *numbers = sys.argv[1:] or ["choice"]
    if what == "choice":
        choice(int(numbers[0]) if numbers else 300)
    else:
        cost(*(int(x) for x in numbers[:2]))
