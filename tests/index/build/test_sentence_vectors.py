"""Sentence vectors computed when the index is built (issue 13): stored beside the passage vectors, reused by
text, kept by merges, and an index without them (or with a damaged file) still answers (fake embedder)."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pytest

from index.answer.config import SearchConfig
from index.build.options import BuildOptions
from index.build.writer import bytes_for
from index.embedding import CachedEmbedder
from index.engine import Engine
from index.store.sentence_vectors import OFFSETS, VECTORS
from tests.conftest import write
from tests.fakes import HashingEmbedder

QUESTION = "When will the harbour bridge close for repairs?"
BY_MEANING = SearchConfig(min_confidence=0.0, sentence_dense_same=1.0, rerank_dense=0.5)


class Recording(HashingEmbedder):
    """HashingEmbedder that keeps every document text it was asked to encode."""

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []

    def encode_documents(self, texts, progress=None):
        self.texts += texts
        return super().encode_documents(texts, progress)


def _live(engine) -> dict:
    """Passage id -> Passage, for the live passages of the served version."""
    snap = engine.snapshot
    pids = [int(p) for seg in snap.segments for p in seg.rows]
    return {p: v for p, v in snap.passages(pids).items() if v.article_id not in snap.hidden_articles}


def _by_text(engine) -> dict[str, np.ndarray]:
    """Passage text -> its stored sentence vectors (ids change on a rebuild, texts do not)."""
    passages = _live(engine)
    return {passages[p].text: v for p, v in engine.snapshot.sentence_vectors(passages).items()}


def _expected(engine, passage) -> np.ndarray:
    """The chosen method: each sentence embedded as a document of its own."""
    article = engine.snapshot.article_text(passage.article_id)
    return HashingEmbedder().encode_documents([article[a:b] for a, b in passage.sentences])


def _assert_complete(engine) -> None:
    """Every live passage has stored vectors, one per sentence, equal (within float16) to the chosen method's."""
    passages = _live(engine)
    stored = engine.snapshot.sentence_vectors(passages)
    assert set(stored) == set(passages)
    for pid, p in passages.items():
        assert stored[pid].shape == (len(p.sentences), 64)
        assert np.allclose(stored[pid], _expected(engine, p), atol=1e-3)


def _segments(engine):
    return [engine.dir.segments / s["name"] for s in engine.snapshot.manifest.segments]


def test_a_built_index_holds_a_vector_for_each_sentence(fake_engine, articles_dir):
    s = fake_engine.reindex([articles_dir])
    _assert_complete(fake_engine)
    assert (
        sum(len(p.sentences) for p in _live(fake_engine).values()) > s.passages
    )  # several sentences a passage
    assert all((seg / VECTORS).is_file() and (seg / OFFSETS).is_file() for seg in _segments(fake_engine))


def test_a_rebuild_reuses_passage_and_sentence_vectors_and_embeds_nothing(fake_engine, articles_dir):
    fake_engine.reindex([articles_dir])
    before = _by_text(fake_engine)
    emb = Recording()
    engine = Engine(fake_engine.dir.root, emb)
    s = engine.reindex([articles_dir], force=True)
    assert s.passages_embedded == 0 and emb.texts == []
    after = _by_text(engine)
    assert after.keys() == before.keys() and all(np.array_equal(after[t], before[t]) for t in before)


def test_an_edit_embeds_the_changed_passage_s_sentences_only_and_the_merge_keeps_the_others(fake_engine,
                                                                                            articles_dir):  # fmt: skip
    fake_engine.reindex([articles_dir])
    before = _by_text(fake_engine)
    path = articles_dir / "harbour.txt"
    path.write_text(path.read_text() + "\nThe bridge reopened early, on 20 May, the council said.\n")
    emb = Recording()
    engine = Engine(fake_engine.dir.root, emb)
    s = engine.reindex([articles_dir])
    assert s.updated == 1 and len(engine.snapshot.manifest.segments) == 1  # the old segment was merged away
    assert emb.texts and all(t in path.read_text() for t in emb.texts)
    _assert_complete(engine)
    after = _by_text(engine)
    kept = [t for t in before if t in after]
    assert len(kept) >= 2 and all(np.array_equal(after[t], before[t]) for t in kept)


def test_merging_many_segments_keeps_every_sentence_vector(tmp_path):
    folder = tmp_path / "articles"
    engine = Engine(tmp_path / "index", HashingEmbedder())
    for i in range(11):  # one segment per reindex, until the small ones are merged
        write(folder / f"a{i}.txt", f"title: Story {i}\n\nTown {i} elected a mayor. She won {i + 3} votes. "
                                    f"The count took {i + 1} hours.")  # fmt: skip
        engine.reindex([folder])
    assert len(engine.snapshot.manifest.segments) < 11
    _assert_complete(engine)


def _strip_sentence_vectors(engine) -> None:
    """Make the index one written before sentence vectors existed."""
    for seg in _segments(engine):
        (seg / VECTORS).unlink()
        (seg / OFFSETS).unlink()


