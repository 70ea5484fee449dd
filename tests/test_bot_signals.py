"""`newsdesk run` in its own process: SIGTERM closes it cleanly and cancels a running reindex safely."""

import asyncio
import os
import signal
import subprocess
import sys

import pytest

from index.search import Engine
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
raise SystemExit(main(["run"]))
"""


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
