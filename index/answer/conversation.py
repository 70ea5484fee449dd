"""Follow-up questions: what an elliptic question ("Et depuis ?", "who is he?") borrows from the earlier turns.

No rewriting and no model: the earlier questions' content terms and names join the question's own terms (in the
BM25 query and in the terms quotes are chosen by) with weights that decay with each turn back, the articles the
earlier answers quoted get a boost that decays the same way, and the question's vector leans toward the earlier
questions'. What the member reads is unchanged: the quotes are still verbatim sentences of the articles.
Whether a question is a follow-up at all is decided here too (`plan`); the numbers are index/tuning.py's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from index.answer.question import Question, QuestionTerms
from index.answer.retrieve import Found
from index.lang.analyzer import stem_prefixes, term_set
from index.records import Answer
from index.tuning import (
    FOLLOWUP_ARTICLE_BOOST,
    FOLLOWUP_DECAY,
    FOLLOWUP_LEXICAL_REPEATS,
    FOLLOWUP_NAME_WEIGHT,
    FOLLOWUP_OWN_TERMS,
    FOLLOWUP_TERM_WEIGHT,
    FOLLOWUP_VECTOR_WEIGHT,
)


@dataclass(frozen=True)
class Turn:
    """One earlier question of a conversation and what its answer quoted."""

    question: str
    lang: str
    terms: tuple[str, ...]  # the question's own content stems, as parsed
    names: tuple[str, ...]  # its entities: stems of its capitalised words, its numbers and years
    articles: tuple[int, ...]  # the article ids its answer quoted, best first

    @classmethod
    def of(cls, answer: Answer) -> Turn:
        """The turn an answer makes in its conversation."""
        quoted = dict.fromkeys(q.article.id for q in answer.quotes)
        return cls(question=answer.question, lang=answer.lang, terms=answer.terms, names=answer.names,
                   articles=tuple(quoted))  # fmt: skip


@dataclass(frozen=True)
class FollowUp:
    """What a question borrows from its conversation."""

    source: str  # the earlier question that lends the most weight (Answer.context_from)
    weights: Mapping[str, float]  # borrowed stem -> its share of an own term's weight
    prefixes: Mapping[str, str]  # borrowed stem -> the prefix term of the word it came from
    boosts: Mapping[int, float]  # article id -> added to the fused score of its passages
    vectors: Mapping[str, float]  # earlier question text -> its weight in the question's vector
    # True when the question has words enough of its own: it is answered alone first, and keeps that answer
    # unless it abstains.
    check_alone: bool

    def question(self, question: Question) -> Question:
        """`question` with the borrowed stems in its BM25 query and its terms (unweighted: see `weigh`)."""
        own = question.terms
        analyzed = list(question.analyzed) * FOLLOWUP_LEXICAL_REPEATS  # BM25 is max-normalized: only shares count
        for stem, w in self.weights.items():
            analyzed += [stem, self.prefixes[stem]] * max(1, round(w * FOLLOWUP_LEXICAL_REPEATS))
        terms = replace(own, weights={**own.weights, **dict.fromkeys(self.weights, 1.0)},
                        prefixes={**own.prefixes, **self.prefixes})  # fmt: skip
        return replace(question, analyzed=tuple(analyzed), terms=terms)

    def quotes_own_words(self, question: Question, answer: Answer) -> bool:
        """True when the answer's first quote holds one of the question's own stems (or their prefixes)."""
        first = answer.quotes[0] if answer.quotes else None
        return first is not None and bool(question.terms.matched(term_set(first.text, first.article.lang)))

    def weigh(self, terms: QuestionTerms) -> QuestionTerms:
        """Weighed `terms` with each borrowed stem's idf scaled by its share."""
        return replace(terms, weights={s: w * self.weights.get(s, 1.0) for s, w in terms.weights.items()})

    def vector(self, own: np.ndarray, earlier: np.ndarray) -> np.ndarray:
        """The question's vector leaning toward the earlier questions' (rows in `vectors` order), normalized."""
        mixed = own[0] + np.asarray(list(self.vectors.values()), dtype=np.float32) @ earlier
        return (mixed / (np.linalg.norm(mixed) or 1.0)).reshape(1, -1).astype(np.float32)


def plan(question: Question, turns: Sequence[Turn]) -> FollowUp | None:
    """What `question` borrows from `turns` (oldest first); None when they lend nothing."""
    own = set(question.terms.weights)
    weights: dict[str, float] = {}
    prefixes: dict[str, str] = {}
    lent: dict[str, float] = {}
    boosts: dict[int, float] = {}
    vectors: dict[str, float] = {}
    for back, turn in enumerate(reversed(turns)):
        decay = FOLLOWUP_DECAY**back
        names, content = set(turn.names), set(turn.terms)
        for stem, prefix in stem_prefixes(turn.question, turn.lang):
            w = (FOLLOWUP_NAME_WEIGHT if stem in names else FOLLOWUP_TERM_WEIGHT) * decay
            if stem in content and stem not in own and w > weights.get(stem, 0.0):
                weights[stem], prefixes[stem] = w, prefix
                lent[turn.question] = lent.get(turn.question, 0.0) + w
        for rank, aid in enumerate(turn.articles):
            boosts.setdefault(aid, FOLLOWUP_ARTICLE_BOOST * decay / (1 + rank))
        vectors.setdefault(turn.question, FOLLOWUP_VECTOR_WEIGHT * decay)
    if not weights:
        return None
    source = max(lent, key=lambda q: lent[q])  # ties: the most recent (dicts keep insertion order, newest first)
    return FollowUp(source=source, weights=weights, prefixes=prefixes, boosts=boosts, vectors=vectors,
                    check_alone=len(own) > FOLLOWUP_OWN_TERMS)  # fmt: skip


def boosted(found: Found, scores: np.ndarray, boosts: Mapping[int, float]) -> np.ndarray:
    """`scores` plus each candidate's article boost (the articles the conversation quoted)."""
    return scores + np.array([boosts.get(aid, 0.0) for aid in found.articles], dtype=scores.dtype)
