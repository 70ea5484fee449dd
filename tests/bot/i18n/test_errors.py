"""The words for every domain error: Discord in English and French (no shell advice), the terminal in English
with the command to run; and the words for refused commands, per command."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import index
from bot.i18n.errors import REFUSED, WORDS, cli_text, error_text, refusal_text
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

MB = 1024 * 1024
E5 = {"model": "multilingual-e5-small", "backend": "onnx", "precision": "int8"}

# error: (Discord en, Discord fr, terminal); the terminal's sentences are the ones the CLI printed before the
# words moved out of index/ (issue 12).
CASES = [
    (IndexMissing("data/index"),
     "No articles are indexed yet: an admin can run /reindex.",
     "Aucun article n’est encore indexé : un admin peut lancer /reindex.",
     "No index at data/index: run `newsdesk reindex` first."),
    (IndexCorrupt("data/index", "manifest.json is missing"),
     "The index cannot be read (manifest.json is missing): an admin can rebuild it with /reindex force.",
     "L’index est illisible (manifest.json is missing) : un admin peut le reconstruire avec /reindex force.",
     "The index at data/index cannot be read (manifest.json is missing): run `newsdesk reindex --force`."),
    (IndexOutdated("data/index", 3, 5),
     "The index was written by an older Newsdesk (format 3, now 5): an admin can run /reindex to update it "
     "(vectors are reused, nothing is embedded again).",
     "L’index a été écrit par une version antérieure de Newsdesk (format 3, désormais 5) : un admin peut lancer "
     "/reindex pour le mettre à jour (les vecteurs sont réutilisés, rien n’est réencodé).",
     "The index at data/index was written by an older Newsdesk (format 3, now 5): run `newsdesk reindex` to update "
     "it (vectors are reused, nothing is embedded again)."),
    (ModelMismatch(E5, 384, "all-MiniLM-L6-v2", 384),
     "The index was built with model 'multilingual-e5-small' (onnx, int8) (dimension 384) but the configured "
     "embedder is model 'all-MiniLM-L6-v2' (dimension 384): an admin can rebuild it with /reindex force.",
     "L’index a été construit avec model 'multilingual-e5-small' (onnx, int8) (dimension 384) mais l’encodeur "
     "configuré est model 'all-MiniLM-L6-v2' (dimension 384) : un admin peut le reconstruire avec /reindex force.",
     "The index was built with model 'multilingual-e5-small' (onnx, int8) (dimension 384) but the configured "
     "embedder is model 'all-MiniLM-L6-v2' (dimension 384): run `newsdesk reindex --force` to rebuild it."),
    (ModelMismatch("a", 64, "b"),
     "The index was built with model 'a' (dimension 64) but the configured embedder is model 'b': an admin can "
     "rebuild it with /reindex force.",
     "L’index a été construit avec model 'a' (dimension 64) mais l’encodeur configuré est model 'b' : un admin "
     "peut le reconstruire avec /reindex force.",
     "The index was built with model 'a' (dimension 64) but the configured embedder is model 'b': run "
     "`newsdesk reindex --force` to rebuild it."),
    (EmbedderUnavailable("onnx", "m", "onnxruntime is not installed"),
     "The onnx backend cannot run m: onnxruntime is not installed.",
     "Le moteur onnx ne peut pas faire tourner m : onnxruntime is not installed.",
     "The onnx backend cannot run m: onnxruntime is not installed."),
    (EmptyQuestion(),
     "The question is empty: ask something about the articles.",
     "La question est vide : posez une question sur les articles.",
     "The question is empty: ask something about the articles."),
    (QuestionTooLong(2500, 2000),
     "The question is 2500 characters long; the limit is 2000.",
     "La question fait 2500 caractères ; la limite est de 2000.",
     "The question is 2500 characters long; the limit is 2000."),
    (BadArticle("a/b.txt", "binary file"), "a/b.txt: binary file", "a/b.txt : binary file", "a/b.txt: binary file"),
    (RemovalGuard(3, 4, 0.5),
     "This reindex would remove 3 of 4 articles (over the 50% guard); check the articles folder, or use "
     "/reindex force if that is intended.",
     "Cette réindexation retirerait 3 des 4 articles (au-delà du seuil de 50 %) : vérifiez le dossier des "
     "articles, ou utilisez /reindex force si c’est voulu.",
     "This reindex would remove 3 of 4 articles (over the 50% guard); check the articles folder, or pass --force "
     "if that is intended."),
    (ReindexRunning("scheduled refresh"),
     "A reindex is already running (started by scheduled refresh).",
     "Une réindexation est déjà en cours (lancée par scheduled refresh).",
     "A reindex is already running (started by scheduled refresh)."),
    (ReindexRunning(), "A reindex is already running.", "Une réindexation est déjà en cours.",
     "A reindex is already running."),
    (BadFilter("soon"),
     "“soon” is not a date (use 2025-05 or 2025-05-12).",
     "« soon » n’est pas une date (écrivez 2025-05 ou 2025-05-12).",
     "“soon” is not a date (use 2025-05 or 2025-05-12)."),
    (BadFilter("xx", "language"), "“xx” is not a language filter.", "« xx » n’est pas un filtre valable (language).",
     "“xx” is not a language filter."),
    (IndexNotAFolder("/srv/index"),
     "The index path /srv/index is a file, not a folder: the bot's operator must point NEWSDESK_INDEX_DIR at a "
     "folder.",
     "Le chemin de l’index /srv/index est un fichier, pas un dossier : l’opérateur du bot doit faire pointer "
     "NEWSDESK_INDEX_DIR vers un dossier.",
     "The index path /srv/index (NEWSDESK_INDEX_DIR or --index) is a file, not a folder: point it at a folder."),
    (IndexNotAFolder("/srv/x/index", "/srv/x"),
     "The index path /srv/x/index is inside /srv/x, which is a file, not a folder: the bot's operator must point "
     "NEWSDESK_INDEX_DIR at a folder.",
     "Le chemin de l’index /srv/x/index est dans /srv/x, qui est un fichier, pas un dossier : l’opérateur du bot "
     "doit faire pointer NEWSDESK_INDEX_DIR vers un dossier.",
     "The index path /srv/x/index (NEWSDESK_INDEX_DIR or --index) is inside /srv/x, which is a file, not a folder: "
     "point it at a folder."),
    (DiskFull("/srv/index", 5 * MB, 12 * MB + 1),
     "No space left on the index's disk (5 MB free, about 13 MB needed); the previous index is still serving. "
     "Free space on the disk of /srv/index and run the reindex again.",
     "Plus de place sur le disque de l’index (5 Mo libres, environ 13 Mo nécessaires) ; l’index précédent reste "
     "en service. Libérez de la place sur le disque de /srv/index et relancez la réindexation.",
     "No space left on the index's disk (5 MB free, about 13 MB needed); the previous index is still serving. "
     "Free space on the disk of /srv/index and run the reindex again."),
    (DiskFull("/srv/index", None, None, serving=False),
     "No space left on the index's disk; no index was written. Free space on the disk of /srv/index and run the "
     "reindex again.",
     "Plus de place sur le disque de l’index ; aucun index n’a été écrit. Libérez de la place sur le disque de "
     "/srv/index et relancez la réindexation.",
     "No space left on the index's disk; no index was written. Free space on the disk of /srv/index and run the "
     "reindex again."),
    (Cancelled(),
     "The reindex was cancelled; the previous index is still in use.",
     "La réindexation a été annulée ; l’index précédent reste en service.",
     "The reindex was cancelled; the previous index is still in use."),
    (UnsafeURL("http://10.0.0.1/x", "10.0.0.1 is a private address"),
     "Refused http://10.0.0.1/x: 10.0.0.1 is a private address.",
     "Adresse refusée, http://10.0.0.1/x : 10.0.0.1 is a private address.",
     "Refused http://10.0.0.1/x: 10.0.0.1 is a private address."),
    (FetchError("https://a.test/", "HTTP 404 Not Found", 404),
     "Cannot fetch https://a.test/: HTTP 404 Not Found.",
     "Impossible de récupérer https://a.test/ : HTTP 404 Not Found.",
     "Cannot fetch https://a.test/: HTTP 404 Not Found."),
]  # fmt: skip


def _every_error_type() -> set[type]:
    """Every NewsdeskError subclass defined anywhere in index/ (each module imported first)."""
    for module in pkgutil.walk_packages(index.__path__, "index."):
        importlib.import_module(module.name)
    found, todo = set(), [NewsdeskError]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("index.") and sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def test_every_domain_error_has_words_in_english_and_french_and_a_case_here():
    kinds = _every_error_type()
    assert len(kinds) >= 16
    assert sorted(k.__name__ for k in kinds - set(WORDS)) == []
    assert sorted(k.__name__ for k in kinds - {type(exc) for exc, *_ in CASES}) == []
    for kind in kinds:
        assert WORDS[kind].en and WORDS[kind].fr and WORDS[kind].en != WORDS[kind].fr, kind


@pytest.mark.parametrize(("exc", "en", "fr", "cli"), CASES, ids=[f"{type(c[0]).__name__}-{i}" for i, c in
                                                                  enumerate(CASES)])  # fmt: skip
def test_the_words_of_each_error(exc, en, fr, cli):
    assert error_text(exc, "en") == en
    assert error_text(exc, "fr") == fr
    assert cli_text(exc) == cli


@pytest.mark.parametrize("exc", [c[0] for c in CASES], ids=[type(c[0]).__name__ for c in CASES])
def test_discord_words_never_give_shell_advice(exc):
    for lang in ("en", "fr"):
        text = error_text(exc, lang)
        assert "newsdesk " not in text and "--" not in text and "`" not in text, text


def test_the_terminal_says_which_command_repairs_the_index():
    # What tests/index asserted of the exceptions' own messages before the words moved here (issue 12).
    assert "run `newsdesk reindex` first" in cli_text(IndexMissing("i"))
    assert "run `newsdesk reindex --force`" in cli_text(IndexCorrupt("i", "current is a file, not a link"))
    assert "run `newsdesk reindex` to update it" in cli_text(IndexOutdated("i", 1, 2))
    assert "run `newsdesk reindex --force` to rebuild it" in cli_text(ModelMismatch("a", 8, "b", 8))


def test_a_plain_newsdesk_error_keeps_its_own_message():
    exc = NewsdeskError("the evaluation set has no passages or no questions")
    assert error_text(exc, "fr") == cli_text(exc) == "the evaluation set has no passages or no questions"


def test_an_unknown_language_gets_english():
    assert error_text(EmptyQuestion(), "de") == error_text(EmptyQuestion(), "en")


def test_the_exceptions_own_message_is_a_technical_line_without_advice():
    for exc, *_ in CASES:
        assert "newsdesk reindex" not in str(exc) and "/reindex" not in str(exc) and "--force" not in str(exc)


# command: (admin check refused it: en, fr)
REFUSALS = {
    "reindex": ("Only Newsdesk admins can reindex.", "Seuls les admins de Newsdesk peuvent réindexer."),
    "add": ("Only Newsdesk admins can add articles.", "Seuls les admins peuvent ajouter des articles."),
    "feeds": ("Only Newsdesk admins can use /feeds.", "Seuls les admins de Newsdesk peuvent utiliser /feeds."),
}


@pytest.mark.parametrize("command", sorted(REFUSALS))
def test_each_refused_admin_command_says_what_was_refused(command):
    en, fr = REFUSALS[command]
    assert refusal_text(command, "en", admin=True) == en
    assert refusal_text(command, "fr", admin=True) == fr


def test_every_admin_command_with_its_own_words_has_both_languages():
    assert all(set(words) == {"en", "fr"} for words in REFUSED.values())


@pytest.mark.parametrize(("command", "en", "fr"), [
    ("follow", "You cannot use /follow here.", "Vous ne pouvez pas utiliser /follow ici."),
    ("reindex", "You cannot use /reindex here.", "Vous ne pouvez pas utiliser /reindex ici."),
])  # fmt: skip
def test_another_refusal_names_the_command(command, en, fr):
    assert refusal_text(command, "en", admin=False) == en
    assert refusal_text(command, "fr", admin=False) == fr
