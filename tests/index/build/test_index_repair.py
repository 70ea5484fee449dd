"""A damaged index folder, a full disk, a writer killed while publishing: what `ask` says, and what repairs it."""

import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from index.engine import Engine
from index.errors import DiskFull, IndexCorrupt, IndexNotAFolder, ReindexRunning
from index.store.folder import KEEP_VERSIONS, IndexDir
from index.store.segments import check_segment
from tests.conftest import ROOT, write
from tests.fakes import HashingEmbedder
from tests.index.build.test_build import SLOW_REINDEX

QUESTION = "When will the harbour bridge close for repairs?"


def _manifest(engine) -> dict:
    return json.loads((engine.dir.current_path() / "manifest.json").read_text())


def _segment(engine) -> Path:
    return engine.dir.segments / _manifest(engine)["segments"][0]["name"]


def _answers(root: Path) -> bool:
    answer = Engine(root, HashingEmbedder()).ask(QUESTION)
    return any(q.article.title == "Harbour bridge closes for repairs" for q in answer.quotes)


# --- 1. Corrupt files: `reindex --force`, and a plain reindex, rebuild what cannot be read ------------------

SEGMENT_FILES = ["passages.sqlite", "vectors.faiss", "rows.npy", "lexical/vocab.json", "lexical/indptr.npy",
                 "lexical/docs.npy", "lexical/tfs.npy", "lexical/lengths.npy"]  # fmt: skip
