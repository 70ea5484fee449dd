"""Issue 14 through the loopback Discord, with the real bot, the real discord.py client and the real model:
/follow, alerts after /reindex and /add, the cool-down, /unfollow and the Unfollow button, DMs, gone
channels and members, /following, and /timeline with its paging."""

from __future__ import annotations

import asyncio
import logging
import shutil

import pytest

from tests.bot.test_bot_e2e import make_bot, view_ready
from tests.conftest import ARTICLES, SAMPLES, write
from tests.index.sources.test_feeds import site  # noqa: F401  (a news site on loopback, for /add)
from tests.loopback import loopback_discord, running_bot

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

ALERT = "New on “Ariane 6”"
FIRST_FLIGHT = "ariane-6-premier-vol.txt"
POSTPONED = "ariane-6-vol-commercial-reporte.txt"
BURST = ["ariane-6-cso-3-en-orbite.txt", "ariane-6-cso-3-depeche.txt", "ariane-6-metop-sg-a1.md"]
FERRY = """
title: New ferry line links the two islands
date: 2025-07-01
source: Example News
lang: en

A new ferry line between the two islands opened on Tuesday, with six crossings a day in summer. The crossing takes forty minutes, half the time of the old route, and bicycles travel free.
"""
NEXT_FLIGHT = """
title: Ariane 6 : Kourou prépare déjà le vol suivant
date: 2025-09-01
source: Example News
lang: fr

À Kourou, les équipes d’Arianespace assemblent le prochain lanceur Ariane 6, quelques semaines après le vol du satellite météorologique Metop-SG-A1. Les deux propulseurs d’appoint ont été livrés et le composite supérieur doit arriver de Brême en octobre.
"""


@pytest.fixture
def newsroom(tmp_path, real_embedder):
    """The four test articles and the first Ariane 6 flight, indexed: the corpus before the follow-ups come."""
    from index.engine import Engine

    folder = tmp_path / "articles"
    for name, text in ARTICLES.items():
        write(folder / name, text)
    shutil.copy(SAMPLES / FIRST_FLIGHT, folder / FIRST_FLIGHT)
    Engine(tmp_path / "index", real_embedder).reindex([folder])
    return tmp_path


def alerts_in(server, channel) -> list[dict]:
    return [m for m in server.bot_messages(channel) if m.get("embeds") and m["embeds"][0].get("title") == ALERT]


def unfollow_button(message) -> dict:
    [button] = [c for row in message["components"] for c in row["components"]]
    return button


async def reindex(server, bot, channel="general"):
    """An admin runs /reindex; returns once the follows have been checked against what it brought."""
    cog = bot.get_cog("FollowCog")
    before = cog.checks
    h = await server.invoke_command("reindex", {}, user="admin", channel=channel)
    await server.wait_for(lambda: "Reindex done" in (h.text or ""), timeout=120)
    await server.wait_for(lambda: cog.checks > before, timeout=60, what="a follows check")


async def follow(server, options, user="alice", **kw):
    h = await server.invoke_command("follow", options, user=user, **kw)
    await h.wait_done(timeout=60)
    return h


