"""The commands that keep running or talk to Discord: run, start, chat, sync-commands."""

from __future__ import annotations

from bot import compose
from bot.cli.output import fail, progress_bar, say
from bot.i18n.errors import cli_text
from bot.render.terminal import render_answer, render_summary, render_timeline, terminal_safe
from index.errors import NewsdeskError
from index.stories.timeline import build_timeline


def cmd_chat(args, settings) -> int:
    engine = compose.make_engine(settings)
    if not engine.has_index() or engine.outdated():
        why = "an index written by an older Newsdesk: updating it" if engine.has_index() else "first start"
        say(f"Indexing the articles in {', '.join(terminal_safe(d) for d in settings.articles_dir)} ({why})…")
        progress, close = progress_bar(True)
        try:
            say(render_summary(engine.reindex(settings.articles_dir, progress=progress, who="newsdesk chat")))
        finally:
            close()
    engine.warm_up()
    stats = engine.stats()
    say(f"Newsdesk: {stats.articles} articles, {stats.passages} passages. Ask a question (or `/timeline topic` "
        "for a story in dated quotes); empty line or Ctrl-D to quit.")  # fmt: skip
    while True:
        try:
            question = input("? ")
        except EOFError:
            say()
            return 0
        if not question.strip() or question.strip().lower() in ("quit", "exit", ":q"):
            return 0
        try:
            command, _, topic = question.strip().partition(" ")
            if command == "/timeline":
                say(render_timeline(build_timeline(engine, topic)) + "\n")
            else:
                say(render_answer(engine.ask(question)) + "\n")
        except NewsdeskError as exc:
            say(f"! {terminal_safe(cli_text(exc))}\n")


def _has_token(settings) -> bool:
    return settings.discord_token is not None and bool(settings.discord_token.get_secret_value().strip())


def cmd_run(args, settings) -> int:
    if not _has_token(settings):
        fail("no Discord token: set DISCORD_TOKEN in the environment or in .env "
             "(see .env.example); `newsdesk chat` answers questions in the terminal without one.")  # fmt: skip
        return 1
    from bot.client import run_bot  # discord.py and the cogs load only for the commands that connect

    return run_bot(settings)


def cmd_start(args, settings) -> int:
    if _has_token(settings):
        return cmd_run(args, settings)
    say("No DISCORD_TOKEN configured: starting the terminal chat (set it in .env to run the bot).")
    args.articles = None
    return cmd_chat(args, settings)


def cmd_sync(args, settings) -> int:
    if settings.discord_token is None:
        fail("sync-commands needs DISCORD_TOKEN (see .env.example).")
        return 1
    from bot.client import sync_commands  # discord.py and the cogs load only for the commands that connect

    return sync_commands(settings, global_=args.global_)
