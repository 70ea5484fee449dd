"""Apply what readers said about earlier answers to the re-ranked passages (issue 15).

Two effects, both on the re-ranked pool, before the cap per article and the quotes:
- a passage voted "wrong quote" for a question goes last, with no score of its own, for that question and the
  near-identical ones (index/feedback/match.py): it is not quoted for them while other passages are, and its
  article may still be, through another passage;
- a passage of an article marked "outdated" goes just below every passage of a newer article (by date) on the
  same story, i.e. re-ranked at least OUTDATED_SAME_STORY of its score (index/tuning.py): one the answer would
  quote beside it. Judged by the question rather than by text, because a later article on a story says
  new things (index/stories/duplicates.py finds copies of one dispatch, not follow-ups). An article without a
  date cannot be told older, and is left alone.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from index.answer.rerank import Reranked
from index.feedback import FeedbackEffects
from index.feedback.match import article_keys, same_question
from index.store.base import Store
from index.tuning import OUTDATED_SAME_STORY


def apply_feedback(top: Reranked, store: Store, qvec: np.ndarray | None, effects: FeedbackEffects | None) -> Reranked:
    """Demote what readers flagged for this question, and outdated articles behind newer ones on their story."""
    if effects is None or effects.empty or not top.order:
        return top
    keys = article_keys(store)
    demoted = _wrong_quotes(top, keys, qvec, effects)
    final = dict(top.final) | dict.fromkeys(demoted, 0.0)
    final |= _behind_newer(top, store, keys, effects.outdated, final, demoted)
    if final == top.final:
        return top
    order = sorted(top.order, key=lambda c: (c.pid in demoted, -final[c.pid]))
    hand = dict(top.hand) | dict.fromkeys(demoted & top.hand.keys(), 0.0)  # the quotes' cut-off reads it too
    return replace(top, order=order, final=final, hand=hand)


def _wrong_quotes(top: Reranked, keys: dict[int, str], qvec: np.ndarray | None,
                  effects: FeedbackEffects) -> set[int]:  # fmt: skip
    """The passages of the pool voted "wrong quote" for this question or a near-identical one."""
    flagged = {d.article_key for d in effects.demoted}
    out = set()
    for cand in top.order:
        passage = top.passages[cand.pid]
        key = keys.get(passage.article_id)
        if key not in flagged:
            continue
        if any(d.article_key == key and d.quote in passage.text and same_question(d, qvec, effects.same_question)
               for d in effects.demoted):  # fmt: skip
            out.add(cand.pid)
    return out


def _behind_newer(top: Reranked, store: Store, keys: dict[int, str], outdated: frozenset[str],
                  final: dict[int, float], demoted: set[int]) -> dict[int, float]:  # fmt: skip
    """New scores for the passages of outdated articles that a newer article on the same story outranks now."""
    if not outdated:
        return {}
    dates = {c.article: store.articles[c.article].date for c in top.order}
    old = [c for c in top.order if keys.get(c.article) in outdated and dates[c.article] and c.pid not in demoted]
    moved = {}
    for cand in old:
        score = final[cand.pid]
        rivals = [final[c.pid] for c in top.order if c.pid not in demoted and keys.get(c.article) not in outdated
                  and (dates[c.article] or "") > dates[cand.article] and final[c.pid] >= OUTDATED_SAME_STORY * score]  # fmt: skip
        if rivals:
            moved[cand.pid] = math.nextafter(min(rivals), -math.inf)  # just below the last of them
    return moved