async def test_follow_alerts_once_groups_a_burst_and_unfollow_stops(newsroom, real_embedder):
    articles = newsroom / "articles"
    async with loopback_discord() as server:
        bot = make_bot(server, newsroom, real_embedder, follow_cooldown=4)
        async with running_bot(bot, server):
            h = await follow(server, {"topic": "Ariane 6"})
            general, ask = server.guild.channel("general"), server.guild.channel("ask")
            assert h.ephemeral and f"Following “Ariane 6” in <#{general.id}>" in h.text and "4 s" in h.text
            b = await follow(server, {"topic": "Ariane 6", "channel": "ask"}, user="bob")
            assert f"in <#{ask.id}>" in b.text
            again = await follow(server, {"topic": "ariane  6"})
            assert "already follow" in again.text

            # a matching article: exactly one alert in each follower's channel, with the quote and its source
            shutil.copy(SAMPLES / POSTPONED, articles / POSTPONED)
            await reindex(server, bot)
            await server.wait_for(lambda: alerts_in(server, "general") and alerts_in(server, "ask"), timeout=30)
            [alert] = alerts_in(server, "general")
            embed = alert["embeds"][0]
            assert "vanne sur un équipement au sol relié au lanceur" in embed["description"]
            assert ("[Ariane 6 : le premier vol commercial reporté une demi-heure avant l’heure prévue]"
                    "(<https://example-news.test/espace/2025/03/03/ariane-6-vol-commercial-reporte>) · 2025-03-03 · "
                    "Example News") in embed["description"]  # fmt: skip
            assert "1 new article(s)" in embed["footer"]["text"]
            assert unfollow_button(alert)["label"] == "Unfollow"
            assert len(alerts_in(server, "ask")) == 1

            # a non-matching article posts nothing
            write(articles / "ferry.txt", FERRY)
            await reindex(server, bot)
            await asyncio.sleep(0.5)
            assert len(alerts_in(server, "general")) == 1 and len(alerts_in(server, "ask")) == 1

            # a burst of three matching articles (two carry one dispatch): held by the cool-down, then one alert
            for name in BURST:
                shutil.copy(SAMPLES / name, articles / name)
            await reindex(server, bot)
            await server.wait_for(lambda: len(alerts_in(server, "general")) == 2, timeout=30)
            burst = alerts_in(server, "general")[1]["embeds"][0]
            assert "2 new article(s)" in burst["footer"]["text"] and burst["description"].count("« ") == 2
            assert "Metop-SG-A1" in burst["description"] and "CSO-3" in burst["description"]
            assert "*also in*" in burst["description"]  # the dispatch names its other outlet
            await asyncio.sleep(1.0)
            assert len(alerts_in(server, "general")) == 2 and len(alerts_in(server, "ask")) == 2

            # alice stops with the button; only she (or an admin) may
            button = unfollow_button(alerts_in(server, "general")[0])
            not_hers = await server.click_button(alerts_in(server, "general")[0], button["custom_id"], user="bob")
            await not_hers.wait_done(timeout=10)
            assert not_hers.ephemeral and "Only the member who follows this topic" in not_hers.text
            click = await server.click_button(alerts_in(server, "general")[0], button["custom_id"])
            await click.wait_done(timeout=10)
            assert click.ephemeral and click.text == "Stopped following “Ariane 6”."
            # bob stops with /unfollow, its autocomplete listing his follow
            choices = await server.autocomplete("unfollow", {"topic": "ari"}, "topic", user="bob")
            assert [c["name"] for c in choices] == ["Ariane 6 · #ask"]
            u = await server.invoke_command("unfollow", {"topic": choices[0]["value"]}, user="bob")
            await u.wait_done(timeout=10)
            assert u.text == "Stopped following “Ariane 6”."
            write(articles / "next-flight.txt", NEXT_FLIGHT)
            await reindex(server, bot)
            await asyncio.sleep(1.0)
            assert len(alerts_in(server, "general")) == 2 and len(alerts_in(server, "ask")) == 2
            mine = await server.invoke_command("following", {}, user="alice")
            await mine.wait_done(timeout=10)
            assert "Nothing is followed yet" in mine.text
        assert not server.pinging_sends()
        assert all(s.allowed_mentions is not None and s.allowed_mentions.get("parse") == [] for s in server.sends)
        server.assert_clean()


async def test_add_brings_an_alert_and_limits_hold(newsroom, real_embedder, site):  # noqa: F811
    site.put("/ariane-next", ("<html><head><title>Ariane 6 : Kourou prépare déjà le vol suivant</title></head><body>"
                              "<article><h1>Ariane 6 : Kourou prépare déjà le vol suivant</h1><p>À Kourou, les équipes "
                              "d’Arianespace assemblent le prochain lanceur Ariane 6, quelques semaines après le vol du "
                              "satellite météorologique Metop-SG-A1.</p></article></body></html>").encode())  # fmt: skip
    async with loopback_discord() as server:
        bot = make_bot(server, newsroom, real_embedder, allow_hosts=["127.0.0.1"], follows_per_member=1,
                       follows_per_guild=2)  # fmt: skip
        async with running_bot(bot, server):
            await follow(server, {"topic": "Ariane 6"})
            second = await follow(server, {"topic": "Notre-Dame de Paris"})
            assert "You already follow 1 topics, the most allowed" in second.text
            await follow(server, {"topic": "harbour bridge"}, user="bob")
            third = await follow(server, {"topic": "comet"}, user="admin")
            assert "This server already has 2 follows" in third.text
            cog = bot.get_cog("FollowCog")
            before = cog.checks
            h = await server.invoke_command("add", {"url": site.url("/ariane-next")}, user="admin")
            await h.wait_done(timeout=60)
            await server.wait_for(lambda: cog.checks > before, timeout=60)
            await server.wait_for(lambda: alerts_in(server, "general"), timeout=30)
            [alert] = alerts_in(server, "general")
            assert "assemblent le prochain lanceur" in alert["embeds"][0]["description"]
            listing = await server.invoke_command("following", {}, user="admin")
            await listing.wait_done(timeout=10)
            assert "Follows in this server" in listing.text and "Ariane 6" in listing.text and "harbour bridge" in listing.text
        server.assert_clean()


