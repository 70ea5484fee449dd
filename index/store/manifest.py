"""A version's own files: manifest.json (what it is made of), deleted.npy (hidden articles), stamps.json."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.errors import IndexCorrupt, ModelMismatch

FORMAT_VERSION = 2


@dataclass(frozen=True)
class Manifest:
    format: int
    model: str
    dimension: int
    index_type: str  # of the largest segment
    articles: int
    passages: int
    languages: dict
    chunking: dict
    analyzer: int
    created_at: str
    updated_at: str
    version: str
    segments: tuple = ()  # ({"name", "passages", "index_type"}, ...), oldest first
    hidden: int = 0  # rows of replaced or removed articles still in the segments
    next_article_id: int = 1
    next_passage_id: int = 1
    previous: str = ""  # the version this one replaced when it was published: kept versions follow this chain
    # The identity of the embedder that wrote the vectors ({"model", "weights", "backend", "precision"});
    # None in indexes written before it was recorded, whose `model` name is all that is known.
    embedder: dict | None = None

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            data = json.loads((path / "manifest.json").read_text())
            known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
            if "segments" in known:
                known["segments"] = tuple(known["segments"])
            return cls(**known)
        except FileNotFoundError as exc:
            raise IndexCorrupt(str(path), "manifest.json is missing") from exc
        except (ValueError, KeyError, TypeError) as exc:  # JSONDecodeError, UnicodeDecodeError are ValueErrors
            raise IndexCorrupt(str(path), f"manifest.json is unreadable ({exc.__class__.__name__})") from exc

    def write(self, path: Path) -> None:
        data = dict(self.__dict__, segments=list(self.segments))
        (path / "manifest.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    @property
    def identity(self) -> dict:
        """The writer's embedder identity; {"model": name} for an index that did not record one."""
        return dict(self.embedder) if self.embedder else {"model": self.model}

    def check_model(self, identity: dict | str, dimension: int | None = None) -> None:
        """Raise ModelMismatch unless `identity` makes vectors interchangeable with the index's.

        Only the fields both sides know are compared: an index from before identities were recorded is
        checked by model name, so an upgraded Newsdesk serves it with the model it was built with.
        """
        mine = self.identity
        theirs = {"model": identity} if isinstance(identity, str) else identity
        differs = any(mine[k] != theirs[k] for k in mine.keys() & theirs.keys())
        if differs or (dimension is not None and dimension != self.dimension):
            raise ModelMismatch(mine, self.dimension, theirs, dimension)


def read_hidden(path: Path, manifest: Manifest) -> np.ndarray:
    """The ids of the articles version `path` hides (deleted.npy); raise ValueError when it cannot be read."""
    if not (path / "deleted.npy").exists():
        if manifest.hidden:
            raise ValueError(f"deleted.npy is missing, and {manifest.hidden} rows are hidden")
        return np.zeros(0, np.int64)
    hidden = np.load(path / "deleted.npy")
    if hidden.ndim != 1 or not np.issubdtype(hidden.dtype, np.integer):
        raise ValueError("deleted.npy does not hold article ids")
    return hidden


def read_stamps(path: Path) -> dict[str, list]:
    """File path -> [size, mtime_ns, read at] of files read again since their rows were written (stamps.json)."""
    if not (path / "stamps.json").exists():
        return {}
    return json.loads((path / "stamps.json").read_text())


def write_version(path: Path, manifest: Manifest, hidden: Iterable[int], stamps: Mapping[str, list]) -> None:
    """Write the files of a staged version: the ids it hides, the file stamps newer than its rows, its manifest."""
    np.save(path / "deleted.npy", np.array(sorted(hidden), dtype=np.int64))
    if stamps:
        (path / "stamps.json").write_text(json.dumps(stamps))
    manifest.write(path)
