"""The real Newsdesk bot, on the real discord.py client, against the loopback Discord, with the real model."""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import threading
import time
from datetime import datetime, timezone

import pytest

from bot.client import NewsdeskBot
from bot.compose import build_options, search_config
from bot.settings import Settings
from index.engine import Engine
from tests.conftest import ARTICLES, SAMPLES, write
from tests.index.sources.test_feeds import serve_local_news, site  # noqa: F401  (a news site on loopback, for /add and feeds)
from tests.loopback import loopback_discord, running_bot

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

HOSTILE = """
title: Markdown **everywhere** and [a link](https://evil.test)
date: 2025-04-01
lang: en

The festival poster said **free entry** for [everyone](https://evil.test) and @everyone cheered.

""" + ("Long paragraph about the festival lantern parade. " * 110)
# How the bot cites the hostile article: its title escaped (brackets made parentheses), in bold (it has no
# link), then its date.
HOSTILE_SOURCE = "— **Markdown \\*\\*everywhere\\*\\* and (a link)(https://evil.test)** · 2025-04-01"


@pytest.fixture(scope="module")
def built_index(tmp_path_factory, real_embedder):
    root = tmp_path_factory.mktemp("bot")
    folder = root / "articles"
    for name, text in ARTICLES.items():
        write(folder / name, text)
    write(folder / "hostile.txt", HOSTILE)
    engine = Engine(root / "index", real_embedder)
    engine.reindex([folder])
    return root, folder


@pytest.fixture
def workspace(built_index, tmp_path):
    """A private copy of the built index and articles, so tests may reindex without affecting others."""
    root, folder = built_index
    shutil.copytree(root / "index", tmp_path / "index", symlinks=True)
    shutil.copytree(folder, tmp_path / "articles")
    return tmp_path


def make_bot(server, workspace, real_embedder, **overrides) -> NewsdeskBot:
    values = {"guild_ids": [server.guild.id], "qa_channel_ids": [server.guild.channel("ask").id],
              "question_cooldown": 0, "index_dir": workspace / "index", "articles_dir": [workspace / "articles"],
              "reindex_progress_every": 0.2, **overrides}  # fmt: skip
    settings = Settings(_env_file=None, DISCORD_TOKEN=server.token, **values)
    engine = Engine(settings.index_dir, real_embedder, search_config(settings), build_options(settings))
    return NewsdeskBot(settings, engine, guild_ready_timeout=0.05)


async def ask(server, question, **kw):
    h = await server.invoke_command("ask", {"question": question, **kw})
    await h.wait_done(timeout=30)
    return h


async def view_ready(server, bot, message: dict) -> None:
    """Wait until the bot holds the view of `message`: it stores it when Discord has answered its send, which
    the loopback may deliver after the test's click (a member is never that fast; discord.py ignores a click on
    a message whose view it does not hold yet)."""
    store = bot._connection._view_store  # discord.py's ViewStore: no public way to ask
    await server.wait_for(lambda: int(message["id"]) in store._synced_message_views, what="the bot's view stored")


async def test_mention_and_qa_channel_get_replies_with_sources(workspace, real_embedder):
    async with loopback_discord() as server:
        bot = make_bot(server, workspace, real_embedder)
        async with running_bot(bot, server):
            q = await server.send_user_message("How much will the harbour bridge repairs cost?", mention_bot=True)
            reply = await server.wait_for_message("general", timeout=30)
            assert reply["message_reference"]["message_id"] == q["id"]
            assert "42 million euros" in reply["content"] and "Harbour bridge closes for repairs" in reply["content"]
            assert "2025-03-04" in reply["content"]
            assert any(r.path.endswith("/typing") for r in server.requests)
            q2 = await server.send_user_message("Combien a coûté la piste cyclable de Lyon ?", channel="ask")
            reply2 = await server.wait_for_message("ask", timeout=30)
            assert reply2["message_reference"]["message_id"] == q2["id"] and "18 millions" in reply2["content"]
            # chatter in the Q&A channel, and messages elsewhere without a mention, are ignored
            await server.send_user_message("lol ok", channel="ask")
            await server.send_user_message("Where is the bridge?", channel="general")
            await asyncio.sleep(1.0)
            assert len(server.bot_messages()) == 2
        assert not server.pinging_sends()
        server.assert_clean()


