"""FAISS behind a few functions: create, read, write, search and read back vectors keyed by passage id.

The one module of Newsdesk that imports faiss. It is imported inside each function: a command that finds
nothing to do (a reindex with no change, `stats`) never pays for loading it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np

DEFAULT_ANN_THRESHOLD = 50_000  # vectors in a segment from which it is an IVF index rather than a flat one


def ivf_nprobe(nlist: int) -> int:
    return min(nlist, max(16, nlist // 12))


def new_faiss_index(dimension: int, expected: int, ann_threshold: int, train: np.ndarray | None = None):
    """Return an empty FAISS index for about `expected` vectors, keyed by our own int64 ids.

    Below `ann_threshold` vectors: exact inner product (IndexIDMap2 over IndexFlatIP). From there on: IVF-Flat
    with about 2*sqrt(n) lists, trained on the vectors at hand, and a hash-table direct map so vectors can be
    reconstructed by id (vector reuse, merges).
    """
    import faiss

    nlist = int(min(65536, max(8, 2 * math.sqrt(expected))))
    if expected < ann_threshold or train is None or len(train) < 4 * nlist:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)), "flat"
    quantizer = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFFlat(quantizer, dimension, nlist, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    sample = train if len(train) <= nlist * 64 else train[rng.choice(len(train), nlist * 64, replace=False)]
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    index.set_direct_map_type(faiss.DirectMap.Hashtable)
    index.nprobe = ivf_nprobe(nlist)
    return index, "ivf"


def vectors_of(ids: np.ndarray, vectors: np.ndarray, dimension: int, ann_threshold: int):
    """Return (a FAISS index holding `vectors[i]` under id `ids[i]`, its kind: "flat" or "ivf")."""
    index, kind = new_faiss_index(dimension, len(ids), ann_threshold, train=vectors)
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))
    return index, kind


def read_vectors(path: Path):
    """Read a FAISS file for serving: memory-mapped where FAISS allows it, else into memory.

    FAISS maps IVF inverted lists as OnDiskInvertedLists, whose searches start threads to prefetch the
    probed lists by default; the pages are in the page cache already, and those threads cost more than the
    scan (about 3 ms of a 1 ms search at 100k passages), so prefetching is turned off.
    """
    import faiss

    try:
        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
    except RuntimeError:
        return faiss.read_index(str(path))
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        ivf.nprobe = ivf_nprobe(ivf.nlist)
        lists = faiss.downcast_InvertedLists(ivf.invlists)
        if hasattr(lists, "prefetch_nthread"):
            lists.prefetch_nthread = 0
    return index


def load_vectors(path: Path, *, mmap: bool = False):
    """Read a FAISS file to take vectors out of (a merge, vector reuse), not to serve it."""
    import faiss

    return faiss.read_index(str(path), faiss.IO_FLAG_MMAP) if mmap else faiss.read_index(str(path))


def write_vectors(index, path: Path) -> None:
    """Write a FAISS index through a Python file, so that a failed write raises.

    faiss.write_index(index, path) ignores the error of its final fclose: on a full disk, a small index is
    left truncated without a word.
    """
    import faiss

    errors: list[OSError] = []
    with open(path, "wb") as f:

        def write(data: bytes) -> int:
            try:
                return f.write(data)
            except OSError as exc:
                errors.append(exc)
                raise

        writer = faiss.PyCallbackIOWriter(write)
        try:
            faiss.write_index(index, writer)
        except RuntimeError:
            if errors:
                raise errors[0] from None
            raise
        finally:
            del writer


def reconstruct(index, ids: Iterable[int]) -> np.ndarray:
    """The vectors stored under `ids`, in that order."""
    ids = np.asarray(list(ids), dtype=np.int64)
    if not len(ids):
        return np.zeros((0, index.d), dtype=np.float32)
    return np.asarray(index.reconstruct_batch(ids), dtype=np.float32)


def search(index, qvec: np.ndarray, n: int, *, only: np.ndarray | None = None,
           without: np.ndarray | None = None) -> list[tuple[float, int]]:  # fmt: skip
    """(inner product, id) of the `n` nearest vectors, among ids `only` when given, leaving out ids `without`."""
    import faiss

    sel = keep = None
    if only is not None:
        sel = faiss.IDSelectorBatch(only.astype(np.int64))
    elif without is not None and len(without):
        keep = faiss.IDSelectorBatch(without.astype(np.int64))  # must stay alive as long as `sel` is used
        sel = faiss.IDSelectorNot(keep)
    if sel is None:
        dist, ids = index.search(qvec, n)
    else:
        ivf = faiss.try_extract_index_ivf(index)
        params = faiss.SearchParametersIVF(sel=sel, nprobe=ivf.nprobe) if ivf is not None else \
            faiss.SearchParameters(sel=sel)  # fmt: skip
        dist, ids = index.search(qvec, n, params=params)
    return [(float(d), int(p)) for d, p in zip(dist[0], ids[0], strict=True) if p >= 0]
