"""Keep a ranking from being one article over and over: a cap on passages per article."""

from __future__ import annotations

from collections.abc import Iterable

from index.answer.fuse import Candidate


def diversify(cands: Iterable[Candidate], per_article: int, limit: int) -> list[Candidate]:
    """The first `limit` candidates, best first, with at most `per_article` passages of any one article."""
    per: dict[int, int] = {}
    out = []
    for cand in cands:
        if per.get(cand.article, 0) >= per_article:
            continue
        per[cand.article] = per.get(cand.article, 0) + 1
        out.append(cand)
        if len(out) >= limit:
            break
    return out
