"""Sentence vectors stored in a segment, as the Store hands them out (seeded random vectors, no model)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from index.records import Article
from index.store.folder import IndexDir
from index.store.manifest import FORMAT_VERSION, Manifest, write_version
from index.store.segments import SegmentWriter
from index.store.sentence_vectors import OFFSETS, VECTORS

DIM = 8
# Per segment: passage id -> how many sentence vectors it stores (0: none, as a passage copied from an old
# segment); None: a segment written before sentence vectors existed.
SEGMENTS = [{1: 2, 2: 1, 3: 0, 4: 3}, {5: 1, 6: 4}, None]


def _write(root, rng) -> tuple[IndexDir, dict[int, np.ndarray]]:
    index_dir = IndexDir(root)
    staged = index_dir.staging()
    entries, written, pid = [], {}, 1
    for aid, counts in enumerate(SEGMENTS):
        writer = SegmentWriter(index_dir.new_segment(staged))
        writer.add_article(aid, Article(key=f"a{aid}", title="t", text="one two", lang="en", content_hash=f"h{aid}"),
                           "2025-01-01T00:00:00+00:00", None)  # fmt: skip
        pids = list(counts) if counts is not None else [pid, pid + 1]
        sentences = {}
        for p in pids:
            writer.add_passage(p, aid, 0, 0, 7, "one two", f"t{p}", [[0, 3], [4, 7]], "en", ["one", "two"])
            n = counts[p] if counts is not None else 0
            if n:
                v = rng.normal(size=(n, DIM)).astype(np.float32)
                sentences[p] = written[p] = v / np.linalg.norm(v, axis=1, keepdims=True)
        pid = max(pids) + 1
        vectors = rng.normal(size=(len(pids), DIM)).astype(np.float32)
        entries.append(
            writer.finish(np.array(pids), vectors, DIM, 10**6, None if counts is None else sentences)
        )
    manifest = Manifest(format=FORMAT_VERSION, model="random", dimension=DIM, index_type="flat", articles=3,
                        passages=pid - 1, languages={"en": 3}, chunking={}, analyzer=0, created_at="", updated_at="",
                        version=index_dir.version_name(staged), segments=tuple(entries), hidden=0)  # fmt: skip
    write_version(staged, manifest, set(), {})
    index_dir.publish(staged)
    return index_dir, written


@pytest.fixture
def index(tmp_path):
    return _write(tmp_path / "index", np.random.default_rng(3))


def test_the_store_hands_out_what_was_written_and_nothing_it_lacks(index):
    index_dir, written = index
    store = index_dir.load()
    got = store.sentence_vectors(range(1, 12))  # 3 has none stored, 7-8 are an old segment's, 9+ do not exist
    assert set(got) == set(written) == {1, 2, 4, 5, 6}
    for pid, v in written.items():
        assert got[pid].dtype == np.float32 and got[pid].shape == v.shape
        assert np.allclose(got[pid], v, atol=1e-3)  # float16 on disk
    assert store.sentence_vectors([]) == {}
    assert (index_dir.segments / store.manifest.segments[0]["name"] / VECTORS).is_file()
    assert not (index_dir.segments / store.manifest.segments[2]["name"] / VECTORS).exists()


def _damage(folder, how: str) -> None:
    vectors, offsets = folder / VECTORS, folder / OFFSETS
    if how == "truncated":
        vectors.write_bytes(vectors.read_bytes()[:-20])
    elif how == "garbage":
        vectors.write_bytes(b"not a numpy file at all" * 10)
    elif how == "offsets of another segment":
        np.save(offsets, np.array([0, 1, 2], dtype=np.int64))
    elif how == "offsets only":
        vectors.unlink()
    elif how == "other dimension":
        np.save(vectors, np.zeros((7, DIM + 1), dtype=np.float16))
    elif how == "not numbers":
        data = np.load(vectors)
        data[:] = np.nan
        np.save(vectors, data)


@pytest.mark.parametrize("how", ["truncated", "garbage", "offsets of another segment", "offsets only",
                                 "other dimension", "not numbers"])  # fmt: skip
def test_a_damaged_sentences_file_is_logged_and_left_out_never_an_error(index, how, caplog):
    index_dir, _ = index
    first = index_dir.segments / index_dir.load().manifest.segments[0]["name"]
    _damage(first, how)
    with caplog.at_level(logging.WARNING):
        store = index_dir.load()  # the passages are served as before
    got = store.sentence_vectors(range(1, 12))
    assert set(got) == {5, 6}  # the other segment's are still used
    assert store.size == 8 and len(store.passages(range(1, 12))) == 8
    if how != "not numbers":  # non-finite rows are dropped one by one, not the file
        assert "not using the sentence vectors of segment" in caplog.text


def test_a_writer_refuses_sentence_vectors_of_the_wrong_shape(tmp_path):
    writer = SegmentWriter(tmp_path / "seg")
    writer.add_passage(1, 0, 0, 0, 7, "one two", "t1", [[0, 3], [4, 7]], "en", ["one"])
    with pytest.raises(ValueError, match="sentence vectors of passage 1"):
        writer.finish(np.array([1]), np.zeros((1, DIM), np.float32), DIM, 10**6, {1: np.zeros((2, DIM + 1))})
