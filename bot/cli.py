"""The `newsdesk` command line: run, chat, reindex, ask, search, timeline, stats, follows, eval, add, sync-commands.

Exit codes: 0 success, 2 usage error (a bad flag or a bad setting), 1 any other error (one line; the traceback
only with --debug). `ask -` answers every line and exits 1 when any line failed.

Whatever is printed for a person goes through `_say` (control characters escaped: see bot.render.terminal.terminal_safe);
JSON goes through `_say_json`. Argparse's own messages and the log lines are escaped the same way.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from pathlib import Path

from bot.render.terminal import json_text, terminal_safe

# The bundled model is loaded from site-packages: never reach for the hub unless a user's model needs it.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

log = logging.getLogger("newsdesk")


def _say(text: object = "", *, err: bool = False) -> None:
    """Print `text` for a person, on stdout (or stderr): the one place the CLI prints human-readable output.

    Control characters are escaped (newlines and tabs kept: the renderers have already escaped those inside
    single-line fields), so nothing from an article, a feed or a file name can drive the terminal.
    """
    print(terminal_safe(text, multiline=True), file=sys.stderr if err else sys.stdout, flush=True)


def _say_json(obj: object) -> None:
    """Print `obj` as one JSON line (terminal-safe: see bot.render.terminal.json_text)."""
    print(json_text(obj), flush=True)


def _fail(message: object) -> None:
    """A one-line error on stderr: newlines inside the message are escaped too."""
    _say(f"newsdesk: {terminal_safe(message)}", err=True)


class _SafeFormatter(logging.Formatter):
    """Log lines with control characters escaped: one record, one line (a traceback keeps its own lines)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return terminal_safe(super().formatMessage(record))

    def formatException(self, ei) -> str:
        return terminal_safe(super().formatException(ei), multiline=True)

    def formatStack(self, stack_info: str) -> str:
        return terminal_safe(super().formatStack(stack_info), multiline=True)


class _Parser(argparse.ArgumentParser):
    """argparse with its messages escaped: a usage error quotes the bad value, which may hold control characters."""

    def _print_message(self, message: str, file=None) -> None:
        if message:
            super()._print_message(terminal_safe(message, multiline=True), file)


def _configure_logging(level: str, debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_SafeFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    logging.basicConfig(
        level=logging.DEBUG if debug else getattr(logging, level.upper(), logging.INFO), handlers=[handler]
    )
    for noisy in ("sentence_transformers", "transformers", "faiss", "httpx", "bm25s", "trafilatura", "htmldate",
                  "urllib3", "filelock", "huggingface_hub"):  # fmt: skip
        logging.getLogger(noisy).setLevel(logging.WARNING if not debug else logging.INFO)


def _quiet_libraries() -> None:
    try:
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
    except Exception:  # transformers is optional for a custom backend; silence is best-effort
        pass


def _date_arg(value: str) -> str:
    from index.text.dates import parse_date

    iso = parse_date(value)
    if iso is None:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (use 2025-05 or 2025-05-12)")
    return iso


def _int_range(low: int, high: int | None = None):
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


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="newsdesk", description="Answer questions about news articles with quotes.")
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
    a.add_argument("-k", type=_int_range(*ASK_K), help="number of quotes, 1 to 10 (default NEWSDESK_K)")
    a.add_argument("--since", type=_date_arg)
    a.add_argument("--until", type=_date_arg)
    a.add_argument("--source", help="only articles whose source, link or title contains this")
    a.add_argument("--lang", help="only articles in this language (fr, en, ...)")
    a.add_argument("--json", action="store_true")

    s = with_index(sub.add_parser("search", help="list matching passages (no quote selection)"))
    s.add_argument("query")
    s.add_argument("-k", type=_int_range(*SEARCH_K), default=5, help="number of passages, 1 to 100 (default 5)")
    s.add_argument("--json", action="store_true")

    tl = with_index(sub.add_parser("timeline", help="a story in dated quotes, oldest first"))
    tl.add_argument("topic")
    tl.add_argument("--since", type=_date_arg)
    tl.add_argument("--until", type=_date_arg)
    tl.add_argument("--source", help="only articles whose source, link or title contains this")
    tl.add_argument("--json", action="store_true")

    st = with_index(sub.add_parser("stats", help="what the index holds"))
    st.add_argument("--json", action="store_true")

    fo = with_index(sub.add_parser("follows", help="the topics members follow on Discord (/follow)"))
    fo.add_argument("--json", action="store_true")

    e = sub.add_parser("eval", help="measure retrieval, quotes and abstention on a QA set")
    e.add_argument("--passages", type=Path, required=True)
    e.add_argument("--questions", type=Path, required=True)
    e.add_argument("--limit", type=_int_range(*EVAL_LIMIT), help="only the first N questions (N >= 1)")
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


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        # Undecodable input bytes become U+FFFD instead of ending the run; surrogates cannot reach the output
        # (terminal_safe escapes them), this is only the last resort.
        with contextlib.suppress(AttributeError, ValueError, OSError):  # not a text file (a test's capture)
            stream.reconfigure(errors="replace" if stream is sys.stdin else "backslashreplace")
    from pydantic import ValidationError

    from index.errors import NewsdeskError

    try:
        from bot.settings import Settings

        settings = Settings(_env_file=args.env_file)
    except ValidationError as exc:
        _say(_bad_setting(exc), err=True)
        return 2
    _configure_logging(settings.log_level, args.debug)
    _quiet_libraries()
    if getattr(args, "index", None):
        settings.index_dir = args.index
    if getattr(args, "articles", None):
        settings.articles_dir = args.articles
    try:
        return COMMANDS[args.command](args, settings)
    except NewsdeskError as exc:
        if args.debug:
            log.exception("failed")
        _fail(exc)
        return 1
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except Exception as exc:
        if args.debug:
            raise
        _fail(f"{exc.__class__.__name__}: {exc} (run with --debug for details)")
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


