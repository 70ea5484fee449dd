"""How far the hand-set quote choice is from one fitted on the same sentence features (issue 13).

    python -m benchmarks.quote_choice [--limit N] [--out F]

Dev sets only (never piaf.test): piaf.dev, xquad_en and squad2_dev's answerable questions in the question's
language ("same"), xquad en->de, en->es and es->en across languages ("x"). Each set is indexed as `make eval`
indexes it (benchmarks/cache's vectors, sentence vectors stored at index time), and every answerable question is
quoted from its gold passage: the measure is whether the quote holds the answer when the right passage is found
(quote@1 is about R@1 times this, less the abstentions).

Each sentence shows the features the hand-set choice reads (index/answer/quotes.py: its words' score, the number /
date / name cues, its position, its cosine with the question min-max normalized over the passage) and a few it
does not (the asked answer type's spans, index/answer/answer_type.py; the cosine's gap to the passage's best; its
neighbours' word scores; its length). The hand-set formula is recomputed from them and checked against the real
`choose_quote` on every question. A conditional logit per case (softmax over the passage's sentences, the
sentences holding the answer the positives, L2 on standardized features, scipy's L-BFGS) is then fitted two-fold
by article (fit on one half, measured on the other) and its best sentence grown as the quote is (`grow`).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

from .fit_rerank import _doc, _index, _read, folds

# name -> (passages, questions, case)
SETS = {
    "piaf.dev": ("piaf.passages.jsonl", "piaf.dev.questions.jsonl", "same"),
    "xquad_en": ("xquad_en.passages.jsonl", "xquad_en.questions.jsonl", "same"),
    "squad2_dev": ("squad2_dev.passages.jsonl", "squad2_dev.questions.jsonl", "same"),
    "xquad_en2de": ("xquad_de.passages.jsonl", "xquad_en2de.questions.jsonl", "x"),
    "xquad_en2es": ("xquad_es.passages.jsonl", "xquad_en2es.questions.jsonl", "x"),
    "xquad_es2en": ("xquad_en.passages.jsonl", "xquad_es2en.questions.jsonl", "x"),
}
HAND_SET = ("words", "cues", "cosine")  # what the hand-set choice reads, cues and position folded together
EXTRA = ("answer_type", "cosine_gap", "previous_words", "next_words", "length", "first")
FEATURES = (*HAND_SET, *EXTRA)


def sentence_rows(store, embedder, profile, questions: list[dict]) -> tuple[list[dict], int]:
    """Per answerable question of `questions`: its gold passage's sentences with their FEATURES, whether each
    holds the answer, and whether the hand-set choice's quote does; and how many quotes the recomputed hand-set
    formula reproduced."""
    from index.answer.answer_type import type_match
    from index.answer.question import parse, weighed
    from index.answer.quotes import choose_quote, cue_score, grow, word_scores
    from index.evaluation import _contains

    corpus = store.terms(profile.bm25_k1, profile.bm25_b)
    keys = store.keys()
    asked = [q for q in questions if not q.get("is_impossible") and q.get("passage_id") in keys]
    qvecs = embedder.encode_queries([q["question"] for q in asked])
    rows, same = [], 0
    for q, qvec in zip(asked, qvecs, strict=True):
        aid = keys[q["passage_id"]]
        found = store.dense(qvec[None, :], 1, within=store.select([aid]))
        pid = next(iter(found))
        p = store.passages([pid])[pid]
        text = store.article_text(aid)
        texts = [text[a:b] for a, b in p.sentences]
        stored = store.sentence_vectors([pid]).get(pid)
        cos = np.asarray(stored, dtype=np.float32) @ qvec if stored is not None else np.zeros(len(texts))
        terms = weighed(parse(q["question"], 2000).terms, corpus)
        cross = q.get("passage_lang", q["lang"]) != q["lang"]
        weight = profile.sentence_dense if cross else profile.sentence_dense_same
        real, _ = choose_quote(terms, p, text, store.articles[aid], 0.0, highlight=False, similarity=cos,
                               similarity_weight=weight)  # fmt: skip
        words = word_scores(terms, texts, p.lang)
        low, high = (float(cos.min()), float(cos.max())) if len(cos) else (0.0, 0.0)
        spread = high - low if high > low else 1.0
        feats = []
        for i, x in enumerate(texts):
            kind = type_match(x, terms.answer_type, p.lang)
            feats.append([words[i], cue_score(terms, x, i), (float(cos[i]) - low) / spread if high > low else 0.0,
                          1.0 if kind is None else kind, float(cos[i]) - high, words[i - 1] if i else 0.0,
                          words[i + 1] if i + 1 < len(texts) else 0.0, len(x.split()) / 75, float(i == 0)])  # fmt: skip
        x = np.array(feats, dtype=float)
        lengths = [len(t.split()) for t in texts]
        first, last = grow(x[:, 0] + x[:, 1] + weight * x[:, 2], lengths)
        same += real is not None and (real.start, real.end) == (p.sentences[first][0], p.sentences[last][1])
        rows.append({"question": q, "x": x, "lengths": lengths, "texts": texts, "answers": q["answers"], "weight": weight,
                     "holds": np.array([_contains(t, q["answers"]) for t in texts], dtype=float),
                     "hand_set": bool(real and _contains(real.text, q["answers"]))})  # fmt: skip
    return rows, same


def fit_logit(rows: list[dict], columns: list[int], l2: float = 1e-3) -> np.ndarray:
    """Weights over the raw `columns`: the conditional logit of the sentences that hold the answer."""
    used = [r for r in rows if 0 < r["holds"].sum() < len(r["holds"])]
    stacked = np.vstack([r["x"][:, columns] for r in used])
    mean, std = stacked.mean(axis=0), stacked.std(axis=0)
    std = np.where(std > 1e-9, std, 1.0)
    parts = [((r["x"][:, columns] - mean) / std, r["holds"] > 0) for r in used]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.0, np.zeros_like(w)
        for x, pos in parts:
            s = x @ w
            p_all = np.exp(s - logsumexp(s))
            p_pos = np.exp(s[pos] - logsumexp(s[pos]))
            total += logsumexp(s) - logsumexp(s[pos])
            grad += x.T @ p_all - x[pos].T @ p_pos
        n = len(parts)
        return total / n + l2 * float(w @ w), grad / n + 2 * l2 * w

    w = minimize(loss, np.zeros(len(columns)), jac=True, method="L-BFGS-B").x
    return w / std


def quoted(row: dict, scores: np.ndarray) -> bool:
    """Whether the quote grown from the best of `scores`, as serving grows it, holds the answer."""
    from index.answer.quotes import grow
    from index.evaluation import _contains

    first, last = grow(scores.tolist(), row["lengths"])
    return _contains(" ".join(row["texts"][first : last + 1]), row["answers"])


def compare(rows_by_set: dict[str, list[dict]], case: str, columns: list[int]) -> dict:
    """Two-fold by article: quote holds the answer, fitted (these columns) against hand-set, per set."""
    names = [n for n, (_, _, c) in SETS.items() if c == case and n in rows_by_set]
    rows = [r for n in names for r in rows_by_set[n]]
    fold_of = folds([r["question"] for r in rows])
    out = {n: {"hand_set": 0.0, "fitted": 0.0} for n in names}
    for held in (0, 1):
        w = fit_logit([r for r in rows if fold_of[_doc(r["question"])] != held], columns)
        for n in names:
            for r in rows_by_set[n]:
                if fold_of[_doc(r["question"])] == held:
                    out[n]["fitted"] += quoted(r, r["x"][:, columns] @ w)
    for n in names:
        out[n]["hand_set"] = round(float(np.mean([r["hand_set"] for r in rows_by_set[n]])), 3)
        out[n]["fitted"] = round(out[n]["fitted"] / len(rows_by_set[n]), 3)
    weights = fit_logit(rows, columns)
    return {"sets": out, "weights": {FEATURES[c]: round(float(v), 3) for c, v in zip(columns, weights, strict=True)}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quote_choice", description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="first N questions of each set (a quick look)")
    parser.add_argument("--out", type=Path, default=None, help="write every figure and weight here (JSON)")
    args = parser.parse_args(argv)
    from .eval_all import dev_embedder

    cached = dev_embedder("quote_choice")
    if cached is None:
        return 3
    embedder, disk = cached
    from index.answer.config import SearchConfig
    from index.engine import Engine

    started = time.perf_counter()
    rows_by_set: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="newsdesk-quote-choice-") as tmp:
        for name, (passages, questions, _) in SETS.items():
            root = Path(tmp) / name
            _index(_read(passages), embedder, root)
            engine = Engine(root, embedder, SearchConfig())
            rows, same = sentence_rows(engine.snapshot, embedder, engine.profile, _read(questions)[: args.limit])
            rows_by_set[name] = rows
            print(f"{name}: {len(rows)} questions, hand-set formula reproduced for {same}", flush=True)
        disk.save()
    hand = [FEATURES.index(n) for n in HAND_SET]
    result = {"model": embedder.name, "cases": {}}
    for case in ("same", "x"):
        result["cases"][case] = {"hand_set_features": compare(rows_by_set, case, hand),
                                 "all_features": compare(rows_by_set, case, list(range(len(FEATURES))))}  # fmt: skip
        print(f"quote_choice {case}: {json.dumps(result['cases'][case])}", flush=True)
    result["seconds"] = round(time.perf_counter() - started, 1)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
