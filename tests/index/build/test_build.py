"""The on-disk index: round trip, incremental reindex, guards, atomic publication (fake embedder)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.engine import Engine
from index.errors import IndexMissing, ModelMismatch, RemovalGuard
from tests.conftest import ROOT, write
from tests.fakes import HashingEmbedder


def test_round_trip_and_manifest(fake_engine, articles_dir):
    s = fake_engine.reindex([articles_dir])
    assert (s.added, s.updated, s.removed, s.failed) == (3, 0, 0, ())
    assert s.passages_embedded == s.passages > 0
    current = fake_engine.dir.current_path()
    manifest = json.loads((current / "manifest.json").read_text())
    assert manifest["model"] == "hashing-test" and manifest["dimension"] == 64
    assert manifest["articles"] == 3 and manifest["index_type"] == "flat"
    # a second engine over the same folder reads the same index from disk
    other = Engine(fake_engine.dir.root, HashingEmbedder())
    assert other.stats().articles == 3 and other.stats().passages == s.passages
    assert other.stats().languages == {"en": 2, "fr": 1}


class _Unloaded(HashingEmbedder):
    """An embedder whose model would have to be loaded to know its dimension (as a real one does)."""

    @property
    def dimension(self) -> int:
        raise AssertionError("the model was loaded")

    @dimension.setter
    def dimension(self, value: int) -> None:
        self._dim = value


def test_nothing_changed_embeds_nothing_and_writes_nothing(fake_engine, articles_dir):
    _age(articles_dir)  # files written just before a reindex are read again once (see articles.settled)
    fake_engine.reindex([articles_dir])
    before = fake_engine.dir.current_path()
    s = fake_engine.reindex([articles_dir])
    assert (s.added, s.updated, s.removed, s.unchanged, s.passages_embedded) == (0, 0, 0, 3, 0)
    assert fake_engine.dir.current_path() == before
    # nor does it load the model (a cron job running `newsdesk reindex` pays seconds for that)
    assert Engine(fake_engine.dir.root, _Unloaded()).reindex([articles_dir]).unchanged == 3


def test_editing_one_file_reembeds_only_its_passages(fake_engine, articles_dir):
    fake_engine.reindex([articles_dir])
    emb = fake_engine.embedder
    seen: list[str] = []
    encode = emb.encode_documents
    emb.encode_documents = lambda texts, progress=None: seen.extend(texts) or encode(texts, progress)
    path = articles_dir / "harbour.txt"
    path.write_text(path.read_text() + "\nThe bridge reopened early, on 20 May, the council said.\n")
    s = fake_engine.reindex([articles_dir])
    assert (s.added, s.updated, s.unchanged) == (0, 1, 2)
    # Only the changed passage is embedded (with its sentences): unchanged passages of the edited article
    # reuse their vectors, the other articles are not read.
    assert 1 <= s.passages_embedded <= 2
    assert "The bridge reopened early, on 20 May, the council said." in seen
    assert all(t in path.read_text() for t in seen)
    assert "20 May" in fake_engine.search("bridge reopened early", k=1)[0].passage.text


def test_deleted_files_are_removed_and_the_guard_stops_a_wipe(fake_engine, articles_dir):
    fake_engine.reindex([articles_dir])
    (articles_dir / "comet.json").unlink()
    s = fake_engine.reindex([articles_dir])
    assert (s.removed, s.articles) == (1, 2)
    empty = articles_dir.parent / "empty"
    empty.mkdir()
    with pytest.raises(RemovalGuard, match="remove 2 of 2"):
        fake_engine.reindex([empty])
    assert fake_engine.stats().articles == 2  # still serving
    assert fake_engine.reindex([empty], force=True).articles == 0


def test_bad_files_are_reported_and_skipped(fake_engine, articles_dir):
    (articles_dir / "blob.txt").write_bytes(b"\x00\x01\x02" * 100)
    (articles_dir / "empty.md").write_text("")
    s = fake_engine.reindex([articles_dir])
    assert s.added == 3
    assert sorted((os.path.basename(f.path), f.reason) for f in s.failed) == [
        ("blob.txt", "binary file, not text"), ("empty.md", "empty file")]  # fmt: skip


def test_another_model_gives_a_clear_error(fake_engine, articles_dir):
    fake_engine.reindex([articles_dir])
    other = Engine(fake_engine.dir.root, HashingEmbedder(dimension=32, name="other-model"))
    with pytest.raises(ModelMismatch, match="configured embedder"):
        other.ask("bridge repairs")
    with pytest.raises(ModelMismatch):
        other.reindex([articles_dir])
    assert other.reindex([articles_dir], force=True).passages_embedded > 0
    assert other.search("harbour bridge cables", k=1)[0].article.title == "Harbour bridge closes for repairs"


def test_missing_index(tmp_path):
    with pytest.raises(IndexMissing, match="No index at"):
        Engine(tmp_path / "none", HashingEmbedder()).ask("anything?")


def test_ivf_above_the_threshold_and_back(tmp_path):
    from dataclasses import replace

    from index.build.reindex import BuildOptions

    folder = tmp_path / "many"
    for i in range(130):
        write(folder / f"a{i}.txt", f"title: Story {i}\n\nTown {i} elected mayor {i * 7} with {i + 3} votes. " * 3)
    engine = Engine(tmp_path / "idx", HashingEmbedder(), build=replace(BuildOptions(), ann_threshold=100))
    s = engine.reindex([folder])
    assert engine.stats().index_type == "ivf" and s.passages == 130
    assert engine.search("Town 42 elected mayor 294", k=1)[0].article.title == "Story 42"
    for i in range(60):
        (folder / f"a{i}.txt").unlink()
    engine.reindex([folder], force=True)
    assert engine.stats().index_type == "flat" and engine.stats().passages == 70
    assert engine.search("Town 99 elected mayor 693", k=1)[0].article.title == "Story 99"


SLOW_REINDEX = """
import sys, time
sys.path.insert(0, {root!r})
from tests.fakes import HashingEmbedder
from index.engine import Engine

