"""The one error handler of the command tree: a domain error in the member's language, a refused check with
the command it refused, anything else an apology and a log line with the traceback."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from discord import app_commands

from bot.access import NotAdmin
from bot.tree import error_reply
from index.errors import BadFilter, IndexMissing


def invoke_error(command: str, exc: Exception) -> app_commands.CommandInvokeError:
    return app_commands.CommandInvokeError(SimpleNamespace(name=command, qualified_name=command), exc)


# (error, command, lang, what the member reads)
REPLIES = [
    (invoke_error("ask", BadFilter("bientôt")), "ask", "fr",
     "« bientôt » n’est pas une date (écrivez 2025-05 ou 2025-05-12)."),
    (invoke_error("ask", BadFilter("soon")), "ask", "en", "“soon” is not a date (use 2025-05 or 2025-05-12)."),
    (BadFilter("soon"), "timeline", "en", "“soon” is not a date (use 2025-05 or 2025-05-12)."),
    (invoke_error("search", IndexMissing("data/index")), "search", "fr",
     "Aucun article n’est encore indexé : un admin peut lancer /reindex."),
    (NotAdmin("reindex"), "reindex", "en", "Only Newsdesk admins can reindex."),
    (NotAdmin("reindex"), "reindex", "fr", "Seuls les admins de Newsdesk peuvent réindexer."),
    (NotAdmin("add"), "add", "en", "Only Newsdesk admins can add articles."),
    (NotAdmin("add"), "add", "fr", "Seuls les admins peuvent ajouter des articles."),
    (app_commands.CheckFailure(), "following", "en", "You cannot use /following here."),
    (app_commands.NoPrivateMessage(), "follow", "fr", "Vous ne pouvez pas utiliser /follow ici."),
]  # fmt: skip


@pytest.mark.parametrize(("error", "command", "lang", "text"), REPLIES)
def test_what_the_member_reads(error, command, lang, text):
    assert error_reply(error, command, lang) == text


def test_an_unknown_error_is_an_apology_and_a_logged_traceback(caplog):
    try:
        raise RuntimeError("disk on fire")
    except RuntimeError as exc:
        error = invoke_error("search", exc)
    for lang, apology in (("en", "Sorry, something went wrong"), ("fr", "Désolé, une erreur est survenue")):
        caplog.clear()
        text = error_reply(error, "search", lang)
        assert text.startswith(apology) and "disk on fire" not in text
        [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert record.getMessage() == "command search failed" and record.exc_info[1] is error.original
        assert record.exc_info[2] is not None


def test_a_domain_error_is_not_logged_as_a_failure(caplog):
    error_reply(invoke_error("ask", BadFilter("soon")), "ask", "en")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