async def test_slash_ask_embed_private_and_not_found(workspace, real_embedder):
    async with loopback_discord() as server:
        bot = make_bot(server, workspace, real_embedder)
        async with running_bot(bot, server):
            h = await ask(server, "How much will the harbour bridge repairs cost?")
            assert h.ack.type == 5 and h.ack.elapsed < 1.0 and not h.ephemeral
            [embed] = h.response["embeds"]
            assert "42 million euros" in embed["description"]
            assert "[Harbour bridge closes for repairs](<https://example-news.test/harbour-bridge>)" in embed["description"]
            assert "2025-03-04" in embed["description"] and "**repairs**" in embed["description"]
            assert "articles" in embed["footer"]["text"] and "ms" in embed["footer"]["text"]
            p = await ask(server, "Combien a coûté la piste cyclable ?", private=True)
            assert p.ephemeral and p.ack.data and p.ack.data.get("flags") == 64
            off = await ask(server, "What is the best recipe for chocolate mousse?")
            [e] = off.response["embeds"]
            assert e["title"] == "Not in the articles" and "do not answer" in e["description"]
            fr = await server.invoke_command("ask", {"question": "Quelle est la recette du cassoulet ?"}, locale="fr")
            await fr.wait_done(timeout=30)
            assert fr.response["embeds"][0]["title"] == "Absent des articles"
        server.assert_clean()


async def test_search_sources_status(workspace, real_embedder):
    async with loopback_discord() as server:
        bot = make_bot(server, workspace, real_embedder)
        async with running_bot(bot, server):
            s = await server.invoke_command("search", {"query": "comet telescope", "k": 2})
            await s.wait_done(timeout=30)
            [embed] = s.response["embeds"]
            assert embed["fields"][0]["name"].startswith("1. Amateur astronomers") and len(embed["fields"]) == 2
            choices = await server.autocomplete("sources", {"query": "harb"}, "query")
            assert [c["name"] for c in choices] == ["Harbour bridge closes for repairs"]
            src = await server.invoke_command("sources", {})
            await src.wait_done(timeout=30)
            assert "Lyon ouvre une piste cyclable" in src.text and "Page 1/1" in src.text
            st = await server.invoke_command("status", {})
            await st.wait_done(timeout=30)
            fields = {f["name"]: f["value"] for f in st.response["embeds"][0]["fields"]}
            assert fields["Articles"] == "4" and "multilingual-e5-small" in fields["Model"] and st.ephemeral
            assert fields["Gateway latency"].endswith("ms")
        server.assert_clean()


async def test_sources_paging(tmp_path, real_embedder):
    folder = tmp_path / "articles"
    for i in range(19):
        write(folder / f"n{i:02d}.txt", f"title: Council meeting number {i}\ndate: 2024-01-{i + 1:02d}\n\n"
              f"The council met for the {i}th time and voted on the {i} budget lines.")  # fmt: skip
    Engine(tmp_path / "index", real_embedder).reindex([folder])
    async with loopback_discord() as server:
        bot = make_bot(server, tmp_path, real_embedder)
        async with running_bot(bot, server):
            h = await server.invoke_command("sources", {})
            await h.wait_done(timeout=30)
            assert "Page 1/3" in h.text and "Council meeting number 18" in h.text  # newest first
            message = h.response
            nxt = next(c for row in message["components"] for c in row["components"] if c["custom_id"].endswith("next"))
            await view_ready(server, bot, message)
            click = await server.click_button(message, nxt["custom_id"])
            await click.wait_done(timeout=10)
            assert "Page 2/3" in server.messages[int(message["id"])]["embeds"][0]["footer"]["text"]
        server.assert_clean()


