"""Near-duplicate articles: the same wire story carried by two outlets, lightly edited.

Told apart by their text, not by embeddings: two articles on one story share a topic and a vector
neighbourhood, while two copies of one dispatch share whole runs of words. Each article becomes the set of
its word 4-grams (folded: accents, case and punctuation do not count); two articles are near-duplicates when
the smaller set has at least half of its 4-grams in the other. Measured on samples/articles: the two copies
of the 6 March 2025 Ariane 6 dispatch share 0.86 of their 4-grams; every other pair of the 20 articles, the
other Ariane 6 follow-ups included, at most 0.02 (tests/index/stories/test_timeline.py checks both).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from functools import lru_cache
from typing import TypeVar

from index.text.normalize import fold

SHINGLE_WORDS = 4
MIN_SHARED = 0.5  # share of the smaller article's 4-grams found in the other

_WORD = re.compile(r"\w+")
K = TypeVar("K", bound=Hashable)


@lru_cache(maxsize=1024)
def shingles(text: str) -> frozenset[int]:
    """The hashed word 4-grams of `text` (a text shorter than 4 words gives its one run of words)."""
    words = _WORD.findall(fold(text))
    n = SHINGLE_WORDS
    if len(words) < n:
        return frozenset([hash(tuple(words))]) if words else frozenset()
    return frozenset(hash(tuple(words[i : i + n])) for i in range(len(words) - n + 1))


def shared(a: str, b: str) -> float:
    """The share of the smaller text's 4-grams that the other holds (0 to 1)."""
    sa, sb = shingles(a), shingles(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / min(len(sa), len(sb))


def near_duplicate(a: str, b: str) -> bool:
    return shared(a, b) >= MIN_SHARED


def groups(keys: Sequence[K], text: Callable[[K], str]) -> list[list[K]]:
    """`keys` grouped by near-duplicate text (transitively), each group and the groups in the order given."""
    parent = {k: k for k in keys}

    def root(k: K) -> K:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    texts = {k: text(k) for k in keys}
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            if root(a) != root(b) and near_duplicate(texts[a], texts[b]):
                parent[root(b)] = root(a)
    out: dict[K, list[K]] = {}
    for k in keys:
        out.setdefault(root(k), []).append(k)
    return list(out.values())
