"""Questions over a corpus in two languages: how a pool that mixes them is ranked (issue 13).

    python -m benchmarks.mixed_corpus [--direction en-de|es-en] [--seed S] [--credits 0.25,0.5] [--x-offsets -0.1,0.1]
                                      [--limit N]

The evaluation sets each hold passages in one language, so `make eval` never ranks a pool that mixes passages in
the question's language with passages in another, which a community's corpus does (French and English articles
on the same stories). Made here from the data, nothing copied: XQuAD's 48 articles split in two by a fixed seed,
one half indexed in the questions' language, the other in another (the same articles, translated): English
questions over English and German paragraphs ("en-de"; English questions have fitted tables), or Spanish
questions over Spanish and English ones ("es-en"; no table: the hand-set formula ranks them, as it ranks French
questions). Each question's gold passage is its article's paragraph in whichever language was indexed ("same" or
"other" side). R@1, quote hit@1 and the quotes shown per answer ("More" included: what the quotes' relative
cut-off lets through) per side, for:

- "shipped": as Newsdesk ranks: a pool of one case by its fitted table where one is kept, a mixed pool by the
  hand-set formula (`rerank.MIXED_POOLS` off);
- "both tables": each passage of a mixed pool by its case's fitted table where both are fitted (an English
  question; `MIXED_POOLS` on), and "x offset D", the same with D added to the cross-language table's bias (how
  the two tables' scales sit against each other: the "same" side gains what the "other" side loses);
- "credit C": the hand-set formula with C for the flat credit of a passage in another language
  (`CROSS_SENTENCE_CREDIT`, index/tuning.py: words cannot be expected across languages; shipped 0.5).

Dev data only (XQuAD's paragraphs and questions); vectors from benchmarks/cache.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys
import tempfile
from pathlib import Path

from .fit_rerank import _index, _read

SEED = 5
# question language -> (passages in it, its gold rows), (passages in the other, their gold rows), the questions' text
DIRECTIONS = {
    "en-de": (("xquad_en.passages.jsonl", "xquad_en.questions.jsonl"),
              ("xquad_de.passages.jsonl", "xquad_en2de.questions.jsonl"), "xquad_en.questions.jsonl"),
    # Spanish questions have no fitted table: the hand-set formula ranks every pool, as it does French ones.
    "es-en": (("xquad_es.passages.jsonl", "xquad_en2es.questions.jsonl"),
              ("xquad_en.passages.jsonl", "xquad_es2en.questions.jsonl"), "xquad_es2en.questions.jsonl"),
}


def mixed_set(seed: int = SEED, direction: str = "en-de") -> tuple[list[dict], list[dict]]:
    """The passages (half of the articles in the questions' language, half in the other) and the questions, each
    with its gold passage in the language its article was indexed in ("side": "same" or "other")."""
    number = lambda doc: doc.split("-")[-1]  # noqa: E731  ("xquad_de-a012" is "xquad_en-a012")
    (same_passages, same_gold), (other_passages, other_gold), texts = DIRECTIONS[direction]
    docs = sorted({number(r["doc_id"]) for r in _read(same_passages)})
    random.Random(seed).shuffle(docs)
    kept = set(docs[: len(docs) // 2])
    passages = [r for r in _read(same_passages) if number(r["doc_id"]) in kept]
    passages += [r for r in _read(other_passages) if number(r["doc_id"]) not in kept]
    gold = {side: {q["id"].split("-", 1)[1]: q for q in _read(f)} for side, f in (("same", same_gold),
                                                                                  ("other", other_gold))}  # fmt: skip
    questions = []
    for q in _read(texts):
        qid = q["id"].split("-", 1)[1]
        side = "same" if number(q["doc_id"]) in kept else "other"
        questions.append(dict(gold[side][qid], question=q["question"], side=side))
    return passages, questions


def measure(engine, questions: list[dict]) -> dict:
    from index.evaluation import _contains

    key_of = {i: k for k, i in engine.snapshot.keys().items()}
    out: dict[str, dict] = {}
    for q in questions:
        a = engine.ask(q["question"], k=3)
        ranked = [key_of[i] for i in a.ranking]
        side = out.setdefault(q["side"], {"n": 0, "r@1": 0, "quote@1": 0, "shown": 0})
        side["n"] += 1
        side["r@1"] += bool(ranked) and ranked[0] == q["passage_id"]
        side["quote@1"] += bool(a.quotes) and _contains(a.quotes[0].text, q["answers"])
        side["shown"] += len(a.quotes) + len(a.more)
    return {s: {"n": v["n"], **{m: round(v[m] / v["n"], 3) for m in ("r@1", "quote@1", "shown")}}
            for s, v in sorted(out.items())}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.mixed_corpus", description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="first N questions (a quick look)")
    parser.add_argument("--seed", type=int, default=SEED, help="which split of the articles into the two languages")
    parser.add_argument("--direction", default="en-de", choices=sorted(DIRECTIONS), help="questions-passages")
    parser.add_argument("--credits", default="", help="comma-separated CROSS_SENTENCE_CREDIT values for the hand-set "
                        "formula (index/tuning.py; shipped 0.5)")
    parser.add_argument("--x-offsets", default="", help="comma-separated offsets of the cross-language table's bias")
    args = parser.parse_args(argv)
    from .eval_all import dev_embedder

    cached = dev_embedder("mixed_corpus")
    if cached is None:
        return 3
    embedder, disk = cached
    import index.answer.rerank as rerank
    from index.answer.config import SearchConfig
    from index.engine import Engine

    passages, questions = mixed_set(args.seed, args.direction)
    questions = questions[: args.limit]
    result = {}
    with tempfile.TemporaryDirectory(prefix="newsdesk-mixed-") as tmp:
        root = Path(tmp) / "mixed"
        _index(passages, embedder, root)
        disk.save()
        shipped = Engine(root, embedder, SearchConfig())
        result["shipped"] = measure(shipped, questions)
        print(f"mixed_corpus shipped: {json.dumps(result['shipped'])}", flush=True)
        shipped_credit = rerank.CROSS_SENTENCE_CREDIT
        try:
            for credit in (float(v) for v in args.credits.split(",") if v.strip()):
                rerank.CROSS_SENTENCE_CREDIT = credit
                result[f"credit {credit:g}"] = measure(Engine(root, embedder, SearchConfig()), questions)
                print(f"mixed_corpus credit {credit:g}: {json.dumps(result[f'credit {credit:g}'])}", flush=True)
        finally:
            rerank.CROSS_SENTENCE_CREDIT = shipped_credit
        mixed, rerank.MIXED_POOLS = rerank.MIXED_POOLS, True
        try:
            for offset in (0.0, *(float(v) for v in args.x_offsets.split(",") if v.strip())):
                weights = copy.deepcopy(dict(shipped.profile.rerank_weights or {}))
                weights["x"] = dict(weights["x"], bias=weights["x"].get("bias", 0.0) + offset)
                name = "both tables" + (f", x offset {offset:+g}" if offset else "")
                result[name] = measure(Engine(root, embedder, SearchConfig(rerank_weights=weights)), questions)
                print(f"mixed_corpus {name}: {json.dumps(result[name])}", flush=True)
        finally:
            rerank.MIXED_POOLS = mixed
    return 0


if __name__ == "__main__":
    sys.exit(main())