def _progress_bar(enabled: bool):
    """A tqdm progress callback on a terminal; nothing when output is not a terminal."""
    if not enabled or not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="file" if stage == "reading" else "article",
                                     leave=False)  # fmt: skip
        bar.total = total
        bar.n = done
        bar.refresh()

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return progress, close


def _pull_feeds(feeds: list[str], articles_dir: Path, allow_hosts: list[str]) -> list[dict]:
    from index.sources.feeds import FetchPolicy, refresh_feeds

    policy = FetchPolicy(allow_hosts=tuple(allow_hosts))
    return [s.to_dict() for s in refresh_feeds(feeds, articles_dir, policy)]


def cmd_reindex(args, settings) -> int:
    from dataclasses import replace

    from bot.render.terminal import render_summary

    engine = settings.make_engine()
    sources: list[dict] = []
    feeds = list(dict.fromkeys([*settings.feeds, *args.feed]))
    if feeds:
        sources = _pull_feeds(feeds, settings.articles_dir[0], [*settings.allow_hosts, *args.allow_host])
    missing = [str(d) for d in settings.articles_dir if not d.exists()]
    if missing:
        from index.errors import NewsdeskError

        raise NewsdeskError(f"articles folder not found: {', '.join(missing)}")
    progress, close = _progress_bar(not args.json)
    try:
        summary = engine.reindex(settings.articles_dir, force=args.force, progress=progress, who="newsdesk reindex")
    finally:
        close()
    summary = replace(summary, sources=tuple(sources))
    _say_json(summary.to_dict()) if args.json else _say(render_summary(summary))
    return 0


def cmd_add(args, settings) -> int:
    from bot.render.terminal import render_summary
    from index.sources.feeds import FetchPolicy, fetch_page

    articles_dir = settings.articles_dir[0]
    path, status = fetch_page(args.url, articles_dir, FetchPolicy(allow_hosts=tuple([*settings.allow_hosts,
                                                                                      *args.allow_host])))  # fmt: skip
    if path is None:
        _say_json(status.to_dict()) if args.json else _fail(f"{status.url}: {status.error}")
        return 1
    engine = settings.make_engine()
    summary = engine.reindex(settings.articles_dir, who="newsdesk add")
    from dataclasses import replace

    summary = replace(summary, sources=(status.to_dict(),))
    _say_json(summary.to_dict()) if args.json else _say(f"saved {terminal_safe(path)}\n" + render_summary(summary))
    return 0


def _filters(args):
    from index.records import Filters

    return Filters(source=args.source, since=args.since, until=args.until, lang=args.lang)


# Errors about the index or the embedder, not the question: every following line would fail the same way, so
# they stop an `ask -` batch. Anything else (a question too long, an unexpected error) fails only its own line.
_BATCH_STOPPERS = ("IndexMissing", "IndexCorrupt", "IndexOutdated", "ModelMismatch", "EmbedderUnavailable")


def cmd_ask(args, settings) -> int:
    """One question, or with `-` one a line from stdin: each line gets its answer or its error, and the batch
    goes on (exit 1 at the end when any line failed); errors about the index itself still stop it."""
    from bot.render.terminal import render_answer
    from index import errors
    from index.errors import EmptyQuestion

    stoppers = tuple(c for c in (getattr(errors, name, None) for name in _BATCH_STOPPERS) if isinstance(c, type))
    engine = settings.make_engine()
    filters = _filters(args)
    if args.question != "-":
        answer = engine.ask(args.question, k=args.k, filters=filters)
        _say_json(answer.to_dict()) if args.json else _say(render_answer(answer) + "\n")
        return 0
    failed = 0
    for number, line in enumerate(sys.stdin, start=1):
        q = line.strip()
        if not q:
            continue
        try:
            answer = engine.ask(q, k=args.k, filters=filters)
        except EmptyQuestion:
            continue
        except Exception as exc:
            if isinstance(exc, stoppers):
                raise
            failed += 1
            if args.debug:
                log.exception("line %d failed", number)
            if args.json:
                _say_json({"question": q, "error": {"type": type(exc).__name__, "message": str(exc)}})
            else:
                _fail(f"line {number}: {exc}")
            continue
        _say_json(answer.to_dict()) if args.json else _say(render_answer(answer) + "\n")
    return 1 if failed else 0


