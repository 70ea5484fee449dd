"""The `newsdesk` command line: run, chat, reindex, ask, search, stats, eval, add, sync-commands.

Exit codes: 0 success, 2 usage error, 1 any other error (one line; the traceback only with --debug).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

# The bundled model is loaded from site-packages: never reach for the hub unless a user's model needs it.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

log = logging.getLogger("newsdesk")


def _configure_logging(level: str, debug: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if debug else getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
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
    from index.dates import parse_date

    iso = parse_date(value)
    if iso is None:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (use 2025-05 or 2025-05-12)")
    return iso


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="newsdesk", description="Answer questions about news articles with quotes.")
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
    r.add_argument("--force", action="store_true", help="allow large removals; rebuild for a new model")
    r.add_argument("--json", action="store_true", help="print the summary as JSON")

    a = with_index(sub.add_parser("ask", help="answer a question with quotes ('-' reads one question a line)"))
    a.add_argument("question")
    a.add_argument("-k", type=int, help="number of quotes")
    a.add_argument("--since", type=_date_arg)
    a.add_argument("--until", type=_date_arg)
    a.add_argument("--source", help="only articles whose source, link or title contains this")
    a.add_argument("--lang", help="only articles in this language (fr, en, ...)")
    a.add_argument("--json", action="store_true")

    s = with_index(sub.add_parser("search", help="list matching passages (no quote selection)"))
    s.add_argument("query")
    s.add_argument("-k", type=int, default=5)
    s.add_argument("--json", action="store_true")

    st = with_index(sub.add_parser("stats", help="what the index holds"))
    st.add_argument("--json", action="store_true")

    e = sub.add_parser("eval", help="measure retrieval, quotes and abstention on a QA set")
    e.add_argument("--passages", type=Path, required=True)
    e.add_argument("--questions", type=Path, required=True)
    e.add_argument("--limit", type=int, help="only the first N questions")
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
    from pydantic import ValidationError

    from index.errors import NewsdeskError

    try:
        from .settings import Settings

        settings = Settings(_env_file=args.env_file)
    except ValidationError as exc:
        first = exc.errors()[0]
        print(f"newsdesk: bad setting {'.'.join(map(str, first['loc'])).upper()}: {first['msg']}", file=sys.stderr)
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
        print(f"newsdesk: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("newsdesk: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(f"newsdesk: {exc.__class__.__name__}: {exc} (run with --debug for details)", file=sys.stderr)
        return 1


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
    from index.feeds import FetchPolicy, refresh_feeds

    policy = FetchPolicy(allow_hosts=tuple(allow_hosts))
    return [s.to_dict() for s in refresh_feeds(feeds, articles_dir, policy)]


def cmd_reindex(args, settings) -> int:
    from dataclasses import replace

    from .text import render_summary

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
    print(json.dumps(summary.to_dict(), ensure_ascii=False) if args.json else render_summary(summary))
    return 0


def cmd_add(args, settings) -> int:
    from index.feeds import FetchPolicy, fetch_page

    from .text import render_summary

    articles_dir = settings.articles_dir[0]
    path, status = fetch_page(args.url, articles_dir, FetchPolicy(allow_hosts=tuple([*settings.allow_hosts,
                                                                                      *args.allow_host])))  # fmt: skip
    if path is None:
        print(json.dumps(status.to_dict()) if args.json else f"newsdesk: {status.url}: {status.error}",
              file=sys.stdout if args.json else sys.stderr)  # fmt: skip
        return 1
    engine = settings.make_engine()
    summary = engine.reindex(settings.articles_dir, who="newsdesk add")
    from dataclasses import replace

    summary = replace(summary, sources=(status.to_dict(),))
    print(json.dumps(summary.to_dict(), ensure_ascii=False) if args.json else f"saved {path}\n" + render_summary(summary))
    return 0


def _filters(args):
    from index.models import Filters

    return Filters(source=args.source, since=args.since, until=args.until, lang=args.lang)


def cmd_ask(args, settings) -> int:
    from .text import render_answer

    engine = settings.make_engine()
    questions = (line.strip() for line in sys.stdin) if args.question == "-" else iter([args.question])
    filters = _filters(args)
    from index.errors import EmptyQuestion

    for q in questions:
        if args.question == "-" and not q:
            continue
        try:
            answer = engine.ask(q, k=args.k, filters=filters)
        except EmptyQuestion:
            if args.question != "-":
                raise
            continue
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
        else:
            print(render_answer(answer) + "\n", flush=True)
    return 0


def cmd_search(args, settings) -> int:
    from .text import render_hits

    hits = settings.make_engine().search(args.query, k=args.k)
    if args.json:
        print(json.dumps([{
            "passage_id": h.passage.id, "text": h.passage.text, "score": round(h.score, 4),
            "article": h.article.to_dict()} for h in hits], ensure_ascii=False))  # fmt: skip
    else:
        print(render_hits(hits))
    return 0


def cmd_stats(args, settings) -> int:
    from .text import render_stats

    stats = settings.make_engine().stats()
    print(json.dumps(stats.to_dict(), ensure_ascii=False) if args.json else render_stats(stats))
    return 0


def cmd_chat(args, settings) -> int:
    from index.errors import NewsdeskError

    from .text import render_answer, render_summary

    engine = settings.make_engine()
    if not engine.has_index() or engine.outdated():
        why = "an index written by an older Newsdesk: updating it" if engine.has_index() else "first start"
        print(f"Indexing the articles in {', '.join(map(str, settings.articles_dir))} ({why})…", flush=True)
        progress, close = _progress_bar(True)
        try:
            print(render_summary(engine.reindex(settings.articles_dir, progress=progress, who="newsdesk chat")))
        finally:
            close()
    engine.warm_up()
    stats = engine.stats()
    print(f"Newsdesk: {stats.articles} articles, {stats.passages} passages. Ask a question; empty line or "
          "Ctrl-D to quit.", flush=True)  # fmt: skip
    while True:
        try:
            question = input("? ")
        except EOFError:
            print()
            return 0
        if not question.strip() or question.strip().lower() in ("quit", "exit", ":q"):
            return 0
        try:
            print(render_answer(engine.ask(question)) + "\n", flush=True)
        except NewsdeskError as exc:
            print(f"! {exc}\n", flush=True)


def cmd_run(args, settings) -> int:
    if not _has_token(settings):
        print("newsdesk: no Discord token: set DISCORD_TOKEN in the environment or in .env "
              "(see .env.example); `newsdesk chat` answers questions in the terminal without one.",
              file=sys.stderr)  # fmt: skip
        return 1
    from .client import run_bot

    return run_bot(settings)


def _has_token(settings) -> bool:
    return settings.discord_token is not None and bool(settings.discord_token.get_secret_value().strip())


def cmd_start(args, settings) -> int:
    if _has_token(settings):
        return cmd_run(args, settings)
    print("No DISCORD_TOKEN configured: starting the terminal chat (set it in .env to run the bot).", flush=True)
    args.articles = None
    return cmd_chat(args, settings)


def cmd_sync(args, settings) -> int:
    from .client import sync_commands

    if settings.discord_token is None:
        print("newsdesk: sync-commands needs DISCORD_TOKEN (see .env.example).", file=sys.stderr)
        return 1
    return sync_commands(settings, global_=args.global_)


def cmd_eval(args, settings) -> int:
    from index.evaluation import format_report, run_eval

    report = run_eval(
        args.passages, args.questions, settings, limit=args.limit, baselines=args.baselines, progress=not args.json
    )
    if args.out:
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(report, ensure_ascii=False) if args.json else format_report(report))
    return 0


COMMANDS = {
    "run": cmd_run,
    "start": cmd_start,
    "chat": cmd_chat,
    "reindex": cmd_reindex,
    "ask": cmd_ask,
    "search": cmd_search,
    "stats": cmd_stats,
    "eval": cmd_eval,
    "add": cmd_add,
    "sync-commands": cmd_sync,
}


if __name__ == "__main__":
    raise SystemExit(main())