VERSION_FILES = ["manifest.json", "deleted.npy"]


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "missing":
        path.unlink()
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "garbled":  # the same size, other bytes, some time after it was written
        time.sleep(0.05)
        path.write_bytes((b"\x93garbage\xff" * (len(data) // 10 + 1))[: len(data)])


@pytest.mark.parametrize("force", [True, False], ids=["force", "plain"])
@pytest.mark.parametrize("how", ["missing", "truncated", "empty", "garbled"])
@pytest.mark.parametrize("name", SEGMENT_FILES + VERSION_FILES)
def test_a_damaged_index_is_rebuilt_by_reindex(fake_engine, articles_dir, name, how, force):
    fake_engine.reindex([articles_dir])
    broken = _segment(fake_engine)
    target = (fake_engine.dir.current_path() if name in VERSION_FILES else broken) / name
    _damage(target, how)
    if not (name == "deleted.npy" and how == "missing"):  # no article is hidden: nothing is lost without it
        with pytest.raises(IndexCorrupt, match="cannot be read"):
            Engine(fake_engine.dir.root, HashingEmbedder()).ask(QUESTION)

    s = Engine(fake_engine.dir.root, HashingEmbedder()).reindex([articles_dir], force=force)
    assert s.articles == 3
    assert _answers(fake_engine.dir.root)
    # the new version does not name the broken segment, and every segment it names opens and agrees
    manifest = _manifest(fake_engine)
    if name in SEGMENT_FILES:
        assert broken.name not in {seg["name"] for seg in manifest["segments"]}
    for seg in manifest["segments"]:
        check_segment(fake_engine.dir.segments / seg["name"], {"passages": seg["passages"]}, manifest["dimension"])
    # and the next plain reindex finds nothing to do
    assert Engine(fake_engine.dir.root, HashingEmbedder()).reindex([articles_dir]).passages_embedded == 0


def test_vectors_that_can_still_be_read_are_reused_by_a_rebuild(fake_engine, articles_dir):
    fake_engine.reindex([articles_dir])
    (_segment(fake_engine) / "rows.npy").unlink()  # the vectors themselves are fine
    emb = HashingEmbedder()
    s = Engine(fake_engine.dir.root, emb).reindex([articles_dir], force=True)
    assert s.passages_embedded == emb.documents_encoded == 0 and s.articles == 3
    assert _answers(fake_engine.dir.root)


def test_a_segment_that_fails_half_way_through_a_reindex_is_rebuilt(fake_engine, articles_dir, monkeypatch):
    """A segment that passes the checks but fails while its rows are copied (a bad page deep in SQLite)."""
    from index.store.segments import SegmentWriter

    fake_engine.reindex([articles_dir])
    broken = _segment(fake_engine).name
    real = SegmentWriter.copy_from

    def copy_from(self, segment, hidden, dimension):
        if segment.name == broken:
            raise sqlite3.DatabaseError("database disk image is malformed")
        return real(self, segment, hidden, dimension)

    monkeypatch.setattr(SegmentWriter, "copy_from", copy_from)
    path = articles_dir / "harbour.txt"
    path.write_text(path.read_text().replace("The city council", "The town council"))  # a merge follows
    s = fake_engine.reindex([articles_dir])
    assert s.articles == 3
    assert broken not in {seg["name"] for seg in _manifest(fake_engine)["segments"]}
    assert _answers(fake_engine.dir.root)


def test_a_rebuild_that_was_not_asked_for_keeps_the_removal_guard(fake_engine, articles_dir):
    from index.errors import RemovalGuard

    fake_engine.reindex([articles_dir])
    (_segment(fake_engine) / "vectors.faiss").unlink()
    empty = articles_dir.parent / "empty"
    empty.mkdir()
    with pytest.raises(RemovalGuard):
        Engine(fake_engine.dir.root, HashingEmbedder()).reindex([empty])
    assert Engine(fake_engine.dir.root, HashingEmbedder()).reindex([empty], force=True).articles == 0


# --- 2. A full disk --------------------------------------------------------------------------------------


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def _quota(*args, **kwargs):
    raise OSError(errno.EDQUOT, "Disk quota exceeded")


def _short_write(*args, **kwargs):
    raise OSError("57745 requested and 24544 written")  # numpy's tofile: no errno


def _faiss_full(*args, **kwargs):
    raise RuntimeError("Error in void faiss::write_index(const Index*, IOWriter*, int) at index_write.cpp:499: "
                       "Error: 'ret == (size * 4)' failed: write error in vectors.faiss: 4014 != 153600 "
                       "(No space left on device)")  # fmt: skip


def _sqlite_full(*args, **kwargs):
    raise sqlite3.OperationalError("database or disk is full")


FULL_DISK = {
    "sqlite rows": ("index.store.segments.SegmentWriter.add_passage", _sqlite_full),
    "faiss vectors": ("index.store.segments.write_vectors", _faiss_full),
    "numpy short write": ("index.store.bm25.np.save", _short_write),
    "postings ENOSPC": ("index.store.segments.write_postings", _no_space),
    "manifest EDQUOT": ("index.store.manifest.Manifest.write", _quota),
    "fsync ENOSPC": ("index.store.folder.os.fsync", _no_space),
    "publish rename ENOSPC": ("index.store.folder.os.symlink", _no_space),
}


@pytest.mark.parametrize("where", FULL_DISK)
def test_a_full_disk_says_so_and_leaves_the_previous_index_serving(fake_engine, articles_dir, monkeypatch, where):
    fake_engine.reindex([articles_dir])
    root = fake_engine.dir.root
    before = fake_engine.dir.current_path()
    segments = sorted(p.name for p in fake_engine.dir.segments.iterdir())
    versions = sorted(p.name for p in fake_engine.dir.versions.iterdir())
    write(articles_dir / "late.txt", "title: Late news\n\nThe ferries will run every five minutes in summer.")
    monkeypatch.setattr(FULL_DISK[where][0], FULL_DISK[where][1])
    with pytest.raises(DiskFull) as caught:
        Engine(root, HashingEmbedder()).reindex([articles_dir])
    err = caught.value
    assert err.path == str(root) and err.free_bytes is not None and err.free_bytes > 0
    assert err.needed_bytes and err.needed_bytes > 0
    assert str(err).startswith("No space left on the index's disk (") and "MB free, about " in str(err)
    assert "MB needed); the previous index is still serving" in str(err)
    monkeypatch.undo()
    # nothing was left behind, and the previous version is current and answers
    assert fake_engine.dir.current_path() == before
    assert sorted(p.name for p in fake_engine.dir.segments.iterdir()) == segments
    assert sorted(p.name for p in fake_engine.dir.versions.iterdir()) == versions
    assert not list(root.glob(".current-*"))
    assert _answers(root)
    assert Engine(root, HashingEmbedder()).reindex([articles_dir]).added == 1  # and space back: it goes on


def test_a_full_disk_on_the_first_reindex(tmp_path, articles_dir, monkeypatch):
    monkeypatch.setattr("index.store.segments.SegmentWriter.add_passage", _sqlite_full)
    with pytest.raises(DiskFull, match="no index was written"):
        Engine(tmp_path / "index", HashingEmbedder()).reindex([articles_dir])
    assert not (tmp_path / "index" / "current").exists()
    assert not list((tmp_path / "index" / "versions").iterdir())


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_writing_vectors_to_a_full_disk_raises():
    """faiss.write_index ignores the error of its last fclose: a small index was left truncated silently."""
    import faiss

    from index.store.faults import is_disk_full
    from index.store.vectors import write_vectors

    index = faiss.IndexIDMap2(faiss.IndexFlatIP(8))
    index.add_with_ids(np.ones((3, 8), dtype=np.float32), np.arange(3, dtype=np.int64))
    with pytest.raises(OSError) as caught:
        write_vectors(index, Path("/dev/full"))
    assert is_disk_full(caught.value)


# --- 3. Writers killed while publishing -------------------------------------------------------------------

KILLED_AT = """
import os, sys
sys.path.insert(0, {root!r})
import index.store.folder as store
from tests.fakes import HashingEmbedder
from index.engine import Engine

step = {step!r}
real_rename, real_symlink, real_replace = os.rename, os.symlink, os.replace

def rename(src, dst):
    if step == "version" and os.path.basename(str(src)).startswith(".tmp-"):
        os._exit(9)
    return real_rename(src, dst)

def symlink(src, dst):
    real_symlink(src, dst)
    if step == "link":
        os._exit(9)

def replace(src, dst):
    if step == "swap":
        os._exit(9)
    return real_replace(src, dst)

store.os.rename, store.os.symlink, store.os.replace = rename, symlink, replace
if step == "collect":
    store.IndexDir._collect = lambda self: os._exit(9)
Engine({index!r}, HashingEmbedder()).reindex([{folder!r}])
"""


@pytest.mark.parametrize("step", ["version", "link", "swap", "collect"])
def test_a_writer_killed_while_publishing_leaves_nothing_that_lasts(fake_engine, articles_dir, step):
    root = fake_engine.dir.root
    fake_engine.reindex([articles_dir])
    path = articles_dir / "harbour.txt"
    path.write_text(path.read_text() + "\nThe bridge reopened early.\n")
    fake_engine.reindex([articles_dir])
    served = fake_engine.dir.current_path().name  # what readers serve when the next writer is killed
    write(articles_dir / "late.txt", "title: Late news\n\nThe ferries will run every five minutes in summer.")
    script = KILLED_AT.format(root=str(ROOT), step=step, index=str(root), folder=str(articles_dir))
    assert subprocess.run([sys.executable, "-c", script], timeout=120).returncode == 9
    assert _answers(root)  # the previous version, or the new one once `current` was swapped

    write(articles_dir / "later.txt", "title: Later news\n\nA second story about the summer timetable.")
    s = Engine(root, HashingEmbedder()).reindex([articles_dir])
    assert s.articles == 5
    assert not list(root.glob(".current-*"))  # the killed writer's temporary link was collected
    assert not list(fake_engine.dir.versions.glob(".tmp-*"))
    versions = sorted(p.name for p in fake_engine.dir.versions.iterdir())
    current = fake_engine.dir.current_path().name
    # only published versions are kept: the current one and the one it replaced (what readers may serve)
    assert len(versions) == KEEP_VERSIONS and current in versions
    if step in ("version", "link", "swap"):  # never published: the version readers served keeps its slot
        assert served in versions
    for name in versions:
        manifest = json.loads((fake_engine.dir.versions / name / "manifest.json").read_text())
        assert manifest["version"] == name  # the name it was published under, not the staging folder's
    assert json.loads((fake_engine.dir.versions / current / "manifest.json").read_text())["previous"] in versions
    kept = {seg["name"] for v in versions
            for seg in json.loads((fake_engine.dir.versions / v / "manifest.json").read_text())["segments"]}  # fmt: skip
    assert {p.name for p in fake_engine.dir.segments.iterdir()} == kept


def test_leftovers_of_a_killed_writer_go_at_the_next_writer_even_when_nothing_changed(fake_engine, articles_dir):
    root = fake_engine.dir.root
    fake_engine.reindex([articles_dir])
    (fake_engine.dir.versions / ".tmp-20250101T000000-dead00").mkdir()  # a killed writer's, just now
    os.symlink(Path("versions") / fake_engine.dir.current_path().name, root / ".current-0badf00d")
    s = Engine(root, HashingEmbedder()).reindex([articles_dir])
    assert s.passages_embedded == 0
    assert not list(root.glob(".current-*")) and not list(fake_engine.dir.versions.glob(".tmp-*"))




def test_the_staging_folder_of_a_live_writer_is_left_alone(fake_engine, articles_dir):
    root = fake_engine.dir.root
    fake_engine.reindex([articles_dir])
    write(articles_dir / "late.txt", "title: Late news\n\nThe ferries will run every five minutes in summer.")
    script = SLOW_REINDEX.format(root=str(ROOT), index=str(root), folder=str(articles_dir))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "embedding"
        staging = list(fake_engine.dir.versions.glob(".tmp-*"))
        assert len(staging) == 1
        old = time.time() - 3600
        os.utime(staging[0], (old, old))  # however old it looks
        with pytest.raises(ReindexRunning):
            Engine(root, HashingEmbedder()).reindex([articles_dir])
        IndexDir(root)._collect()  # without the lock: collects no temporary folder
        assert staging[0].is_dir()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert Engine(root, HashingEmbedder()).reindex([articles_dir]).added == 1
    assert not staging[0].exists()


# --- 4. Paths of the wrong kind ---------------------------------------------------------------------------


def test_an_index_path_that_is_a_file(tmp_path, articles_dir):
    file = tmp_path / "index.txt"
    file.write_text("not an index")
    for engine in (Engine(file, HashingEmbedder()), Engine(file / "index", HashingEmbedder())):
        with pytest.raises(IndexNotAFolder, match=f"{file}.*is a file, not a folder"):
            engine.ask(QUESTION)
        with pytest.raises(IndexNotAFolder, match="is a file, not a folder") as caught:
            engine.reindex([articles_dir])
        assert caught.value.file == str(file)
    assert file.read_text() == "not an index"


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_current_that_is_not_a_link_is_reported_and_repaired_by_force(fake_engine, articles_dir, kind):
    root = fake_engine.dir.root
    fake_engine.reindex([articles_dir])
    (root / "current").unlink()
    if kind == "file":
        (root / "current").write_text("versions/whatever\n")
    else:
        (root / "current").mkdir()
    engine = Engine(root, HashingEmbedder())
    with pytest.raises(IndexCorrupt, match=f"current is a {kind}, not a link to a version"):
        engine.ask(QUESTION)
    with pytest.raises(IndexCorrupt, match="not a link to a version"):
        engine.reindex([articles_dir])
    assert engine.reindex([articles_dir], force=True).articles == 3
    assert (root / "current").is_symlink() and _answers(root)


def test_a_current_that_links_to_a_missing_version(fake_engine, articles_dir):
    import shutil

    root = fake_engine.dir.root
    fake_engine.reindex([articles_dir])
    shutil.rmtree(fake_engine.dir.current_path())
    with pytest.raises(IndexCorrupt, match="which is not there"):
        Engine(root, HashingEmbedder()).ask(QUESTION)
    assert Engine(root, HashingEmbedder()).reindex([articles_dir]).articles == 3
    assert _answers(root)
