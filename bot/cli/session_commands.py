"""The commands that keep running or talk to Discord: run, start, chat, sync-commands."""

from __future__ import annotations

from collections import deque

from bot import compose
from bot.cli.output import fail, progress_bar, say
from bot.i18n.errors import cli_text
from bot.render.terminal import render_answer, render_summary, render_timeline, terminal_safe
from index.answer.conversation import Turn
from index.errors import NewsdeskError
from index.stories.timeline import build_timeline

# The turns a chat's follow-up questions are answered with: older ones lend little once decayed
# (index/tuning.py FOLLOWUP_DECAY), and a conversation rarely holds its subject longer.
CHAT_TURNS = 5


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
        "for a story in dated quotes); a follow-up question is answered with the questions before it, a blank "
        "line or `/new` starts over; Ctrl-D or `quit` to leave.")  # fmt: skip
    turns: deque[Turn] = deque(maxlen=CHAT_TURNS)
    while True:
        try:
            question = input("? ")
        except EOFError:
            say()
            return 0
        command, _, topic = question.strip().partition(" ")
        if question.strip().lower() in ("quit", "exit", ":q"):
            return 0
        if question.strip() in ("", "/new"):
            if turns:
                say("(new conversation)\n")
            turns.clear()
            continue
        try:
            if command == "/timeline":
                say(render_timeline(build_timeline(engine, topic)) + "\n")
            else:
                answer = engine.ask(question, context=tuple(turns))
                turns.append(Turn.of(answer))
                say(render_answer(answer) + "\n")
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
