"""Build the engine that the settings describe: the one place that chooses the embedding model."""

from __future__ import annotations

import logging

from bot.settings import Settings
from index.build.reindex import BuildOptions
from index.embedding import Embedder, embedder_for, identity_of, make_embedder
from index.engine import Engine, SearchConfig
from index.errors import NewsdeskError
from index.feedback import FeedbackEffects, FeedbackStore, feedback_path
from index.store.folder import IndexDir
from index.stories.follows import model_of

log = logging.getLogger(__name__)


def search_config(settings: Settings) -> SearchConfig:
    """How questions are answered: NEWSDESK_K, _MAX_PER_ARTICLE, _MAX_QUESTION_CHARS, _MIN_CONFIDENCE."""
    base = SearchConfig()
    return SearchConfig(
        k=settings.k,
        max_per_article=settings.max_per_article,
        max_question_chars=settings.max_question_chars,
        min_confidence=base.min_confidence if settings.min_confidence is None else settings.min_confidence,
    )


def build_options(settings: Settings) -> BuildOptions:
    """How articles are indexed: passage sizes, the ANN threshold, the removal guard, the file size limit, whether
    sentences get vectors of their own."""
    return BuildOptions(
        target_words=settings.chunk_words,
        max_words=max(settings.chunk_max_words, settings.chunk_words),
        ann_threshold=settings.ann_threshold,
        max_removal_share=settings.max_removal_share,
        max_file_bytes=int(settings.max_file_mb * 1024 * 1024),
        batch_size=settings.batch_size,
        sentence_vectors=settings.sentence_vectors,
    )


def make_engine(settings: Settings) -> Engine:
    """The engine over `settings.index_dir`, with the embedder that should serve it and the votes' effects.

    NEWSDESK_MODEL set: that model, whatever the index holds (a mismatch is reported when asking). Unset: an
    existing index is served with the model it was built with, so upgrading Newsdesk never breaks a running
    bot; a new index, or `reindex --force`, gets the default model. The votes' effects are read once here (a
    command's answers are those the bot gives); `feedback_store` keeps a running bot's up to date.
    """
    engine = _engine(settings)
    path = feedback_path(settings.index_dir)
    if settings.feedback_effects and path.exists():  # never create the store just to read nothing
        store = FeedbackStore(path)
        try:
            engine.feedback = feedback_effects(settings, engine, store)
        finally:
            store.close()
    return engine


def feedback_store(settings: Settings, engine: Engine) -> FeedbackStore:
    """The votes beside the index, for the bot to remember its answers and record votes in (one per process).

    With NEWSDESK_FEEDBACK_EFFECTS on, the engine's effects are read again whenever a vote changes them, here
    or in another process (`newsdesk feedback --reset`: noticed at the next answer remembered or vote).
    Reading them again costs one query; votes are rare next to questions, so the engine keeps them in between.
    """
    store = FeedbackStore(feedback_path(settings.index_dir), index=lambda: engine.snapshot)
    if settings.feedback_effects:

        def refresh() -> None:
            engine.feedback = feedback_effects(settings, engine, store)

        refresh()
        store.on_change(refresh)
    return store


def feedback_effects(settings: Settings, engine: Engine, store: FeedbackStore) -> FeedbackEffects:
    """What the votes change in the engine's answers, with its model's vectors and near-identical threshold."""
    return store.effects(model=model_of(engine), embed=engine.embedder.encode_queries,
                         same_question=engine.profile.same_question,
                         outdated_votes=settings.feedback_outdated_votes)  # fmt: skip


def _engine(settings: Settings) -> Engine:
    """The engine with its embedder (see make_engine), without the votes' effects."""
    options = {"batch_size": settings.batch_size, "threads": settings.threads,
               "query_prompt": settings.query_prompt, "document_prompt": settings.document_prompt}  # fmt: skip

    def configured() -> Embedder:
        return make_embedder(settings.model, settings.backend, **options)

    if settings.model:
        return Engine(settings.index_dir, configured(), search_config(settings), build_options(settings))
    embedder = _index_embedder(settings.index_dir, options) or configured()
    default = None

    def successor() -> Embedder:
        nonlocal default
        if default is None:
            default = configured()
        return default if identity_of(default) != identity_of(embedder) else embedder

    return Engine(settings.index_dir, embedder, search_config(settings), build_options(settings),
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
