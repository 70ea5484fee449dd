"""What the abstention decision looks at: how well the best passage covers the question, and how clearly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from index.answer.answer_type import type_match
from index.answer.fuse import Candidate
from index.answer.question import Question, QuestionTerms, numbers_in
from index.answer.sentences import best_cosine
from index.lang.analyzer import term_set
from index.records import Passage
from index.store.base import Store
from index.stories.duplicates import near_duplicate
from index.tuning import CALIBRATION_B, CALIBRATION_K1


def evidence(store: Store, question: Question, terms: QuestionTerms, ranked: Sequence[Candidate],
             final: Mapping[int, float], passages: Mapping[int, Passage], *, k1: float, b: float,
             cosines: Mapping[int, np.ndarray] | None = None) -> dict[str, float] | None:  # fmt: skip
    """The abstention features of the best of `ranked`; None when it has no passage or the question no terms.

    All features are in about 0..1 whatever the index size: idf-weighted coverage of the question's stems
    by the passage (and with idf squared, which favours rare words) and by its best sentence, the dense
    cosine, the BM25 score as a share of the most the question could score, the lead over the next
    passage that is not a copy of it (`rival`), the shares of the question's names and numbers found, the weight of the most important
    question word left unmatched, the share of the question's weight no indexed passage contains, and
    whether the passage and its best sentence hold a span of the asked answer type (index/answer/answer_type.py:
    1, 0.5 for a weak kind, 0; 1 when the type has none, a yes-no question), and the best cosine of one of its
    sentences with the question where `cosines` holds them (index/answer/sentences.py; else the passage's).
    `k1` and `b` are the ranking's BM25 parameters (which terms the index holds does not depend on them).
    """
    best = ranked[0]
    p = passages.get(best.pid)
    if p is None or not terms.weights:
        return None
    weights = terms.weights
    found = terms.matched(term_set(f"{store.articles[p.article_id].title}\n{p.text}", p.lang))
    text = store.article_text(p.article_id)
    sentences = [text[start:end] for start, end in p.sentences]
    matched = [terms.matched(term_set(x, p.lang)) for x in sentences]
    best_index = max(range(len(matched)), key=lambda i: sum(weights[s] * v for s, v in matched[i].items()),
                     default=None)  # fmt: skip
    best_sentence = matched[best_index] if best_index is not None else {}
    types = [type_match(x, terms.answer_type, p.lang) for x in sentences]
    unmatched = [w for s, w in weights.items() if s not in found]
    squared = {s: w * w for s, w in weights.items()}
    corpus = store.terms(k1, b)
    unknown = sum(w for s, w in weights.items() if s not in corpus and terms.prefixes.get(s) not in corpus)
    names = [s for s in terms.names if s in weights]
    second = rival(ranked, final, passages)
    top = final.get(best.pid, best.fused)
    numbers = question.numbers
    return {
        "coverage": sum(weights[s] * m for s, m in found.items()) / terms.total,
        "coverage_rare": sum(squared[s] * m for s, m in found.items()) / (sum(squared.values()) or 1.0),
        "dense": best.dense,
        "lexical": _lexical_share(store, question, best.pid),
        "margin": min(max(top - second, 0.0), 1.0),
        "names": sum(found.get(s, 0.0) for s in names) / len(names) if names else 1.0,
        "unknown": unknown / terms.total,
        "max_unmatched": max(unmatched, default=0.0) / terms.total,
        "numbers": len(numbers & numbers_in(p.text)) / len(numbers) if numbers else 1.0,
        "sentence_coverage": sum(weights[s] * v for s, v in best_sentence.items()) / terms.total,
        "answer_type": max((1.0 if t is None else t for t in types), default=0.0),
        "answer_type_sentence": 0.0 if best_index is None else _or_one(types[best_index]),
        "sentence_dense": best_cosine(cosines, best.pid, best.dense),
    }


def rival(ranked: Sequence[Candidate], final: Mapping[int, float], passages: Mapping[int, Passage]) -> float:
    """The final score of the best passage's strongest rival: the next one of `ranked` that is not a copy of it.

    A wire story run by two outlets, or an article indexed twice lightly edited, is one answer and not two
    rival ones: a near-duplicate passage (index/stories/duplicates.py: half of the smaller one's word 4-grams
    in the other) is skipped, or the lead over "the next passage" would be nothing and the bot would abstain
    because the story was carried twice. 0 when nothing else is ranked.
    """
    first = passages.get(ranked[0].pid) if ranked else None
    for cand in ranked[1:]:
        if cand.pid not in final:
            continue
        other = passages.get(cand.pid)
        if first is not None and other is not None and near_duplicate(first.text, other.text):
            continue
        return final[cand.pid]
    return 0.0


def _or_one(match: float | None) -> float:
    return 1.0 if match is None else match


def _lexical_share(store: Store, question: Question, pid: int) -> float:
    """The passage's BM25 score as a share of the most the question could score, as the abstention models were
    fitted with it (CALIBRATION_K1 / CALIBRATION_B), whatever ranks."""
    calibration = store.terms(CALIBRATION_K1, CALIBRATION_B)
    score = store.lexical_scores(question.analyzed, [pid], k1=CALIBRATION_K1, b=CALIBRATION_B)[pid]
    ceiling = (CALIBRATION_K1 + 1) * sum(calibration.idf(t) for t in question.analyzed)  # the most each term scores
    return score / ceiling if ceiling > 0 else 0.0