def cmd_search(args, settings) -> int:
    from bot.render.terminal import render_hits

    hits = settings.make_engine().search(args.query, k=args.k)
    if args.json:
        _say_json([{"passage_id": h.passage.id, "text": h.passage.text, "score": round(h.score, 4),
                    "article": h.article.to_dict()} for h in hits])  # fmt: skip
    else:
        _say(render_hits(hits))
    return 0


def cmd_timeline(args, settings) -> int:
    from bot.render.terminal import render_timeline
    from index.records import Filters
    from index.stories.timeline import build_timeline

    timeline = build_timeline(settings.make_engine(), args.topic,
                              Filters(source=args.source, since=args.since, until=args.until))  # fmt: skip
    _say_json(timeline.to_dict()) if args.json else _say(render_timeline(timeline) + "\n")
    return 0


def cmd_follows(args, settings) -> int:
    """The follows store beside the index, read only: nothing is created when there is none."""
    from bot.render.terminal import render_follows
    from index.stories.follows import FollowStore, follows_path

    path = follows_path(settings.index_dir)
    follows, pending = [], {}
    if path.exists():
        store = FollowStore(path)
        try:
            follows, pending = store.all(), store.pending_count()
        finally:
            store.close()
    if args.json:
        _say_json([dict(f.to_dict(), pending=pending.get(f.id, 0)) for f in follows])
    else:
        _say(render_follows(follows, pending))
    return 0


def cmd_stats(args, settings) -> int:
    from bot.render.terminal import render_stats

    stats = settings.make_engine().stats()
    _say_json(stats.to_dict()) if args.json else _say(render_stats(stats))
    return 0


def cmd_chat(args, settings) -> int:
    from bot.render.terminal import render_answer, render_summary, render_timeline
    from index.errors import NewsdeskError
    from index.stories.timeline import build_timeline

    engine = settings.make_engine()
    if not engine.has_index() or engine.outdated():
        why = "an index written by an older Newsdesk: updating it" if engine.has_index() else "first start"
        _say(f"Indexing the articles in {', '.join(terminal_safe(d) for d in settings.articles_dir)} ({why})…")
        progress, close = _progress_bar(True)
        try:
            _say(render_summary(engine.reindex(settings.articles_dir, progress=progress, who="newsdesk chat")))
        finally:
            close()
    engine.warm_up()
    stats = engine.stats()
    _say(f"Newsdesk: {stats.articles} articles, {stats.passages} passages. Ask a question (or `/timeline topic` "
         "for a story in dated quotes); empty line or Ctrl-D to quit.")  # fmt: skip
    while True:
        try:
            question = input("? ")
        except EOFError:
            _say()
            return 0
        if not question.strip() or question.strip().lower() in ("quit", "exit", ":q"):
            return 0
        try:
            command, _, topic = question.strip().partition(" ")
            if command == "/timeline":
                _say(render_timeline(build_timeline(engine, topic)) + "\n")
            else:
                _say(render_answer(engine.ask(question)) + "\n")
        except NewsdeskError as exc:
            _say(f"! {terminal_safe(exc)}\n")


def cmd_run(args, settings) -> int:
    if not _has_token(settings):
        _fail("no Discord token: set DISCORD_TOKEN in the environment or in .env "
              "(see .env.example); `newsdesk chat` answers questions in the terminal without one.")  # fmt: skip
        return 1
    from bot.client import run_bot

    return run_bot(settings)


def _has_token(settings) -> bool:
    return settings.discord_token is not None and bool(settings.discord_token.get_secret_value().strip())


def cmd_start(args, settings) -> int:
    if _has_token(settings):
        return cmd_run(args, settings)
    _say("No DISCORD_TOKEN configured: starting the terminal chat (set it in .env to run the bot).")
    args.articles = None
    return cmd_chat(args, settings)


def cmd_sync(args, settings) -> int:
    from bot.client import sync_commands

    if settings.discord_token is None:
        _fail("sync-commands needs DISCORD_TOKEN (see .env.example).")
        return 1
    return sync_commands(settings, global_=args.global_)


def cmd_eval(args, settings) -> int:
    from index.evaluation import format_report, run_eval

    report = run_eval(
        args.passages, args.questions, settings.make_engine(), limit=args.limit, baselines=args.baselines,
        progress=not args.json,
    )
    if args.out:
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    _say_json(report) if args.json else _say(format_report(report))
    return 0


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
    "eval": cmd_eval,
    "add": cmd_add,
    "sync-commands": cmd_sync,
}


if __name__ == "__main__":
    raise SystemExit(main())