async def test_reindex_refused_for_members_and_run_by_admins(workspace, real_embedder):
    async with loopback_discord(permissions_override=True) as server:
        bot = make_bot(server, workspace, real_embedder)
        async with running_bot(bot, server):
            refused = await server.invoke_command("reindex", {}, user="alice")
            await refused.wait_done(timeout=10)
            assert refused.ephemeral and "Only Newsdesk admins" in refused.text
            # new articles arrive; an admin reindexes while a member keeps asking
            shutil.copytree(SAMPLES, workspace / "articles" / "samples")
            h = await server.invoke_command("reindex", {}, user="admin")
            await h.wait_acked()
            second = await server.invoke_command("reindex", {}, user="admin")
            await second.wait_done(timeout=10)
            assert "already running" in second.text and "admin" in second.text
            during = await ask(server, "How much will the harbour bridge repairs cost?")
            assert "42 million euros" in during.text  # answered from the old index meanwhile
            await server.wait_for(lambda: "Reindex done" in (h.text or ""), timeout=120)
            assert any("Reindexing" in (e.get("content") or "") for e in h.edits)
            assert "added" in h.text and "0 failed" in h.text
            after = await ask(server, "Where did the Blue Ghost lander touch down?")
            [embed] = after.response["embeds"]
            # An answer from the new article, not "Not in the articles" with it among the related reading.
            assert embed["title"] == "From the articles", embed
            first = embed["description"].split("\n\n**2.**")[0].replace("**", "")
            assert "Blue Ghost lander touched down on the Moon on Sunday, 2 March 2025" in first
            assert ("— [Firefly's Blue Ghost lander touches down on the Moon]"
                    "(<https://example-news.test/space/2025/03/02/blue-ghost-lands-mare-crisium>) · 2025-03-02") in first
        server.assert_clean()


async def test_synced_commands_payload(workspace, real_embedder):
    async with loopback_discord() as server:
        bot = make_bot(server, workspace, real_embedder)
        async with running_bot(bot, server):
            commands = {c["name"]: c for c in server.synced_commands()}
    assert set(commands) == {"ask", "search", "sources", "status", "reindex", "add", "timeline", "follow", "unfollow",
                             "following", "feedback"}  # fmt: skip
    for c in commands.values():
        assert c["description"] and c["description_localizations"]["fr"]
        for o in c.get("options", []):
            assert o["description"] and o["description_localizations"]["fr"]
    assert [o["name"] for o in commands["ask"]["options"]] == ["question", "source", "since", "until", "private"]
    assert int(commands["reindex"]["default_member_permissions"]) == 32  # Manage Server
    assert int(commands["feedback"]["default_member_permissions"]) == 32 and commands["feedback"]["contexts"] == [0]
    assert commands["sources"]["options"][0]["autocomplete"] is True
    assert [o["name"] for o in commands["timeline"]["options"]] == ["topic", "since", "until", "source"]
    assert [o["name"] for o in commands["follow"]["options"]] == ["topic", "channel", "dm"]
    assert commands["unfollow"]["options"][0]["autocomplete"] is True
    assert all(commands[n]["contexts"] == [0] for n in ("follow", "unfollow", "following"))  # guild only
    assert not server.synced_commands(guild=None)  # no global sync at start


async def test_hostile_input_stays_within_limits_and_pings_nobody(workspace, real_embedder):
    async with loopback_discord() as server:
        bot = make_bot(server, workspace, real_embedder)
        async with running_bot(bot, server):
            await server.send_user_message("@everyone what did the festival poster say?", mention_bot=True)
            reply = await server.wait_for_message("general", timeout=30)
            content = reply["content"]
            assert "@everyone" not in content.replace("@\u200beveryone", "")
            # It answers with the poster sentence, shown as written: its Markdown escaped, the mention broken
            # (question terms are bold, so compare without the bold markers the bot adds).
            plain = content.replace("\\*", "\x00").replace("**", "").replace("\x00", "\\*")
            assert plain.startswith("1. « The festival poster said \\*\\*free entry\\*\\* for "), content
            assert "(https://evil.test) and @\u200beveryone cheered." in plain
            assert HOSTILE_SOURCE in content
            long_q = "What did the festival poster say about the lantern parade " + "and the festival " * 108
            assert 1800 < len(long_q) < 2000
            h = await ask(server, long_q + "?")
            [embed] = h.response["embeds"]
            assert embed["title"] == "From the articles", embed
            desc = embed["description"]
            assert "said \\*\\*free entry\\*\\* for \\[everyone\\](https://evil.test) and @\u200beveryone cheered." in desc
            assert HOSTILE_SOURCE in desc
            m = await ask(server, "Which festival had a lantern parade?")
            [embed] = m.response["embeds"]
            assert embed["title"] == "From the articles" and HOSTILE_SOURCE in embed["description"], embed
            assert "Long paragraph about the" in embed["description"]
            assert len(embed["description"]) <= 4096 and len(embed["footer"]["text"]) <= 2048  # Discord's limits
        assert not server.pinging_sends()
        assert all(s.allowed_mentions is None or s.allowed_mentions.get("parse") == [] for s in server.sends)
        server.assert_clean()