async def test_dm_follows_and_gone_channels_and_members(newsroom, real_embedder, caplog):
    caplog.set_level(logging.INFO, logger="bot.cogs.follow")
    articles = newsroom / "articles"
    async with loopback_discord(channels=("general", "ask", "newsroom")) as server:
        bot = make_bot(server, newsroom, real_embedder, follow_cooldown=0, members_intent=True)
        async with running_bot(bot, server):
            server.block_dms("bob")
            refused = await follow(server, {"topic": "Ariane 6", "dm": True}, user="bob")
            assert "cannot send you direct messages" in refused.text
            ok = await follow(server, {"topic": "Ariane 6", "dm": True})
            assert "in your direct messages" in ok.text
            hello = await server.wait_for_dm("alice")
            assert hello["content"] == "You will get the new articles about “Ariane 6” here."
            await follow(server, {"topic": "Ariane 6", "channel": "ask"}, user="admin")
            await follow(server, {"topic": "Ariane 6"}, user="owner")  # in #general

            shutil.copy(SAMPLES / POSTPONED, articles / POSTPONED)
            await reindex(server, bot)
            dm = await server.wait_for_dm("alice", timeout=30, predicate=lambda m: bool(m.get("embeds")))
            assert "vanne sur un équipement au sol" in dm["embeds"][0]["description"]
            await server.wait_for(lambda: alerts_in(server, "ask") and alerts_in(server, "general"), timeout=30)

            # the button works in a DM too: alice stops following there
            click = await server.click_button(dm, unfollow_button(dm)["custom_id"], user="alice")
            await click.wait_done(timeout=10)
            assert click.text == "Stopped following “Ariane 6”."
            await follow(server, {"topic": "Ariane 6", "dm": True})  # and follows again

            # #ask is deleted (the bot hears of it), alice leaves (members intent), #general vanishes unannounced
            await server.delete_channel("ask")
            await server.remove_member("alice")
            await server.wait_for(lambda: sum("disabled" in r.getMessage() for r in caplog.records) >= 2, timeout=10)
            server.guild.remove_channel("general")  # no CHANNEL_DELETE: the next alert finds out
            for name in BURST:
                shutil.copy(SAMPLES / name, articles / name)
            await reindex(server, bot, "newsroom")
            await server.wait_for(lambda: sum("disabled" in r.getMessage() for r in caplog.records) >= 3, timeout=30)
            write(articles / "next-flight.txt", NEXT_FLIGHT)
            await reindex(server, bot, "newsroom")  # nothing is retried: every follow is off now
            follows = bot.get_cog("FollowCog").store.all()
            assert [f.active for f in follows] == [False] * len(follows)
            reasons = sorted({f.disabled_reason for f in follows if f.disabled_reason})
            assert reasons == ["the channel was deleted", "the member left the server"]
            # refused sends: bob's first DM, then one alert for the vanished channel; none for the deleted channel
            # nor the departed member, and nothing tried again
            refused_sends = [e for e in server.errors if e.request.method == "POST" and e.request.path.endswith("/messages")]
            assert [(e.status, e.code) for e in refused_sends] == [(403, 50007), (404, 10003)], refused_sends
    messages = [r.getMessage() for r in caplog.records]
    assert any("disabled: its channel" in m for m in messages) and any("its member left" in m for m in messages)


