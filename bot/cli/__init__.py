"""The `newsdesk` command line: run, chat, reindex, ask, search, timeline, stats, follows, feedback, eval, add,
sync-commands.

Exit codes: 0 success, 2 usage error (a bad flag or a bad setting), 1 any other error (one line; the traceback
only with --debug). `ask -` answers every line and exits 1 when any line failed.

Whatever is printed for a person goes through `say` in bot/cli/output.py (control characters escaped: see
bot.render.terminal.terminal_safe); JSON goes through `say_json`. Argparse's own messages and the log lines are
escaped the same way. Errors are worded by bot/i18n/errors.py (`cli_text`: English, with the command to run).

parser.py holds the flags, index_commands.py the commands on the index, session_commands.py the bot and the chat.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys

from pydantic import ValidationError

from bot.cli.index_commands import (
    cmd_add,
    cmd_ask,
    cmd_eval,
    cmd_feedback,
    cmd_follows,
    cmd_reindex,
    cmd_search,
    cmd_stats,
    cmd_timeline,
)
from bot.cli.output import configure_logging, fail, quiet_libraries, say
from bot.cli.parser import build_parser
from bot.cli.session_commands import cmd_chat, cmd_run, cmd_start, cmd_sync
from bot.i18n.errors import cli_text
from bot.render.terminal import terminal_safe
from bot.settings import Settings
from index.errors import NewsdeskError

log = logging.getLogger("newsdesk")

COMMANDS = {
    "run": cmd_run,
    "start": cmd_start,
    "chat": cmd_chat,
    "reindex": cmd_reindex,
    "ask": cmd_ask,
    "search": cmd_search,
    "timeline": cmd_timeline,
    "stats": cmd_stats,
    "follows": cmd_follows,
    "feedback": cmd_feedback,
    "eval": cmd_eval,
    "add": cmd_add,
    "sync-commands": cmd_sync,
}


def main(argv: list[str] | None = None) -> int:
    # The bundled model is loaded from site-packages: never reach for the hub unless a user's model needs it.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    parser = build_parser()
    args = parser.parse_args(argv)
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        # Undecodable input bytes become U+FFFD instead of ending the run; surrogates cannot reach the output
        # (terminal_safe escapes them), this is only the last resort.
        with contextlib.suppress(AttributeError, ValueError, OSError):  # not a text file (a test's capture)
            stream.reconfigure(errors="replace" if stream is sys.stdin else "backslashreplace")
    try:
        settings = Settings(_env_file=args.env_file)
    except ValidationError as exc:
        say(_bad_setting(exc), err=True)
        return 2
    configure_logging(settings.log_level, args.debug)
    quiet_libraries()
    if getattr(args, "index", None):
        settings.index_dir = args.index
    if getattr(args, "articles", None):
        settings.articles_dir = args.articles
    try:
        return COMMANDS[args.command](args, settings)
    except NewsdeskError as exc:
        if args.debug:
            log.exception("failed")
        fail(cli_text(exc))
        return 1
    except KeyboardInterrupt:
        fail("interrupted")
        return 130
    except Exception as exc:
        if args.debug:
            raise
        fail(f"{exc.__class__.__name__}: {exc} (run with --debug for details)")
        return 1


def _env_name(field: str) -> str:
    return "DISCORD_TOKEN" if field.lower() in ("discord_token", "newsdesk_discord_token") else f"NEWSDESK_{field.upper()}"


def _bad_setting(exc) -> str:
    """One line for a settings ValidationError: the variable, what is wrong, the value given (never the token)."""
    errors = exc.errors()
    first = errors[0]
    loc = list(first.get("loc") or ())
    name = _env_name(str(loc.pop(0))) if loc else "settings"
    item = f" (item {loc[0] + 1})" if loc and isinstance(loc[0], int) else ""
    given = first.get("input")
    got = ""
    if name != "DISCORD_TOKEN" and isinstance(given, str | int | float):
        shown = repr(given)
        got = f" (got {shown[:60] + '…' if len(shown) > 60 else shown})"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    msg = first["msg"].removeprefix("Value error, ")
    return f"newsdesk: bad setting {name}{item}: {terminal_safe(msg)}{terminal_safe(got)}{more}"
