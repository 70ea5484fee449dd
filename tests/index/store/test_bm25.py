"""BM25 over segments scores like one BM25 index over all their rows (bm25s, the reference)."""

import random

import numpy as np
import pytest

from index.store.bm25 import Bm25, Postings, write_postings


@pytest.mark.parametrize("k1,b", [(1.2, 0.75), (0.6, 0.6)])
def test_segments_score_like_one_bm25s_index(tmp_path, k1, b):
    import bm25s

    rng = random.Random(7)
    words = [f"w{i}" for i in range(40)]
    docs = [[rng.choice(words[: rng.randint(3, 40)]) for _ in range(rng.randint(1, 30))] for _ in range(250)]
    for name, part in (("a", docs[:150]), ("b", docs[150:240]), ("c", docs[240:])):
        write_postings(tmp_path / name, part)
    ours = Bm25([Postings(tmp_path / n) for n in "abc"], k1, b)
    reference = bm25s.BM25(k1=k1, b=b)
    reference.index(docs, show_progress=False)
    for query in (["w1"], ["w2", "w30", "w30"], ["w5", "w39", "w0"]):
        expected = reference.get_scores(query)
        assert np.allclose(ours.scores(query), expected, atol=1e-5)
        rows = [0, 149, 150, 239, 240, 249]
        assert np.allclose(ours.score_rows(query, rows), expected[rows], atol=1e-5)
    assert "w1" in ours and "missing" not in ours and ours.df("missing") == 0
    weight = np.zeros(250, dtype=np.float32)
    weight[:10] = 1
    assert not ours.scores(["w1"], weight)[10:].any()
