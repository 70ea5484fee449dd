"""The Store query interface of a loaded version, checked against brute-force numpy on seeded random data.

The index is written with the store's own writer (three segments, some articles hidden as replaced), no
model and no build pipeline; every expected answer is computed here from the raw vectors and terms.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from index.records import Article
from index.store.folder import IndexDir
from index.store.manifest import FORMAT_VERSION, Manifest, write_version
from index.store.segments import SegmentWriter

DIM = 16
VOCAB = [f"w{i}" for i in range(30)]
K1, B = 1.2, 0.75
SEGMENTS = [(0, 6), (6, 10), (10, 15)]  # article ids [from, to) per segment
HIDDEN = {1, 4, 7}  # replaced articles: their rows stay in the segments, hidden


class Corpus:
    """What was written, row by row in passage-id order: the brute-force side of every check."""

    def __init__(self, seed: int = 7):
        rng = np.random.default_rng(seed)
        self.pids: list[int] = []
        self.article: list[int] = []
        self.terms: list[list[str]] = []
        pid = 1
        for aid in range(SEGMENTS[-1][1]):
            for _ in range(int(rng.integers(1, 4))):
                self.pids.append(pid)
                self.article.append(aid)
                self.terms.append([VOCAB[int(i)] for i in rng.integers(0, len(VOCAB), int(rng.integers(3, 12)))])
                pid += 1
        vectors = rng.normal(size=(len(self.pids), DIM)).astype(np.float32)
        self.vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        self.article = np.array(self.article)

    def live(self, articles=None, exclude=()) -> np.ndarray:
        ok = ~np.isin(self.article, list(HIDDEN))
        if articles is not None:
            ok &= np.isin(self.article, list(articles))
        return ok & ~np.isin(self.article, list(exclude))

    def bm25(self, query: list[str]) -> np.ndarray:
        """BM25 ("lucene" idf) of every row, hidden rows counting in the statistics as the store documents."""
        n = len(self.terms)
        lengths = np.array([len(t) for t in self.terms], dtype=np.float64)
        avg = lengths.mean()
        out = np.zeros(n)
        for term in query:
            tf = np.array([t.count(term) for t in self.terms], dtype=np.float64)
            df = int((tf > 0).sum())
            if not df:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            out += idf * tf / (tf + K1 * (1 - B + B * lengths / avg))
        return out


def _write_index(root, corpus: Corpus) -> IndexDir:
    index_dir = IndexDir(root)
    staged = index_dir.staging()
    entries = []
    for lo, hi in SEGMENTS:
        writer = SegmentWriter(index_dir.new_segment(staged))
        rows = [j for j, a in enumerate(corpus.article) if lo <= a < hi]
        for aid in range(lo, hi):
            text = " ".join(t for j in rows if corpus.article[j] == aid for t in corpus.terms[j])
            writer.add_article(aid, Article(key=f"a{aid}", title=f"Article {aid}", text=text, lang="en",
                                            content_hash=f"h{aid}"), "2025-01-01T00:00:00+00:00", None)  # fmt: skip
        for j in rows:
            text = " ".join(corpus.terms[j])
            writer.add_passage(corpus.pids[j], int(corpus.article[j]), 0, 0, len(text), text, f"t{j}",
                               [[0, len(text)]], "en", corpus.terms[j])  # fmt: skip
        entries.append(writer.finish(np.array([corpus.pids[j] for j in rows]), corpus.vectors[rows], DIM, 10**6))
    live = int(corpus.live().sum())
    manifest = Manifest(
        format=FORMAT_VERSION, model="random", dimension=DIM, index_type="flat",
        articles=SEGMENTS[-1][1] - len(HIDDEN), passages=live, languages={"en": SEGMENTS[-1][1] - len(HIDDEN)},
        chunking={}, analyzer=0, created_at="", updated_at="", version=index_dir.version_name(staged),
        segments=tuple(entries), hidden=len(corpus.pids) - live,
    )  # fmt: skip
    write_version(staged, manifest, HIDDEN, {})
    index_dir.publish(staged)
    return index_dir


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus()


@pytest.fixture(scope="module")
def store(corpus, tmp_path_factory):
    snapshot = _write_index(tmp_path_factory.mktemp("store") / "index", corpus).load()
    yield snapshot
    snapshot.close()


def _top(scores: np.ndarray, ok: np.ndarray, k: int, pids: list[int]) -> dict[int, float]:
    order = [j for j in np.argsort(-scores, kind="stable") if ok[j]][:k]
    return {pids[j]: float(scores[j]) for j in order}


SELECTIONS = {
    "everything": (None, ()),
    "some articles": ({0, 2, 3, 7, 8, 11, 14}, ()),  # 7 is hidden: it stays out
    "excluding": (None, (0, 8, 12)),
    "some, excluding": ({2, 3, 5, 9, 10, 13}, (3,)),
    "hidden only": ({1, 4}, ()),
}


def test_the_index_is_three_segments_with_hidden_rows(store, corpus):
    assert len(store.manifest.segments) == 3
    assert store.size == len(corpus.pids) and store.hidden_articles == HIDDEN
    assert sorted(store.articles) == [a for a in range(SEGMENTS[-1][1]) if a not in HIDDEN]


@pytest.mark.parametrize("name", SELECTIONS)
def test_dense_is_the_exact_nearest_live_passages_of_the_selection(store, corpus, name):
    articles, exclude = SELECTIONS[name]
    within = store.select(articles, exclude)
    ok = corpus.live(articles, exclude)
    rng = np.random.default_rng(len(name))
    for _ in range(5):
        q = rng.normal(size=(1, DIM)).astype(np.float32)
        q /= np.linalg.norm(q)
        for k in (1, 5, 100):
            want = _top(corpus.vectors @ q[0], ok, k, corpus.pids)
            got = store.dense(q, k, within)
            assert list(got) == list(want)
            assert np.allclose(list(got.values()), list(want.values()), atol=1e-5)


def test_a_selection_of_nothing_but_hidden_articles_finds_nothing(store):
    within = store.select({1, 4})
    q = np.ones((1, DIM), dtype=np.float32) / math.sqrt(DIM)
    assert store.dense(q, 10, within) == {}
    assert store.lexical(["w1", "w2"], 10, within, k1=K1, b=B) == {}
    assert store.select() is None  # every live passage: the fast path


def test_similarity_is_the_inner_product_of_the_stored_vectors(store, corpus):
    q = np.random.default_rng(3).normal(size=(1, DIM)).astype(np.float32)
    some = [0, 5, len(corpus.pids) - 1, 9]
    got = store.similarity(q, [corpus.pids[j] for j in some])
    assert np.allclose([got[corpus.pids[j]] for j in some], corpus.vectors[some] @ q[0], atol=1e-5)


@pytest.mark.parametrize("name", SELECTIONS)
def test_lexical_is_bm25_over_every_segment_as_one_corpus(store, corpus, name):
    articles, exclude = SELECTIONS[name]
    within = store.select(articles, exclude)
    ok = corpus.live(articles, exclude)
    for query in (["w3"], ["w1", "w7", "w7"], ["w2", "w11", "nothere"]):
        full = corpus.bm25(query)
        for k in (3, 100):
            want = [s for s in _top(full, ok, k, corpus.pids).values() if s > 0]
            got = store.lexical(query, k, within, k1=K1, b=B)
            # the best scores (ties may pick either passage), each the passage's own score, in the selection
            assert np.allclose(sorted(got.values(), reverse=True), want, rtol=1e-5)
            rows = [corpus.pids.index(p) for p in got]
            assert all(ok[rows]) and np.allclose(list(got.values()), full[rows], rtol=1e-5)


def test_also_passages_get_their_full_bm25_score(store, corpus):
    query = ["w4", "w9"]
    full = corpus.bm25(query)
    ok = corpus.live()
    top = _top(full, ok, 2, corpus.pids)
    others = [j for j in range(len(corpus.pids)) if ok[j] and corpus.pids[j] not in top][:6]
    also = [corpus.pids[j] for j in others]
    got = store.lexical(query, 2, None, k1=K1, b=B, also=also)
    assert set(got) == set(top) | set(also)
    assert np.allclose([got[corpus.pids[j]] for j in others], full[others], rtol=1e-5)
    scores = store.lexical_scores(query, also, k1=K1, b=B)
    assert np.allclose([scores[p] for p in also], full[others], rtol=1e-5)


def test_term_statistics_and_article_of(store, corpus):
    terms = store.terms(K1, B)
    assert "w5" in terms and "nothere" not in terms
    n = len(corpus.terms)
    df = sum("w5" in t for t in corpus.terms)
    assert terms.idf("w5") == pytest.approx(math.log(1 + (n - df + 0.5) / (df + 0.5)))
    pids = [corpus.pids[j] for j in (0, 7, len(corpus.pids) - 1)] + [10**6]
    assert store.article_of(pids) == {corpus.pids[j]: int(corpus.article[j]) for j in (0, 7, len(corpus.pids) - 1)}


def test_passages_and_article_text_are_read_back(store, corpus):
    j = len(corpus.pids) - 2
    (p,) = store.passages([corpus.pids[j]]).values()
    assert (p.article_id, p.text) == (int(corpus.article[j]), " ".join(corpus.terms[j]))
    assert p.text in store.article_text(int(corpus.article[j]))
    assert store.article_text(1) == ""  # hidden
