"""Through the loopback Discord with the hashing embedder: what can read every article runs in a worker thread
(/sources autocomplete, /add), and a French member reads errors and refusals in French."""

from __future__ import annotations

import threading

import pytest

from bot.client import NewsdeskBot
from bot.compose import build_options, search_config
from bot.settings import Settings
from index.engine import Engine
from tests.conftest import ARTICLES, write
from tests.fakes import HashingEmbedder
from tests.index.sources.test_feeds import site  # noqa: F401  (a news site on loopback, for /add)
from tests.loopback import loopback_discord, running_bot

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


@pytest.fixture
def workspace(tmp_path):
    for name, text in ARTICLES.items():
        write(tmp_path / "articles" / name, text)
    Engine(tmp_path / "index", HashingEmbedder()).reindex([tmp_path / "articles"])
    return tmp_path


def fast_bot(server, workspace, **overrides) -> NewsdeskBot:
    values = {"guild_ids": [server.guild.id], "question_cooldown": 0, "index_dir": workspace / "index",
              "articles_dir": [workspace / "articles"], **overrides}  # fmt: skip
    settings = Settings(_env_file=None, DISCORD_TOKEN=server.token, **values)
    engine = Engine(settings.index_dir, HashingEmbedder(), search_config(settings), build_options(settings))
    return NewsdeskBot(settings, engine, guild_ready_timeout=0.05)


def record_threads(engine: Engine) -> list[str]:
    """Make `engine.articles` note the thread each call runs in."""
    threads, real = [], engine.articles

    def articles(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    engine.articles = articles
    return threads


async def test_sources_autocomplete_reads_the_articles_in_a_worker_thread(workspace):
    async with loopback_discord() as server:
        bot = fast_bot(server, workspace)
        threads = record_threads(bot.engine)
        async with running_bot(bot, server):
            choices = await server.autocomplete("sources", {"query": "harb"}, "query")
            assert [c["name"] for c in choices] == ["Harbour bridge closes for repairs"]
        assert threads and all(name.startswith("newsdesk-query") for name in threads), threads
        server.assert_clean()


async def test_add_looks_up_the_new_article_in_a_worker_thread(workspace, site):  # noqa: F811
    site.put("/night-market", b"<html><head><title>Night market opens</title></head><body><article><h1>Night "
             b"market opens</h1><p>The harbour night market opens on Friday with forty stalls selling smoked "
             b"fish, honey and lanterns, the town council announced on Monday.</p></article></body></html>")  # fmt: skip
    async with loopback_discord() as server:
        bot = fast_bot(server, workspace, allow_hosts=["127.0.0.1"])
        threads = record_threads(bot.engine)
        async with running_bot(bot, server):
            h = await server.invoke_command("add", {"url": site.url("/night-market")}, user="admin")
            await h.wait_done(timeout=60)
            assert h.text.startswith("Added “Night market opens”"), h.text
        assert threads and all(name.startswith("newsdesk-query") for name in threads), threads
        server.assert_clean()


async def test_a_french_member_reads_errors_and_refusals_in_french(workspace, tmp_path):
    async with loopback_discord(permissions_override=True) as server:  # /reindex opened to every member
        bot = fast_bot(server, workspace)
        async with running_bot(bot, server):
            bad = await server.invoke_command("ask", {"question": "Le pont ?", "since": "bientôt"}, locale="fr")
            await bad.wait_done(timeout=10)
            assert bad.ephemeral and bad.text == "« bientôt » n’est pas une date (écrivez 2025-05 ou 2025-05-12)."
            en = await server.invoke_command("timeline", {"topic": "bridge", "until": "later"})
            await en.wait_done(timeout=10)
            assert en.ephemeral and en.text == "“later” is not a date (use 2025-05 or 2025-05-12)."
            no = await server.invoke_command("reindex", {}, user="alice", locale="fr")
            await no.wait_done(timeout=10)
            assert no.ephemeral and no.text == "Seuls les admins de Newsdesk peuvent réindexer."
            no = await server.invoke_command("add", {"url": "https://example-news.test/x"}, user="bob", locale="fr")
            await no.wait_done(timeout=10)
            assert no.ephemeral and no.text == "Seuls les admins peuvent ajouter des articles."
        server.assert_clean()

    async with loopback_discord() as server:  # no index yet: what a member can do about it, in their language
        bot = fast_bot(server, workspace, index_dir=tmp_path / "empty")
        async with running_bot(bot, server):
            fr = await server.invoke_command("search", {"query": "pont"}, locale="fr")
            await fr.wait_done(timeout=10)
            assert fr.text == "Aucun article n’est encore indexé : un admin peut lancer /reindex."
            await server.send_user_message("Combien coûtent les réparations du pont du port ?", mention_bot=True)
            reply = await server.wait_for_message("general", timeout=30)
            assert reply["content"] == "Aucun article n’est encore indexé : un admin peut lancer /reindex."
        server.assert_clean()
