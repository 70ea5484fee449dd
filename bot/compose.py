"""Build the engine that the settings describe: the one place that chooses the embedding model."""

from __future__ import annotations

import logging

from index.embedding import Embedder, embedder_for, identity_of, make_embedder
from index.engine import Engine
from index.errors import NewsdeskError
from index.store.folder import IndexDir

log = logging.getLogger(__name__)


def make_engine(settings) -> Engine:
    """The engine over `settings.index_dir`, with the embedder that should serve it.

    NEWSDESK_MODEL set: that model, whatever the index holds (a mismatch is reported when asking). Unset: an
    existing index is served with the model it was built with, so upgrading Newsdesk never breaks a running
    bot; a new index, or `reindex --force`, gets the default model.
    """
    options = {"batch_size": settings.batch_size, "threads": settings.threads,
               "query_prompt": settings.query_prompt, "document_prompt": settings.document_prompt}  # fmt: skip

    def configured() -> Embedder:
        return make_embedder(settings.model, settings.backend, **options)

    if settings.model:
        return Engine(settings.index_dir, configured(), settings.search_config(), settings.build_options())
    embedder = _index_embedder(settings.index_dir, options) or configured()
    default = None

    def successor() -> Embedder:
        nonlocal default
        if default is None:
            default = configured()
        return default if identity_of(default) != identity_of(embedder) else embedder

    return Engine(settings.index_dir, embedder, settings.search_config(), settings.build_options(),
                  successor=successor)  # fmt: skip


def _index_embedder(index_dir, options: dict) -> Embedder | None:
    """The embedder the existing index was written with; None without a readable index."""
    folder = IndexDir(index_dir)
    try:
        manifest = folder.manifest() if folder.exists() else None
    except (NewsdeskError, OSError, ValueError):
        return None  # a damaged index: the default model rebuilds it
    if manifest is None:
        return None
    try:
        embedder = embedder_for(manifest.identity, **options)
    except (ImportError, ValueError) as exc:
        log.warning("the index was built with %s, which cannot be loaded here (%s)", manifest.model, exc)
        return None
    log.info("serving the index with the model it was built with: %s", manifest.model)
    return embedder
