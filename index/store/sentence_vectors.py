"""A segment's sentence vectors, computed when it was written: what question time reads instead of embedding.

Two files beside the passage vectors: `sentences.npy` (float16, one row per sentence, the passages in
passage-id order, each passage's sentences in text order) and `sentence_offsets.npy` (int64, one more than
the segment's rows: the sentences of row i are rows offsets[i] to offsets[i + 1]). A row with none (a passage
copied from a segment written before these files existed) is embedded at question time, as are all the rows
of a segment without the files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

VECTORS = "sentences.npy"
OFFSETS = "sentence_offsets.npy"
DTYPE = np.dtype("<f2")


def write_sentence_vectors(folder: Path, rows: Sequence[int], sentences: Mapping[int, np.ndarray],
                           dimension: int) -> None:  # fmt: skip
    """Write the vectors of `sentences` (passage id -> one row per sentence) for the passages `rows`, in order.

    Written through a plain file, row block by row block (never memory-mapped: on a full disk a mapped page
    kills the process, a write raises OSError).
    """
    counts = np.array([len(sentences.get(pid, ())) for pid in rows], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    header = {"descr": np.lib.format.dtype_to_descr(DTYPE), "fortran_order": False,
              "shape": (int(offsets[-1]), dimension)}  # fmt: skip
    with open(folder / VECTORS, "wb") as f:
        np.lib.format.write_array_header_1_0(f, header)
        for pid, n in zip(rows, counts.tolist(), strict=True):
            if n:
                block = np.asarray(sentences[pid], dtype=DTYPE)
                if block.shape != (n, dimension):
                    raise ValueError(f"sentence vectors of passage {pid} of shape {block.shape}")
                f.write(np.ascontiguousarray(block).tobytes())
    np.save(folder / OFFSETS, offsets)


class SentenceVectors:
    """The sentence vectors of one segment, memory-mapped: row -> its sentences' vectors."""

    def __init__(self, vectors: np.ndarray, offsets: np.ndarray):
        self.vectors = vectors
        self.offsets = offsets

    def of_passages(self, rows: np.ndarray, pids: Iterable[int]) -> dict[int, np.ndarray]:
        """Passage id -> its sentences' vectors as stored (float16, memory-mapped), for those of `pids` that the
        segment holds (`rows`: its passage ids in row order, sorted) and that have some stored."""
        pids = [int(p) for p in pids]
        out = {}
        for pid, r in zip(pids, np.searchsorted(rows, pids).tolist(), strict=True):
            if r < len(rows) and rows[r] == pid and self.offsets[r + 1] > self.offsets[r]:
                out[pid] = self.vectors[self.offsets[r] : self.offsets[r + 1]]
        return out


def read_sentence_vectors(folder: Path, rows: int, dimension: int) -> SentenceVectors | None:
    """The sentence vectors of the segment `folder` of `rows` rows; None when it has none (written before them).

    Raises ValueError or OSError when the files are damaged: truncated, of another shape or dimension, or
    offsets that do not describe `rows` rows.
    """
    have = [(folder / name).is_file() for name in (VECTORS, OFFSETS)]
    if not any(have):
        return None
    if not all(have):
        raise ValueError(f"{VECTORS} and {OFFSETS} go together; {folder.name} holds one of them only")
    offsets = np.load(folder / OFFSETS, allow_pickle=False)
    vectors = np.load(folder / VECTORS, mmap_mode="r", allow_pickle=False)
    if vectors.dtype != DTYPE or vectors.ndim != 2 or vectors.shape[1] != dimension:
        raise ValueError(f"{VECTORS} of {folder.name} holds {vectors.dtype} of shape {vectors.shape}, not "
                         f"float16 rows of dimension {dimension}")  # fmt: skip
    if offsets.dtype.kind != "i" or offsets.shape != (rows + 1,) or offsets[0] != 0 or \
            offsets[-1] != len(vectors) or (np.diff(offsets) < 0).any():  # fmt: skip
        raise ValueError(f"{OFFSETS} of {folder.name} does not describe its {rows} rows and {len(vectors)} "
                         "sentence vectors")  # fmt: skip
    return SentenceVectors(vectors, offsets.astype(np.int64))