async def test_timeline_dated_quotes_in_order_with_paging_and_duplicates_collapsed(tmp_path, real_embedder):
    from index.engine import Engine

    folder = tmp_path / "articles"
    folder.mkdir()
    for name in [FIRST_FLIGHT, POSTPONED, *BURST]:
        shutil.copy(SAMPLES / name, folder / name)
    for name, text in ARTICLES.items():
        write(folder / name, text)
    works = ["The harbour bridge closed on 10 March for cable repairs.",
             "Divers inspected the harbour bridge piers and found cracks in two of them.",
             "The council voted eight more weeks of harbour bridge works to mend the piers.",
             "Night shifts began on the harbour bridge to make up for the delays.",
             "The harbour bridge works reached half way, the engineers said.",
             "New steel cables for the harbour bridge arrived from Rotterdam by barge.",
             "The harbour bridge reopened to buses and bicycles, cars still wait.",
             "Cars crossed the harbour bridge again, sixteen weeks after it closed."]  # fmt: skip
    for i, sentence in enumerate(works):
        write(folder / f"bridge-{i}.txt", f"title: Harbour bridge works, week {i * 2 + 1}\ndate: 2025-{3 + i // 3:02d}-{1 + 9 * (i % 3):02d}\n"
              f"source: Example News\nlang: en\n\n{sentence} The works on the harbour bridge go on.\n")  # fmt: skip
    Engine(tmp_path / "index", real_embedder).reindex([folder])
    async with loopback_discord() as server:
        bot = make_bot(server, tmp_path, real_embedder)
        async with running_bot(bot, server):
            h = await server.invoke_command("timeline", {"topic": "Ariane 6"})
            await h.wait_done(timeout=60)
            embed = h.response["embeds"][0]
            text = embed["description"]
            dates = ["**2024-07-10**", "**2025-03-03**", "**2025-03-06**", "**2025-08-13** · **newest**"]
            assert [text.index(d) for d in dates] == sorted(text.index(d) for d in dates)
            assert text.count("« ") == 4 and "*also in*" in text  # five articles, the dispatch once
            assert "Example News" in text and "Le Courrier spatial" in text
            assert embed["title"] == "Timeline: Ariane 6" and "Page 1/1 · 4 articles" in embed["footer"]["text"]
            assert not h.response.get("components")

            p = await server.invoke_command("timeline", {"topic": "harbour bridge works"}, locale="fr")
            await p.wait_done(timeout=60)
            first = p.response["embeds"][0]
            assert first["title"] == "Chronologie : harbour bridge works" and "Page 1/2" in first["footer"]["text"]
            nxt = next(c for row in p.response["components"] for c in row["components"] if c["custom_id"].endswith("next"))
            await view_ready(server, bot, p.response)
            click = await server.click_button(p.response, nxt["custom_id"])
            await click.wait_done(timeout=10)
            second = server.messages[int(p.response["id"])]["embeds"][0]
            assert "Page 2/2" in second["footer"]["text"] and "le plus récent" in second["description"]
            shown = first["description"] + second["description"]
            days = [line.split("**")[1] for line in shown.splitlines() if line.startswith("**20")]
            assert days == sorted(days) and len(days) >= 7

        assert not server.pinging_sends()
        server.assert_clean()


async def test_without_the_members_intent_in_the_portal_the_bot_goes_on(newsroom, real_embedder, caplog):
    from bot.client import serve

    async with loopback_discord(privileged_intents=("message_content",)) as server:
        bot = make_bot(server, newsroom, real_embedder, members_intent=True)
        stop = asyncio.Event()
        task = asyncio.create_task(serve(bot.settings, bot.engine, stop, guild_ready_timeout=0.05))
        await server.wait_for(lambda: len(server.identifies) >= 2 and server.synced_commands(), timeout=30)
        await asyncio.sleep(0.5)
        h = await follow(server, {"topic": "Ariane 6"})
        assert "Following “Ariane 6”" in h.text
        assert server.refused_intents and server.identifies[-1]["intents"] & (1 << 15)  # message content kept
        stop.set()
        await asyncio.wait_for(task, timeout=20)
    assert any("server members intent is not enabled" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
