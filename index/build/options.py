"""What a reindex is told: how articles are cut into passages, index thresholds, guards, batch size."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from index.ingest.articles import DEFAULT_MAX_BYTES
from index.store.vectors import DEFAULT_ANN_THRESHOLD

# progress(stage, done, total): stage is "reading" (files) or "embedding" (articles).
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BuildOptions:
    target_words: int = 150
    max_words: int = 200
    overlap: int = 1
    whole_articles: bool = False  # one passage per article (evaluation sets), no re-chunking
    ann_threshold: int = DEFAULT_ANN_THRESHOLD
    max_removal_share: float = 0.5
    max_file_bytes: int = DEFAULT_MAX_BYTES
    batch_size: int = 64  # passages per call to the embedder: a cancelled reindex stops within one batch
    sentence_vectors: bool = True  # each passage's sentences embedded and stored too (quotes by meaning)

    def chunking(self) -> dict:
        if self.whole_articles:
            return {"whole_articles": True}
        return {"target_words": self.target_words, "max_words": self.max_words, "overlap": self.overlap}
