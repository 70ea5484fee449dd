"""When segments are merged (the policy), and the merge: rows, vectors (sentence vectors too) and terms copied,
nothing embedded."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.build.state import reading_old
from index.build.writer import Space
from index.files import dir_size
from index.store.folder import IndexDir
from index.store.segments import SegmentFiles, SegmentWriter

log = logging.getLogger(__name__)

MAX_SEGMENTS = 8  # past this many, the small segments are merged
MAX_HIDDEN_SHARE = 0.2  # past this share of rows belonging to replaced articles, everything is merged


def to_merge(segments: Sequence[dict], hidden_rows: int, ann_threshold: int) -> list[dict]:
    """The segments to merge into one: none, the small ones, or all (many hidden rows, flat <-> IVF).

    Pure. `segments` are manifest entries ({"name", "passages", "index_type"}); `hidden_rows` of their rows
    belong to replaced or removed articles.
    """
    if len(segments) <= 1 and not hidden_rows:
        return []
    total = sum(s["passages"] for s in segments)
    largest = max(segments, key=lambda s: s["passages"])
    want_ann = total - hidden_rows >= ann_threshold
    merge: list[dict] = []
    if hidden_rows > MAX_HIDDEN_SHARE * total or want_ann != (largest["index_type"] == "ivf"):
        merge = list(segments)
    elif len(segments) > MAX_SEGMENTS:
        small = [s for s in segments if s is not largest]
        merge = small if sum(s["passages"] for s in small) <= 0.2 * largest["passages"] else list(segments)
    if len(merge) < 2 and not (merge and hidden_rows):
        return []
    return merge


@dataclass(frozen=True)
class Merged:
    """The segments of the new version after a merge (or none), and what is still hidden in them."""

    segments: list[dict]
    hidden: set[int]  # ids of replaced or removed articles still in some segment
    hidden_rows: int  # their rows
    stamps: dict[str, list]  # file stamps newer than the rows: the new version's stamps.json
    folded: dict[str, list]  # file stamps a full merge wrote into the rows


def maybe_merge(index_dir: IndexDir, staged: Path, segments: list[dict], hidden: set[int], hidden_rows: int,
                stamps: dict[str, list], dimension: int, ann_threshold: int, space: Space) -> Merged:  # fmt: skip
    """Merge the segments `to_merge` picks into one new segment in `staged` (`space.needed` grows by their size)."""
    merge = to_merge(segments, hidden_rows, ann_threshold)
    if not merge:
        return Merged(segments, hidden, hidden_rows, stamps, {})
    writer = SegmentWriter(index_dir.new_segment(staged))
    try:
        ids, vecs, sentences = [], [], {}
        for s in merge:
            where = index_dir.segment_folder(s["name"], staged)
            with reading_old(where):
                space.needed += dir_size(where)
                i, v, sv = writer.copy_from(where, sorted(hidden), dimension)
            ids.append(i)
            vecs.append(v)
            sentences.update(sv)
        writer.set_file_stamps(stamps)
        entry = writer.finish(np.concatenate(ids), np.vstack(vecs), dimension, ann_threshold, sentences)
    except BaseException:
        writer.abort()
        raise
    for s in merge:  # a merged new segment is never published
        if (staged / s["name"]).exists():
            shutil.rmtree(staged / s["name"])
    log.info("merged %d segments into %s (%d passages)", len(merge), entry["name"], entry["passages"])
    merged = {s["name"] for s in merge}
    rest = [s for s in segments if s["name"] not in merged]
    hidden_left, rows_left = _still_hidden(index_dir, staged, rest, hidden)
    if len(merge) < len(segments):  # the rows of the other segments still need the stamps
        return Merged([entry, *rest], hidden_left, rows_left, stamps, {})
    return Merged([entry, *rest], hidden_left, rows_left, {}, stamps)


def _still_hidden(index_dir: IndexDir, staged: Path, rest: Sequence[dict], hidden: set[int]) -> tuple[set[int], int]:
    """The hidden articles that live in the segments `rest` (the others were merged away), and their rows."""
    folders = [index_dir.segment_folder(s["name"], staged) for s in rest]
    left: set[int] = set()
    for where in folders:
        with reading_old(where):
            left |= SegmentFiles(where).article_ids_among(sorted(hidden))
    rows = 0
    for where in folders:
        with reading_old(where):
            rows += SegmentFiles(where).count_passages(sorted(left))
    return left, rows
