"""The pure parts of a reindex: what changed (plan), the removal guard, when segments are merged."""

from __future__ import annotations

import pytest

from index.build.merge import to_merge
from index.build.plan import check_removal, plan
from index.errors import RemovalGuard
from index.records import Article
from index.store.segments import StoredArticle

OLD_FILE = (100, 10**18, 10**9 + 5.0)  # size, mtime_ns, read at: read long after its mtime (settled)
FRESH_FILE = (100, 10**18, 10**9 + 0.01)  # read a hundredth of a second after its mtime: not settled


def _article(key: str, digest: str = "same") -> Article:
    return Article(key=key, title=key, text=key, path=f"{key}.txt", content_hash=digest)


def _indexed(*keys: str) -> dict[str, StoredArticle]:
    return {k: StoredArticle(i, k, "same", "en", f"{k}.txt", None) for i, k in enumerate(keys, 1)}


# (scanned: key -> content hash, kept, indexed keys or None, stamps, same_layout, prune) ->
# (added, updated, removed, unchanged, present, reload, refreshed files)
CASES = {
    "a new index": ({"a": "same", "b": "same"}, [], None, {}, False, True,
                    ("a b", "", "", 0, 2, "", "")),
    "nothing changed": ({"a": "same"}, ["b"], ("a", "b"), {}, True, True,
                        ("", "", "", 2, 2, "", "")),
    "one edited, one new, one gone": ({"a": "other", "c": "same"}, [], ("a", "b"), {}, True, True,
                                      ("c", "a", "b", 0, 2, "", "")),
    "adding keeps the others": ({"c": "same"}, [], ("a", "b"), {}, True, False,
                                ("c", "", "", 0, 1, "", "")),
    "a new layout cuts every article again": ({"a": "same"}, ["b"], ("a", "b"), {}, False, True,
                                              ("", "a", "", 1, 2, "", "")),
    "a new layout while adding reloads the others": ({"a": "same"}, [], ("a", "b", "c"), {}, False, False,
                                                     ("", "a", "", 0, 1, "b c", "")),
    "a touched file is recorded": ({"a": "same"}, [], ("a",), {"a.txt": OLD_FILE}, True, True,
                                   ("", "", "", 1, 1, "", "a.txt")),
    "a file read too soon is not": ({"a": "same"}, [], ("a",), {"a.txt": FRESH_FILE}, True, True,
                                    ("", "", "", 1, 1, "", "")),
    "an edited file is written, not refreshed": ({"a": "other"}, [], ("a",), {"a.txt": OLD_FILE}, True, True,
                                                 ("", "a", "", 0, 1, "", "")),
    "a rebuild adds everything": ({"a": "other"}, [], None, {"a.txt": OLD_FILE}, False, True,
                                  ("a", "", "", 0, 1, "", "")),
}  # fmt: skip


@pytest.mark.parametrize("name", CASES)
def test_plan(name):
    scanned, kept, indexed, stamps, same_layout, prune, want = CASES[name]
    articles = [_article(k, h) for k, h in scanned.items()]
    got = plan(articles, kept, None if indexed is None else _indexed(*indexed), stamps, same_layout=same_layout,
               prune=prune)  # fmt: skip
    keys = lambda arts: " ".join(a.key for a in arts)  # noqa: E731
    assert (keys(got.added), keys(got.updated), " ".join(got.removed), got.unchanged, got.present,
            " ".join(got.reload), " ".join(got.refreshed)) == want  # fmt: skip
    assert got.changes == bool(want[0] or want[1] or want[2] or want[6])


def test_a_refreshed_file_records_the_stamp_it_was_read_with():
    got = plan([_article("a")], [], _indexed("a"), {"a.txt": OLD_FILE}, same_layout=True, prune=True)
    assert got.refreshed == {"a.txt": list(OLD_FILE)}


@pytest.mark.parametrize(("removing", "indexed", "share", "raises"), [
    (1, 2, 0.5, False),  # half: allowed
    (2, 3, 0.5, True),
    (3, 3, 0.99, True),
    (0, 0, 0.5, False),  # nothing indexed
    (0, 5, 0.0, False),  # nothing removed
    (-2, 5, 0.0, False),  # a rebuild that finds more articles than the previous version held
])  # fmt: skip
def test_removal_guard(removing, indexed, share, raises):
    if raises:
        with pytest.raises(RemovalGuard):
            check_removal(removing, indexed, share)
    else:
        check_removal(removing, indexed, share)


def _seg(name: str, passages: int, kind: str = "flat") -> dict:
    return {"name": name, "passages": passages, "index_type": kind}


# (segments, hidden rows, ann threshold) -> names merged
MERGES = {
    "one segment, nothing hidden": ([_seg("a", 100)], 0, 1000, ""),
    "one segment with hidden rows over a fifth": ([_seg("a", 100)], 21, 1000, "a"),
    "a fifth hidden is not enough": ([_seg("a", 100), _seg("b", 10)], 22, 1000, ""),
    "over a fifth hidden merges all": ([_seg("a", 100), _seg("b", 10)], 23, 1000, "a b"),
    "few segments stay": ([_seg(str(i), 10) for i in range(8)], 0, 1000, ""),
    "piled up, the small ones merge": ([_seg("big", 1000)] + [_seg(str(i), 10) for i in range(8)], 0, 10**6,
                                       "0 1 2 3 4 5 6 7"),
    "piled up, similar sizes: all merge": ([_seg(str(i), 10) for i in range(9)], 0, 1000,
                                           "0 1 2 3 4 5 6 7 8"),
    "grown past the ANN threshold": ([_seg("a", 600), _seg("b", 500)], 0, 1000, "a b"),
    "shrunk below it": ([_seg("a", 600, "ivf"), _seg("b", 300)], 0, 1000, "a b"),
    "IVF and above it": ([_seg("a", 1600, "ivf"), _seg("b", 300)], 0, 1000, ""),
}  # fmt: skip


@pytest.mark.parametrize("name", MERGES)
def test_merge_policy(name):
    segments, hidden_rows, threshold, want = MERGES[name]
    assert " ".join(s["name"] for s in to_merge(segments, hidden_rows, threshold)) == want
