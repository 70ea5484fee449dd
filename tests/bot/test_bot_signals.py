"""`newsdesk run`, `start` and `sync-commands` in their own process, against the loopback Discord: SIGTERM
closes the bot cleanly and cancels a running reindex safely; the commands are published where asked."""

import asyncio
import os
import signal
import subprocess
import sys

import pytest

from index.engine import Engine
from tests.conftest import ARTICLES, ROOT, write
from tests.loopback import LoopbackDiscord

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

BOOT = """
import sys, discord.http, discord.gateway, yarl
port = int(sys.argv[1])
# Test-side redirection of discord.py to the loopback Discord; the production entry point runs unchanged.
discord.http.Route.BASE = f"http://127.0.0.1:{port}/api/v10"
discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(f"ws://127.0.0.1:{port}/")
from bot.cli import main
raise SystemExit(main(sys.argv[2:] or ["run"]))
"""
COMMANDS = {"ask", "search", "sources", "status", "reindex", "add", "timeline", "follow", "unfollow", "following", "feedback"}


async def test_sigterm_cancels_the_reindex_and_keeps_the_index(tmp_path, real_embedder):
    folder = tmp_path / "articles"
    for name, text in ARTICLES.items():
        write(folder / name, text)
    engine = Engine(tmp_path / "index", real_embedder)
    engine.reindex([folder])
    before = engine.dir.current_path()
    for i in range(250):  # enough new text that the reindex is still embedding when the signal arrives
        write(folder / "more" / f"{i}.txt", f"title: Market report {i}\n\n" + f"Stall {i} sold apples and pears. " * 60)
    async with LoopbackDiscord() as server:
        env = {**os.environ, "DISCORD_TOKEN": server.token, "NEWSDESK_GUILD_IDS": str(server.guild.id),
               "NEWSDESK_INDEX_DIR": str(tmp_path / "index"), "NEWSDESK_ARTICLES_DIR": str(folder),
               "NEWSDESK_REINDEX_PROGRESS_EVERY": "0.5", "HF_HUB_OFFLINE": "1"}  # fmt: skip
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", BOOT, str(server.port), cwd=ROOT, env=env,
                                                    stderr=subprocess.PIPE)  # fmt: skip
        try:
            await server.wait_for(lambda: server.synced_commands(), timeout=300)
            await server.wait_for(lambda: server.identifies, timeout=120)
            await server.wait_for(lambda: len(server.heartbeat_acks) >= 2, timeout=30)
            if proc.returncode is not None:
                pytest.fail((await proc.stderr.read()).decode()[-3000:])
            h = await server.invoke_command("reindex", {}, user="admin")
            await server.wait_for(lambda: any("embedding" in (e.get("content") or "") for e in h.edits), timeout=300)
            proc.send_signal(signal.SIGTERM)
            rc = await asyncio.wait_for(proc.wait(), timeout=120)
        except BaseException:
            if proc.returncode is None:
                proc.kill()
            print((await proc.stderr.read()).decode()[-4000:])
            raise
        finally:
            if proc.returncode is None:
                proc.kill()
        log = (await proc.stderr.read()).decode()
    assert rc == 0, log
    assert "cancelling the running reindex" in log and "Traceback" not in log
    assert server.token not in log  # the token is never logged
    after = Engine(tmp_path / "index", real_embedder)
    assert after.dir.current_path() == before and after.stats().articles == 3
    assert not list((tmp_path / "index" / "versions").glob(".tmp-*"))  # the staged version was removed


async def newsdesk_on_loopback(server, tmp_path, *args, env=None, timeout=300):
    """`newsdesk ARGS` in its own process, its discord.py pointed at `server`; returns (rc, stdout, stderr)."""
    env = {**os.environ, "NEWSDESK_GUILD_IDS": str(server.guild.id), "NEWSDESK_INDEX_DIR": str(tmp_path / "index"),
           "HF_HUB_OFFLINE": "1", **(env or {})}  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", BOOT, str(server.port), "--env-file", str(tmp_path / "no.env"), *args, cwd=ROOT,
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    finally:
        if proc.returncode is None:
            proc.kill()
    return proc.returncode, out.decode(), err.decode()


async def test_sync_commands_to_the_guilds_or_globally(tmp_path):
    async with LoopbackDiscord() as server:
        gid = server.guild.id
        token = {"DISCORD_TOKEN": server.token}
        rc, out, err = await newsdesk_on_loopback(server, tmp_path, "sync-commands", env=token)
        assert rc == 0, err
        assert out == f"synced {len(COMMANDS)} commands to guild {gid}\n"
        assert {c["name"] for c in server.synced_commands()} == COMMANDS
        assert server.synced_commands(guild=None) == []  # nothing global without --global
        assert [scope for scope, _, _ in server.command_syncs] == [gid]

        rc, out, err = await newsdesk_on_loopback(server, tmp_path, "sync-commands", "--global", env=token)
        assert rc == 0, err
        assert f"synced {len(COMMANDS)} commands globally" in out
        assert {c["name"] for c in server.synced_commands(guild=None)} == COMMANDS
        assert [scope for scope, _, _ in server.command_syncs] == [gid, None, gid]
        assert server.token not in out + err
        server.assert_clean()

        env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", BOOT, str(server.port), "--env-file", str(tmp_path / "no.env"), "sync-commands",
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 1 and "sync-commands needs DISCORD_TOKEN" in err.decode()
        assert len(server.command_syncs) == 3  # nothing was sent


async def test_start_with_a_token_runs_the_bot(tmp_path, real_embedder):
    folder = tmp_path / "articles"
    for name, text in ARTICLES.items():
        write(folder / name, text)
    Engine(tmp_path / "index", real_embedder).reindex([folder])
    async with LoopbackDiscord() as server:
        env = {**os.environ, "DISCORD_TOKEN": server.token, "NEWSDESK_GUILD_IDS": str(server.guild.id),
               "NEWSDESK_INDEX_DIR": str(tmp_path / "index"), "NEWSDESK_ARTICLES_DIR": str(folder),
               "HF_HUB_OFFLINE": "1"}  # fmt: skip
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", BOOT, str(server.port), "start", cwd=ROOT,
                                                    env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
        try:
            await server.wait_for(lambda: server.synced_commands() and server.identifies, timeout=300)
            h = await server.invoke_command("ask", {"question": "How much will the harbour bridge repairs cost?"})
            await h.wait_done(timeout=60)
            assert "42 million euros" in h.text
            proc.send_signal(signal.SIGTERM)
            rc = await asyncio.wait_for(proc.wait(), timeout=120)
        finally:
            if proc.returncode is None:
                proc.kill()
        out = (await proc.stdout.read()).decode()
    assert rc == 0 and "terminal chat" not in out  # the bot, not the chat
