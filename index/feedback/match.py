"""Matching what readers voted on with what an index version holds now: questions and articles."""

from __future__ import annotations

import threading
import weakref

import numpy as np

from index.feedback.records import Demotion
from index.store.base import Store

_keys: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_keys_lock = threading.Lock()


def same_question(demotion: Demotion, qvec: np.ndarray | None, threshold: float) -> bool:
    """True when the question of `qvec` is the one voted on, or near-identical to it.

    Near-identical: the cosine of the two question vectors reaches `threshold` (the model's
    Profile.same_question); the store gives every demotion a vector by the model that serves the index.
    """
    if qvec is None:
        return False
    q = np.asarray(qvec, dtype=np.float32).reshape(-1)
    kept = demotion.vector
    if kept.size != q.size:
        return False
    denom = float(np.linalg.norm(q) * np.linalg.norm(kept))
    return bool(denom) and float(q @ kept) / denom >= threshold


def article_keys(store: Store) -> dict[int, str]:
    """Article id -> key in this index version (read once per version: a version never changes)."""
    with _keys_lock:
        found = _keys.get(store)
        if found is None:
            found = _keys[store] = {aid: key for key, aid in store.keys().items()}
        return found