async def test_event_loop_stays_responsive_under_load_and_reindex(workspace, real_embedder):
    async with loopback_discord(heartbeat_interval_ms=200) as server:
        bot = make_bot(server, workspace, real_embedder)
        async with running_bot(bot, server):
            shutil.copytree(SAMPLES, workspace / "articles" / "samples")
            stalls: list[float] = []
            stop = asyncio.Event()

            async def monitor():
                while not stop.is_set():
                    t0 = time.perf_counter()
                    await asyncio.sleep(0.01)
                    stalls.append(time.perf_counter() - t0 - 0.01)

            mon = asyncio.create_task(monitor())
            acks_before = len(server.heartbeat_acks)
            r = await server.invoke_command("reindex", {}, user="admin")
            handles = await asyncio.gather(*[
                server.invoke_command("ask", {"question": "How much will the harbour bridge repairs cost?"},
                                      user="alice" if i % 2 else "bob")
                for i in range(20)])  # fmt: skip
            for h in handles:
                await h.wait_done(timeout=120)
            await server.wait_for(lambda: "Reindex done" in (r.text or ""), timeout=180)
            stop.set()
            await mon
            assert all("42 million euros" in h.text for h in handles)
            assert len(server.heartbeat_acks) > acks_before
            assert max(stalls) < 0.25, f"event loop stalled {max(stalls) * 1000:.0f} ms"
        server.assert_clean()


async def test_more_button_shows_the_next_quotes(tmp_path, real_embedder):
    folder = tmp_path / "articles"
    stories = {
        "Arles": "Some 1,200 visitors watched the lantern parade on Saturday night as brass bands led the way.",
        "Brest": "Sailors opened the lantern parade on Saturday night, and the harbour master counted 3,400 visitors.",
        "Colmar": "Rain did not stop 900 visitors from following the lantern parade along the canals on Saturday night.",
        "Dijon": "The mayor said 5,000 visitors joined Saturday night's lantern parade, a record for the festival.",
        "Evian": "By the lake, 650 visitors saw Saturday night's lantern parade end with music from a local choir.",
        "Foix": "Under the castle walls, the lantern parade drew 1,800 visitors on Saturday night, police said.",
    }
    for i, (town, text) in enumerate(stories.items()):
        write(folder / f"{town}.txt", f"title: {town} lantern parade\ndate: 2024-10-{i + 1:02d}\n\n{text}")
    Engine(tmp_path / "index", real_embedder).reindex([folder])
    async with loopback_discord() as server:
        bot = make_bot(server, tmp_path, real_embedder)
        async with running_bot(bot, server):
            h = await ask(server, "How many visitors did the lantern parade have on Saturday night?")
            first = h.response["embeds"][0]["description"]
            assert first.count("visitors") == 3
            [button] = [c for row in h.response["components"] for c in row["components"]]
            assert button["label"] == "More"
            await view_ready(server, bot, h.response)
            more = await server.click_button(h.response, button["custom_id"])
            await more.wait_done(timeout=10)
            second = more.response["embeds"][0]["description"]
            assert second.startswith("**4.**") and "visitors" in second
            # the next quotes are other articles than the first three
            shown = {ln.split("](")[0] for ln in first.splitlines() if "](" in ln}
            assert not shown & {ln.split("](")[0] for ln in second.splitlines() if "](" in ln}
        server.assert_clean()


