"""Each sentence's cosine with the question, for the passages whose quote (or rank) is judged by meaning."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from index.answer.fuse import Candidate, scaled
from index.embedding import Embedder
from index.records import Passage
from index.store.base import Store
from index.tuning import Profile


def sentence_cosines(store: Store, embedder: Embedder, cands: Sequence[Candidate], qvec: np.ndarray | None,
                     passages: Mapping[int, Passage] | None = None,
                     known: Mapping[int, np.ndarray] | None = None, *,
                     embed: bool = True) -> dict[int, np.ndarray]:  # fmt: skip
    """Passage id -> the cosine of each of its sentences with the question, for `cands` (and what `known` holds).

    The sentence vectors the store computed at index time are read; the sentences of passages it has none of
    (a segment written before them) are embedded in one batch by the model's document path (they are read as
    passages are, the question as a query), unless `embed` is false: those passages are then left out (embedding
    a re-rank pool's sentences at question time costs about a second on 2 cores). Those of a passage in `known`
    are not looked at again. `passages` saves loading what the caller has already loaded.
    """
    out = dict(known or {})
    todo = [pid for pid in dict.fromkeys(c.pid for c in cands) if pid not in out]
    if not todo or qvec is None:
        return out
    q = np.asarray(qvec, dtype=np.float32)[0]
    stored = store.sentence_vectors(todo)
    for pid, vectors in stored.items():
        out[pid] = vectors @ q
    todo = [pid for pid in todo if pid not in stored]
    if not todo or not embed:
        return out
    loaded = passages if passages is not None and all(p in passages for p in todo) else store.passages(todo)
    spans: list[tuple[int, int]] = []  # passage id, its number of sentences
    texts: list[str] = []
    for pid in todo:
        p = loaded.get(pid)
        if p is None or not p.sentences:
            continue
        article = store.article_text(p.article_id)
        texts += [article[a:b] for a, b in p.sentences]
        spans.append((pid, len(p.sentences)))
    if not texts:
        return out
    sims = embedder.encode_documents(texts) @ q
    i = 0
    for pid, n in spans:
        out[pid] = sims[i : i + n]
        i += n
    return out


def best_cosines(cosines: Mapping[int, np.ndarray], pids: Sequence[int]) -> dict[int, float]:
    """Each passage's best sentence cosine, min-max normalized over `pids` (0 where they do not differ)."""
    return scaled({p: float(np.max(cosines[p])) for p in pids if p in cosines and len(cosines[p])})


def best_cosine(cosines: Mapping[int, np.ndarray] | None, pid: int, otherwise: float) -> float:
    """The best of a passage's sentence cosines, `otherwise` (its own cosine, say) where none is known."""
    found = (cosines or {}).get(pid)
    return float(np.max(found)) if found is not None and len(found) else otherwise


def meaning_of(store: Store, embedder: Embedder, profile: Profile, first: Sequence[Candidate], qvec: np.ndarray | None,
               passages: Mapping[int, Passage], known: Mapping[int, np.ndarray]) -> dict[int, np.ndarray]:  # fmt: skip
    """The sentence cosines the quotes of the `first` passages are chosen with, beside those `known`.

    Read from the index for every passage the profile quotes by meaning; embedded at question time only for a
    passage in another language than the question, which words cannot quote (an index written before sentence
    vectors then still quotes across languages, and in the question's language by words, as it did).
    """
    wanted = [c for c in first if by_meaning(profile, c)]
    out = sentence_cosines(store, embedder, wanted, qvec, passages, known, embed=False)
    return sentence_cosines(store, embedder, [c for c in wanted if c.cross], qvec, passages, out)


def by_meaning(profile: Profile, cand: Candidate) -> bool:
    """Whether `profile` chooses this passage's quote by meaning too (a weight for its language pair)."""
    return (profile.sentence_dense if cand.cross else profile.sentence_dense_same) > 0