class Slow(HashingEmbedder):
    def encode_documents(self, texts, progress=None):
        print("embedding", flush=True)
        time.sleep(30)
        return super().encode_documents(texts, progress)

Engine({index!r}, Slow()).reindex([{folder!r}])
"""


def test_killing_a_reindex_leaves_the_previous_index_loadable(fake_engine, articles_dir):
    fake_engine.reindex([articles_dir])
    write(articles_dir / "new.txt", "title: Late news\n\nA brand new story about the harbour ferries.")
    script = SLOW_REINDEX.format(root=str(ROOT), index=str(fake_engine.dir.root), folder=str(articles_dir))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "embedding"  # mid-write: the staging folder exists
    time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    fresh = Engine(fake_engine.dir.root, HashingEmbedder())
    assert fresh.stats().articles == 3  # the previous version, intact
    assert fresh.search("harbour bridge cables", k=1)[0].article.title == "Harbour bridge closes for repairs"
    s = fresh.reindex([articles_dir])  # the next reindex completes and cleans up
    assert s.added == 1 and fresh.stats().articles == 4


def _segments(engine) -> list[dict]:
    return json.loads((engine.dir.current_path() / "manifest.json").read_text())["segments"]


def _age(folder, seconds: float = 60) -> None:
    """Date every file back, as files that were written well before the index was built."""
    past = time.time() - seconds
    for path in folder.rglob("*.*"):
        os.utime(path, (past, past))


def test_an_edit_adds_one_small_segment_and_hides_the_old_version(fake_engine, articles_dir, monkeypatch):
    import index.build.merge

    monkeypatch.setattr(index.build.merge, "MAX_HIDDEN_SHARE", 1.0)  # no merge: see the two segments
    fake_engine.reindex([articles_dir])
    passages = fake_engine.stats().passages
    path = articles_dir / "harbour.txt"
    path.write_text(path.read_text().replace("eleven weeks", "twelve weeks"))
    fake_engine.reindex([articles_dir])
    first, second = _segments(fake_engine)
    # only the edited article was written: its passages, not the corpus
    assert first["passages"] == passages and 1 <= second["passages"] < passages
    assert fake_engine.stats().articles == 3 and fake_engine.stats().passages == passages
    hit = fake_engine.search("harbour bridge will close for weeks", k=3)
    assert [h.article.title for h in hit].count("Harbour bridge closes for repairs") == 1
    assert "twelve weeks" in hit[0].passage.text and "eleven" not in " ".join(h.passage.text for h in hit)
    # the old version is still loadable (another process may still serve it): its segment is kept
    assert len(list((fake_engine.dir.root / "segments").iterdir())) == 2


def test_unchanged_files_are_not_opened_again(fake_engine, articles_dir, monkeypatch):
    import index.ingest.articles

    _age(articles_dir)
    fake_engine.reindex([articles_dir])
    opened = []
    real = index.ingest.articles.load_file
    monkeypatch.setattr(index.ingest.articles, "load_file", lambda path, *a: opened.append(path.name) or real(path, *a))
    s = fake_engine.reindex([articles_dir])
    assert (s.unchanged, opened) == (3, [])
    # Touched but not changed: read once, nothing embedded, and not read again after that.
    os.utime(articles_dir / "velo.md", (time.time() - 30, time.time() - 30))
    s = fake_engine.reindex([articles_dir])
    assert (opened, s.unchanged, s.passages_embedded) == (["velo.md"], 3, 0)
    opened.clear()
    assert fake_engine.reindex([articles_dir]).unchanged == 3 and opened == []
    # Changed with the same size and an old mtime cannot be seen; a new mtime is enough.
    path = articles_dir / "comet.json"
    path.write_text(path.read_text().replace("faint comet", "faint COMET"))
    s = fake_engine.reindex([articles_dir])
    assert (opened, s.updated) == (["comet.json"], 1)


def test_segments_are_merged_when_they_pile_up(fake_engine, articles_dir, monkeypatch):
    import index.build.merge

    monkeypatch.setattr(index.build.merge, "MAX_SEGMENTS", 3)
    monkeypatch.setattr(index.build.merge, "MAX_HIDDEN_SHARE", 1.0)
    fake_engine.reindex([articles_dir])
    for i in range(6):
        write(articles_dir / f"extra{i}.txt", f"title: Extra {i}\n\nThe lighthouse number {i} was repainted blue.")
        fake_engine.reindex([articles_dir])
        assert len(_segments(fake_engine)) <= 3
    assert fake_engine.stats().articles == 9
    assert fake_engine.search("lighthouse number 4 repainted", k=1)[0].article.title == "Extra 4"
    kept = {s["name"] for v in (fake_engine.dir.root / "versions").iterdir()
            for s in json.loads((v / "manifest.json").read_text())["segments"]}  # fmt: skip
    assert {p.name for p in (fake_engine.dir.root / "segments").iterdir()} == kept  # merged ones were deleted


def test_many_replaced_rows_trigger_a_merge_that_drops_them(fake_engine, articles_dir):
    fake_engine.reindex([articles_dir])
    path = articles_dir / "harbour.txt"
    path.write_text(path.read_text().replace("eleven weeks", "nine weeks"))
    fake_engine.reindex([articles_dir])  # 3 of 3 + 3 rows: over a fifth hidden, so merged at once
    segments = _segments(fake_engine)
    manifest = json.loads((fake_engine.dir.current_path() / "manifest.json").read_text())
    assert len(segments) == 1 and manifest["hidden"] == 0
    assert segments[0]["passages"] == fake_engine.stats().passages
    assert "nine weeks" in fake_engine.search("bridge close weeks", k=1)[0].passage.text


def test_the_state_kept_after_publishing_matches_the_index_on_disk(fake_engine, articles_dir):
    from index.build.options import BuildOptions
    from index.build.reindex import reindex_folders
    from index.build.state import IndexState, StateCache
    from index.store.manifest import Manifest

    cache = StateCache()

    def reindex():
        return reindex_folders(fake_engine.dir, [articles_dir], fake_engine.embedder, BuildOptions(), cache=cache)

    _age(articles_dir)
    reindex()
    harbour = articles_dir / "harbour.txt"
    steps = [  # each step, then a reindex; files are dated back so that every run takes the same path
        lambda: harbour.write_text(harbour.read_text() + "\nMore.\n"),
        lambda: write(articles_dir / "new.txt", "title: New\n\nA new story about the ferries."),
        lambda: None,  # nothing changed
        lambda: os.utime(articles_dir / "velo.md", (time.time() - 20, time.time() - 20)),  # touched only
        lambda: (articles_dir / "comet.json").unlink(),
        lambda: harbour.write_text(harbour.read_text().replace("More.", "Much more.")),
    ]
    for i, step in enumerate(steps):
        step()
        _age(articles_dir, 30 - i)
        reindex()
        path = fake_engine.dir.current_path()
        manifest = Manifest.read(path)
        kept = cache.get(path, manifest)
        fresh = IndexState.read(fake_engine.dir, path, manifest)
        assert kept is not None and kept.path == path
        assert kept.articles == fresh.articles and kept.hidden == fresh.hidden
        assert kept.known_files() == fresh.known_files() and kept.stamps == fresh.stamps


def test_a_second_reindex_through_the_engine_does_not_read_the_index_back(fake_engine, articles_dir, monkeypatch):
    from index.build.state import IndexState

    reads = []
    real = IndexState.read.__func__
    monkeypatch.setattr(IndexState, "read", classmethod(lambda cls, *a: reads.append(1) or real(cls, *a)))
    _age(articles_dir)
    fake_engine.reindex([articles_dir])  # a new index: nothing to read (and no state kept: a build from scratch)
    path = articles_dir / "harbour.txt"
    path.write_text(path.read_text() + "\nThe bridge reopened early.\n")
    fake_engine.reindex([articles_dir])  # reads the state once, keeps it and advances it past its own version
    assert reads == [1]
    _age(articles_dir)
    assert fake_engine.reindex([articles_dir]).unchanged == 3
    path.write_text(path.read_text() + "\nAnd closed again.\n")
    assert fake_engine.reindex([articles_dir]).updated == 1
    assert reads == [1]
    # another engine (another process, in effect) reads the state once, then keeps it
    other = Engine(fake_engine.dir.root, HashingEmbedder())
    other.reindex([articles_dir])
    other.reindex([articles_dir])
    assert reads == [1, 1]


def test_embedding_goes_in_batches_of_the_configured_size_and_stops_within_one(tmp_path):
    import threading
    from dataclasses import replace

    from index.build.options import BuildOptions
    from index.build.reindex import Cancelled

    folder = tmp_path / "many"
    for i in range(12):
        write(folder / f"a{i}.txt", f"title: Story {i}\n\nTown {i} elected mayor {i * 7} with {i + 3} votes.")
    cancel = threading.Event()

    batches: list[int] = []

    class Recording(HashingEmbedder):
        def encode_documents(self, texts, progress=None):
            batches.append(len(texts))
            if len(batches) == 2:
                cancel.set()
            return super().encode_documents(texts, progress)

    engine = Engine(tmp_path / "idx", Recording(), build=replace(BuildOptions(), whole_articles=True, batch_size=5))
    with pytest.raises(Cancelled):
        engine.reindex([folder], cancel=cancel)
    assert batches == [5, 5]  # the third batch was never embedded
    assert not engine.has_index()
    batches.clear()
    cancel.clear()
    assert engine.reindex([folder]).passages_embedded == 12 and batches == [5, 5, 2]


def test_an_index_from_the_previous_format_is_updated_without_embedding(fake_engine, articles_dir):
    """Format 1 kept one passages.sqlite and one vectors.faiss per version; the next reindex reuses them."""
    import shutil

    from index.errors import IndexOutdated

    fake_engine.reindex([articles_dir])
    root = fake_engine.dir.root
    manifest = json.loads((fake_engine.dir.current_path() / "manifest.json").read_text())
    segment = root / "segments" / manifest["segments"][0]["name"]
    old = root / "versions" / "20250101T000000-old"
    old.mkdir()
    shutil.copy(segment / "passages.sqlite", old)
    shutil.copy(segment / "vectors.faiss", old)
    legacy = {k: v for k, v in manifest.items() if k not in ("segments", "hidden", "next_article_id",
                                                              "next_passage_id")}  # fmt: skip
    (old / "manifest.json").write_text(json.dumps(dict(legacy, format=1)))
    (root / "current").unlink()
    (root / "current").symlink_to(Path("versions") / old.name)
    shutil.rmtree(root / "segments")
    for version in (root / "versions").iterdir():
        if version != old:
            shutil.rmtree(version)

    engine = Engine(root, HashingEmbedder())
    assert engine.outdated()
    with pytest.raises(IndexOutdated, match="older Newsdesk"):
        engine.ask("bridge repairs")
    s = engine.reindex([articles_dir])
    assert (s.updated, s.passages_embedded, s.articles) == (3, 0, 3)  # every vector reused
    assert not engine.outdated()
    assert engine.search("harbour bridge cables", k=1)[0].article.title == "Harbour bridge closes for repairs"
