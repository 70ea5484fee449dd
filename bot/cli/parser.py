"""The `newsdesk` argument parser: every command, flag and numeric range (README, "Command line")."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.render.terminal import terminal_safe
from index.text.dates import parse_date


class Parser(argparse.ArgumentParser):
    """argparse with its messages escaped: a usage error quotes the bad value, which may hold control characters."""

    def _print_message(self, message: str, file=None) -> None:
        if message:
            super()._print_message(terminal_safe(message, multiline=True), file)


def date_arg(value: str) -> str:
    iso = parse_date(value)
    if iso is None:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (use 2025-05 or 2025-05-12)")
    return iso


def int_range(low: int, high: int | None = None):
    """An argparse type: a whole number from `low` to `high` (no upper bound when None), else a usage error."""

    def parse(value: str) -> int:
        try:
            number = int(value.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if number < low or (high is not None and number > high):
            span = f"from {low} to {high}" if high is not None else f"{low} or more"
            raise argparse.ArgumentTypeError(f"{number} is out of range: use {span}")
        return number

    parse.__name__ = f"int_{low}_{high}"
    parse.low, parse.high = low, high  # what the tests and the README check
    return parse


# The ranges of the numeric flags (README, "Command line"). ask -k is NEWSDESK_K's range.
ASK_K = (1, 10)
SEARCH_K = (1, 100)
EVAL_LIMIT = (1, None)
FEEDBACK_DAYS = (1, 36500)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="newsdesk", description="Answer questions about news articles with quotes.")
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    p.add_argument("--env-file", default=".env", help="settings file (default: .env)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_index(sp):
        sp.add_argument("--index", type=Path, help="index folder (NEWSDESK_INDEX_DIR)")
        return sp

    sub.add_parser("run", help="run the Discord bot (needs DISCORD_TOKEN); without one, says how to chat instead")
    sub.add_parser("start", help="what `make run` does: the bot when DISCORD_TOKEN is set, else the terminal chat")
    c = with_index(sub.add_parser("chat", help="ask questions in the terminal; indexes the articles on first start"))
    c.add_argument("--articles", type=Path, action="append", help="articles folder (repeatable)")

    r = with_index(sub.add_parser("reindex", help="bring the index in line with the articles folders"))
    r.add_argument("--articles", type=Path, action="append", help="articles folder (repeatable)")
    r.add_argument("--feed", action="append", default=[], help="also pull this RSS/Atom feed (repeatable)")
    r.add_argument("--allow-host", action="append", default=[], help="allow fetching from this private host")
    r.add_argument("--force", action="store_true", help="rebuild the whole index from the articles (vectors reused where they still read): repairs a damaged index, moves it to the configured or default model, allows large removals")
    r.add_argument("--json", action="store_true", help="print the summary as JSON")

    a = with_index(sub.add_parser("ask", help="answer a question with quotes ('-' reads one question a line)"))
    a.add_argument("question")
    a.add_argument("-k", type=int_range(*ASK_K), help="number of quotes, 1 to 10 (default NEWSDESK_K)")
    a.add_argument("--since", type=date_arg)
    a.add_argument("--until", type=date_arg)
    a.add_argument("--source", help="only articles whose source, link or title contains this")
    a.add_argument("--lang", help="only articles in this language (fr, en, ...)")
    a.add_argument("--json", action="store_true")

    s = with_index(sub.add_parser("search", help="list matching passages (no quote selection)"))
    s.add_argument("query")
    s.add_argument("-k", type=int_range(*SEARCH_K), default=5, help="number of passages, 1 to 100 (default 5)")
    s.add_argument("--json", action="store_true")

    tl = with_index(sub.add_parser("timeline", help="a story in dated quotes, oldest first"))
    tl.add_argument("topic")
    tl.add_argument("--since", type=date_arg)
    tl.add_argument("--until", type=date_arg)
    tl.add_argument("--source", help="only articles whose source, link or title contains this")
    tl.add_argument("--json", action="store_true")

    st = with_index(sub.add_parser("stats", help="what the index holds"))
    st.add_argument("--json", action="store_true")

    fo = with_index(sub.add_parser("follows", help="the topics members follow on Discord (/follow)"))
    fo.add_argument("--json", action="store_true")

    fb = with_index(sub.add_parser("feedback", help="readers' votes on answers (/feedback): counts, most flagged"))
    fb.add_argument("--since", type=int_range(*FEEDBACK_DAYS), metavar="D", help="only the votes of the last D days")
    fb.add_argument("--json", action="store_true")
    fb.add_argument("--export", type=Path, metavar="FILE.jsonl",
                    help="write the votes as a QA set for `newsdesk eval` (its passages: FILE.passages.jsonl)")  # fmt: skip
    fb.add_argument("--reset", action="store_true",
                    help="stop the votes cast so far from changing answers (they are kept for the counts and --export)")  # fmt: skip

    e = sub.add_parser("eval", help="measure retrieval, quotes and abstention on a QA set")
    e.add_argument("--passages", type=Path, required=True)
    e.add_argument("--questions", type=Path, required=True)
    e.add_argument("--limit", type=int_range(*EVAL_LIMIT), help="only the first N questions (N >= 1)")
    e.add_argument("--baselines", action="store_true", help="also measure BM25 alone, dense alone and RRF")
    e.add_argument("--json", action="store_true")
    e.add_argument("--out", type=Path, help="write the JSON report here")

    ad = with_index(sub.add_parser("add", help="fetch one article page, keep it as a file, index it"))
    ad.add_argument("url")
    ad.add_argument("--articles", type=Path, action="append", help="articles folder; the page is kept in the first")
    ad.add_argument("--allow-host", action="append", default=[])
    ad.add_argument("--json", action="store_true")

    sc = sub.add_parser("sync-commands", help="publish the slash commands to the configured guilds, or globally")
    sc.add_argument("--global", dest="global_", action="store_true", help="sync globally (takes up to an hour)")
    return p