def test_an_index_without_sentence_vectors_answers_and_force_adds_them_embedding_sentences_only(fake_engine,
                                                                                                articles_dir):  # fmt: skip
    fake_engine.reindex([articles_dir])
    _strip_sentence_vectors(fake_engine)
    emb = Recording()
    engine = Engine(fake_engine.dir.root, emb, BY_MEANING)
    assert engine.snapshot.sentence_vectors(_live(engine)) == {}
    answer = engine.ask(QUESTION)
    assert answer.quotes and answer.quotes[0].article.title == "Harbour bridge closes for repairs"
    assert emb.texts == []  # quoted by words: its sentences are not embedded at question time (about a second)
    passages = {p.text for p in _live(engine).values() if len(p.sentences) > 1}
    emb.texts.clear()
    progress: list[tuple[str, int, int]] = []
    s = engine.reindex([articles_dir], force=True, progress=lambda *a: progress.append(a))
    assert s.passages_embedded == 0 and emb.texts and not passages & set(emb.texts)  # sentences, no passage
    embedding = [(done, total) for stage, done, total in progress if stage == "embedding"]
    assert embedding[-1] == (3, 3) and [d for d, _ in embedding] == sorted(d for d, _ in embedding)
    _assert_complete(engine)
    emb.texts.clear()
    assert engine.ask(QUESTION).quotes and emb.texts == []  # nothing embedded at question time any more


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_damaged_sentences_file_is_logged_and_ask_and_reindex_still_work(fake_engine, articles_dir, damage,
                                                                           caplog):  # fmt: skip
    fake_engine.reindex([articles_dir])
    vectors = _segments(fake_engine)[0] / VECTORS
    vectors.write_bytes(vectors.read_bytes()[:-40] if damage == "truncated" else b"\x93NUMPY garbage" * 9)
    emb = Recording()
    with caplog.at_level(logging.WARNING):
        engine = Engine(fake_engine.dir.root, emb, BY_MEANING)
        answer = engine.ask(QUESTION)
    assert answer.quotes and answer.quotes[0].article.title == "Harbour bridge closes for repairs"
    assert np.isfinite(answer.confidence) and emb.texts == []  # quoted by words instead, nothing embedded
    assert "not using the sentence vectors" in caplog.text
    path = articles_dir / "harbour.txt"
    path.write_text(path.read_text() + "\nThe bridge reopened early, on 20 May, the council said.\n")
    with caplog.at_level(logging.WARNING):
        assert engine.reindex([articles_dir]).updated == 1  # a merge: the damaged file is not copied
    assert "not copying the sentence vectors" in caplog.text
    assert engine.ask(QUESTION).quotes
    passages = _live(engine)
    stored = engine.snapshot.sentence_vectors(passages)
    assert stored and all(
        np.allclose(v, _expected(engine, passages[p]), atol=1e-3) for p, v in stored.items()
    )


def test_without_sentence_vectors_a_build_writes_and_embeds_none(tmp_path, articles_dir):
    emb = Recording()
    engine = Engine(tmp_path / "index", emb, build=replace(BuildOptions(), sentence_vectors=False))
    s = engine.reindex([articles_dir])
    assert len(emb.texts) == s.passages_embedded == s.passages
    assert not any((seg / VECTORS).exists() for seg in _segments(engine))


def test_through_a_cache_a_second_build_embeds_nothing(tmp_path, articles_dir):
    inner = Recording()
    documents: dict = {}
    first = Engine(tmp_path / "one", CachedEmbedder(inner, documents=documents))
    first.reindex([articles_dir])
    embedded = len(inner.texts)
    second = Engine(tmp_path / "two", CachedEmbedder(inner, documents=documents))
    second.reindex([articles_dir])
    assert len(inner.texts) == embedded > 0  # passages and sentences both came from the cache
    one, two = _by_text(first), _by_text(second)
    assert one.keys() == two.keys() and all(np.array_equal(one[t], two[t]) for t in one)


def test_the_size_estimate_counts_the_sentence_vectors(fake_engine, articles_dir):
    from index.ingest import LOADERS

    fake_engine.reindex([articles_dir])
    written = sum(
        (seg / VECTORS).stat().st_size + (seg / OFFSETS).stat().st_size for seg in _segments(fake_engine)
    )
    articles = [a for f in sorted(articles_dir.iterdir()) for a in LOADERS[f.suffix](f, f.read_text())[0]]
    options = BuildOptions()
    extra = bytes_for(articles, 64, options) - bytes_for(
        articles, 64, replace(options, sentence_vectors=False)
    )
    assert written / 2 <= extra <= written * 4


def test_when_the_sentences_are_cut_differently_their_vectors_are_embedded_again(fake_engine, articles_dir,
                                                                                 monkeypatch):  # fmt: skip
    """Same passage text, other sentence boundaries (a splitter change): reused vectors would be another
    sentence's."""
    import index.build.writer as writer
    from index.text.chunking import Window

    fake_engine.reindex([articles_dir])
    cut = writer.windows

    def whole_sentences(article, options):  # each passage as one sentence
        return [Window(w.start, w.end, ((w.start, w.end),)) for w in cut(article, options)]

    monkeypatch.setattr(writer, "windows", whole_sentences)
    emb = Recording()
    engine = Engine(fake_engine.dir.root, emb)
    assert engine.reindex([articles_dir], force=True).passages_embedded == 0
    assert emb.texts  # the passages' new one-sentence spans
    _assert_complete(engine)


def test_with_the_real_model_the_stored_vectors_are_the_sentences_own(tmp_path, articles_dir, real_embedder):
    """int8 ONNX quantizes each batch's activations together: the same text in another batch moves a little."""
    engine = Engine(tmp_path / "index", real_embedder)
    engine.reindex([articles_dir])
    passages = _live(engine)
    stored = engine.snapshot.sentence_vectors(passages)
    assert set(stored) == set(passages)
    for pid, p in passages.items():
        article = engine.snapshot.article_text(p.article_id)
        own = real_embedder.encode_documents([article[a:b] for a, b in p.sentences])
        assert np.min(np.sum(stored[pid] * own, axis=1)) > 0.98