async def test_cooldown_and_errors_are_ephemeral_and_never_silent(workspace, real_embedder, caplog):
    async with loopback_discord() as server:
        bot = make_bot(server, workspace, real_embedder, question_cooldown=60)
        async with running_bot(bot, server):
            await ask(server, "How much will the harbour bridge repairs cost?")
            again = await server.invoke_command("ask", {"question": "And the ferries?"})
            await again.wait_done(timeout=10)
            assert again.ephemeral and again.ack.type == 4
            wait = re.fullmatch(r"Please wait (\d+) s before asking again\.", again.text)
            assert wait and 50 <= int(wait.group(1)) <= 60, again.text  # of the 60 s, a few have passed
            bad = await server.invoke_command("ask", {"question": "Bridge news?", "since": "soon"}, user="bob")
            await bad.wait_done(timeout=10)
            assert "is not a date" in bad.text and bad.ephemeral

            def broken(*args, **kwargs):
                raise RuntimeError("disk on fire")

            bot.engine.search = broken
            oops = await server.invoke_command("search", {"query": "bridge"})
            await oops.wait_done(timeout=10)
            assert "Sorry, something went wrong" in oops.text and "disk on fire" not in oops.text
            # The failure is logged once, as the failure of /search, with the exception and its traceback.
            [record] = [r for r in caplog.records if r.levelname == "ERROR"]
            assert record.name == "bot.tree" and record.getMessage() == "command search failed"
            exc_type, exc, tb = record.exc_info
            assert exc_type is RuntimeError and str(exc) == "disk on fire" and tb is not None
        server.assert_clean()


async def test_without_the_message_content_intent_mentions_and_slash_commands_still_work(workspace, real_embedder,
                                                                                        caplog):  # fmt: skip
    from bot.client import serve

    async with loopback_discord(privileged_intents=()) as server:
        bot = make_bot(server, workspace, real_embedder)
        stop = asyncio.Event()
        task = asyncio.create_task(serve(bot.settings, bot.engine, stop, guild_ready_timeout=0.05))
        await server.wait_for(lambda: server.synced_commands() and len(server.identifies) >= 2, timeout=30)
        await asyncio.sleep(0.5)
        h = await ask(server, "How much will the harbour bridge repairs cost?")
        assert "42 million euros" in h.text
        await server.send_user_message("How much will the bridge repairs cost?", mention_bot=True)
        reply = await server.wait_for_message("general", timeout=30)
        assert "42 million euros" in reply["content"]
        stop.set()
        await asyncio.wait_for(task, timeout=20)
    assert any("message content intent" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")


async def test_add_fetches_a_page_for_admins_only(workspace, real_embedder, site):  # noqa: F811
    site.put("/night-market", b"<html><head><title>Night market opens</title></head><body><article><h1>Night "
             b"market opens</h1><p>The harbour night market opens on Friday with forty stalls selling smoked "
             b"fish, honey and lanterns, the town council announced on Monday.</p></article></body></html>")  # fmt: skip
    async with loopback_discord(permissions_override=True) as server:  # a server owner opened /add to everyone
        bot = make_bot(server, workspace, real_embedder, allow_hosts=["127.0.0.1"])
        async with running_bot(bot, server):
            no = await server.invoke_command("add", {"url": site.url("/night-market")}, user="alice")
            await no.wait_done(timeout=10)
            assert no.ephemeral and "Only Newsdesk admins" in no.text
            h = await server.invoke_command("add", {"url": site.url("/night-market")}, user="admin")
            await h.wait_done(timeout=60)
            assert "Night market opens" in h.text
            a = await ask(server, "How many stalls will the night market have?")
            assert "forty **stalls**" in a.text
            bad = await server.invoke_command("add", {"url": "http://10.0.0.1/x"}, user="admin")
            await bad.wait_done(timeout=30)
            assert "10.0.0.1" in bad.text
        server.assert_clean()


async def _reindex(server, user: str, **options):
    """/reindex as `user`; returns the interaction once its reply is final (refused, done or failed)."""
    h = await server.invoke_command("reindex", options, user=user)
    await server.wait_for(lambda: h.text and not h.text.startswith("Reindexing"), timeout=120,
                          what=f"the end of /reindex by {user}")  # fmt: skip
    return h


async def test_admins_by_role_or_user_id_may_reindex_and_no_one_else(workspace, real_embedder):
    async with loopback_discord(permissions_override=True) as server:  # the command is open to every member
        editors = server.guild.add_role("Editors", 0)  # no permission at all: admin only by its id
        server.guild.add_member("carol", roles=["Editors"])
        server.guild.add_member("dave", roles=["Moderator"])
        bob = server.guild.member("bob")
        bot = make_bot(server, workspace, real_embedder, admin_role_ids=[editors.id], admin_user_ids=[bob.id])
        async with running_bot(bot, server):
            for member in ("alice", "dave"):  # neither the role, nor the user id, nor Manage Server
                no = await _reindex(server, member)
                assert no.ephemeral and no.text == "Only Newsdesk admins can reindex.", (member, no.text)
            for member in ("carol", "bob", "admin"):  # the role, the user id, Manage Server
                yes = await _reindex(server, member)
                assert not yes.ephemeral and yes.text.startswith("Reindex done"), (member, yes.text)
                assert "4 articles" in yes.text
            no = await server.invoke_command("add", {"url": "https://example-news.test/x"}, user="dave")
            await no.wait_done(timeout=10)
            assert no.ephemeral and no.text == "Only Newsdesk admins can add articles."
        server.assert_clean()


async def _answered_sentinel(server, channel: str = "ask") -> None:
    """A question that is answered: once its reply is there, every earlier message has been handled."""
    q = await server.send_user_message("How much will the harbour bridge repairs cost?", channel=channel)
    reply = await server.wait_for_message(channel, timeout=30)
    assert reply["message_reference"]["message_id"] == q["id"] and "42 million euros" in reply["content"]


async def test_qa_channel_answers_questions_only_and_mentions_can_be_turned_off(workspace, real_embedder):
    async with loopback_discord() as server:
        bot = make_bot(server, workspace, real_embedder)  # question form required, mentions answered
        async with running_bot(bot, server):
            await server.send_user_message("The harbour bridge repairs cost a lot of money", channel="ask")
            await server.send_user_message("Repairs?", channel="ask")  # a question, but under 10 characters
            await _answered_sentinel(server)
            assert len(server.bot_messages()) == 1  # the statement and the short question were ignored
            # without the question form, a statement in the Q&A channel is answered
            bot.settings.require_question_form = False
            s = await server.send_user_message("Tell me the cost of the harbour bridge repairs", channel="ask")
            reply = await server.wait_for_message("ask", timeout=30)
            assert reply["message_reference"]["message_id"] == s["id"] and "42 million euros" in reply["content"]
        server.assert_clean()

    async with loopback_discord() as server:
        bot = make_bot(server, workspace, real_embedder, answer_mentions=False)
        async with running_bot(bot, server):
            await server.send_user_message("How much will the harbour bridge repairs cost?", mention_bot=True)
            await _answered_sentinel(server)  # the Q&A channel is still answered
            assert server.bot_messages("general") == [] and len(server.bot_messages()) == 1
        assert not server.pinging_sends()
        server.assert_clean()


async def test_reindex_force_allows_a_large_removal(workspace, real_embedder):
    async with loopback_discord() as server:
        bot = make_bot(server, workspace, real_embedder)
        async with running_bot(bot, server):
            for name in ("harbour.txt", "velo.md", "comet.json"):  # 3 of the 4 articles: over the 50% guard
                (workspace / "articles" / name).unlink()
            refused = await _reindex(server, "admin")
            assert refused.text.startswith("The reindex failed: This reindex would remove 3 of 4 articles")
            assert refused.text.endswith("The previous index is still in use.")
            still = await ask(server, "How much will the harbour bridge repairs cost?")
            assert "42 million euros" in still.text
            forced = await _reindex(server, "admin", force=True)  # a rebuild: it counts the one article as added
            assert forced.text.startswith("Reindex done") and "; 1 articles" in forced.text, forced.text
            gone = await ask(server, "How much will the harbour bridge repairs cost?")
            assert gone.response["embeds"][0]["title"] == "Not in the articles" and "42 million" not in gone.text
        server.assert_clean()


async def test_status_shows_the_last_reindex(workspace, real_embedder):
    async def last_reindex(server) -> datetime:
        st = await server.invoke_command("status", {})
        await st.wait_done(timeout=30)
        fields = {f["name"]: f["value"] for f in st.response["embeds"][0]["fields"]}
        return datetime.fromisoformat(fields["Last reindex"])

    async with loopback_discord() as server:
        bot = make_bot(server, workspace, real_embedder)
        async with running_bot(bot, server):
            built = await last_reindex(server)
            assert built == datetime.fromisoformat(bot.engine.stats().last_reindex) and built.tzinfo is not None
            assert built <= datetime.now(timezone.utc)
            write(workspace / "articles" / "late.txt", "title: Late news\ndate: 2025-07-01\n\n"
                  "The night ferry to the islands will run again from Friday, the harbour office said.")  # fmt: skip
            await asyncio.sleep(1.05)  # the time is kept to the second: the new one must differ
            before = datetime.now(timezone.utc).replace(microsecond=0)
            done = await _reindex(server, "admin")
            assert done.text.startswith("Reindex done") and "1 added" in done.text
            after = await last_reindex(server)
            assert built < before <= after <= datetime.now(timezone.utc)
        server.assert_clean()


async def test_background_feed_refresh_and_a_running_reindex(workspace, real_embedder, site, caplog):  # noqa: F811
    caplog.set_level(logging.INFO, logger="bot.cogs.admin")
    rss_url, _ = serve_local_news(site)
    async with loopback_discord() as server:
        bot = make_bot(server, workspace, real_embedder, feeds=[rss_url], refresh_minutes=0.01,
                       allow_hosts=["127.0.0.1"])  # fmt: skip
        # The scheduled refreshes, then the admin's /reindex, wait at a gate while the test looks at the bot.
        gates = {"scheduled refresh": threading.Event(), "admin": threading.Event()}
        gates["admin"].set()
        calls, real_reindex = [], bot.engine.reindex

        def gated_reindex(*args, **kwargs):
            who = kwargs.get("who")
            calls.append(who)
            gates["scheduled refresh" if who == "scheduled refresh" else "admin"].wait(60)
            return real_reindex(*args, **kwargs)

        def skipped() -> int:
            return sum(r.getMessage() == "scheduled refresh skipped: a reindex is running" for r in caplog.records)

        bot.engine.reindex = gated_reindex
        async with running_bot(bot, server):
            # The refresh starts on its own: it pulled the feed into the articles folder and waits to reindex.
            await server.wait_for(lambda: calls, timeout=30, what="the scheduled refresh")
            assert calls == ["scheduled refresh"]
            assert len(list((workspace / "articles" / "web").rglob("*.txt"))) == 3
            busy = await server.invoke_command("reindex", {}, user="admin")
            await busy.wait_done(timeout=10)
            assert busy.ephemeral and busy.text == "A reindex is already running (started by scheduled refresh)."
            gates["scheduled refresh"].set()
            await server.wait_for(lambda: any("scheduled refresh in" in r.getMessage() for r in caplog.records),
                                  timeout=120, what="the end of the refresh")  # fmt: skip
            h = await ask(server, "How many beekeepers set up their stalls along the harbour?")
            assert "More than forty beekeepers set up their stalls along the harbour" in h.text.replace("**", "")
            assert "[Beekeepers crowd the harbour market]" in h.response["embeds"][0]["description"]

            # While an admin's /reindex runs, the scheduled refresh skips its turns and fetches nothing.
            gates["admin"].clear()
            for _ in range(20):  # between two refreshes (each takes a moment, every 0.6 s)
                await server.wait_for(lambda: bot.jobs.current is None, timeout=60, what="no reindex running")
                r = await server.invoke_command("reindex", {}, user="admin")
                await r.wait_done(timeout=10)
                if r.text.startswith("Reindexing"):
                    break
                assert r.text == "A reindex is already running (started by scheduled refresh)."
            await server.wait_for(lambda: calls[-1].startswith("admin"), timeout=30, what="the /reindex")
            before, fetched = skipped(), site.total()
            await server.wait_for(lambda: skipped() >= before + 2, timeout=30, what="two skipped refreshes")
            assert site.total() == fetched and calls[-1].startswith("admin")
            gates["admin"].set()
            await server.wait_for(lambda: "Reindex done" in (r.text or ""), timeout=120)
            # and the refreshes resume: the feed is asked again (a conditional request)
            await server.wait_for(lambda: site.total() > fetched, timeout=30, what="the next refresh")
        server.assert_clean()
