"""The commands that work on the index: reindex, add, ask, search, timeline, stats, follows, feedback, eval."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import replace
from pathlib import Path

from bot import compose
from bot.cli.output import fail, progress_bar, say, say_json
from bot.i18n.errors import cli_text
from bot.render.terminal import (
    render_answer,
    render_feedback,
    render_follows,
    render_hits,
    render_stats,
    render_summary,
    render_timeline,
    terminal_safe,
)
from index.errors import (
    EmbedderUnavailable,
    EmptyQuestion,
    IndexCorrupt,
    IndexMissing,
    IndexOutdated,
    ModelMismatch,
    NewsdeskError,
)
from index.evaluation import format_report, run_eval
from index.feedback import FeedbackStore, feedback_path
from index.feedback.export import passages_file
from index.records import Filters
from index.sources.feeds import FetchPolicy, fetch_page, refresh_feeds
from index.stories.follows import FollowStore, follows_path
from index.stories.timeline import build_timeline

log = logging.getLogger("newsdesk")

# Errors about the index or the embedder, not the question: every following line would fail the same way, so
# they stop an `ask -` batch. Anything else (a question too long, an unexpected error) fails only its own line.
BATCH_STOPPERS = (IndexMissing, IndexCorrupt, IndexOutdated, ModelMismatch, EmbedderUnavailable)


def _pull_feeds(feeds: list[str], articles_dir: Path, allow_hosts: list[str]) -> list[dict]:
    policy = FetchPolicy(allow_hosts=tuple(allow_hosts))
    return [s.to_dict() for s in refresh_feeds(feeds, articles_dir, policy)]


def cmd_reindex(args, settings) -> int:
    engine = compose.make_engine(settings)
    sources: list[dict] = []
    feeds = list(dict.fromkeys([*settings.feeds, *args.feed]))
    if feeds:
        sources = _pull_feeds(feeds, settings.articles_dir[0], [*settings.allow_hosts, *args.allow_host])
    missing = [str(d) for d in settings.articles_dir if not d.exists()]
    if missing:
        fail(f"articles folder not found: {', '.join(missing)}")
        return 1
    progress, close = progress_bar(not args.json)
    try:
        summary = engine.reindex(settings.articles_dir, force=args.force, progress=progress, who="newsdesk reindex")
    finally:
        close()
    summary = replace(summary, sources=tuple(sources))
    say_json(summary.to_dict()) if args.json else say(render_summary(summary))
    return 0


def cmd_add(args, settings) -> int:
    articles_dir = settings.articles_dir[0]
    path, status = fetch_page(args.url, articles_dir, FetchPolicy(allow_hosts=tuple([*settings.allow_hosts,
                                                                                     *args.allow_host])))  # fmt: skip
    if path is None:
        say_json(status.to_dict()) if args.json else fail(f"{status.url}: {status.error}")
        return 1
    summary = compose.make_engine(settings).reindex(settings.articles_dir, who="newsdesk add")
    summary = replace(summary, sources=(status.to_dict(),))
    say_json(summary.to_dict()) if args.json else say(f"saved {terminal_safe(path)}\n" + render_summary(summary))
    return 0


def _filters(args) -> Filters:
    return Filters(source=args.source, since=args.since, until=args.until, lang=args.lang)


def _line_failed(number: int, question: str, exc: Exception, args) -> None:
    """Tell which line of an `ask -` batch failed and why (a JSON line with --json)."""
    message = cli_text(exc) if isinstance(exc, NewsdeskError) else str(exc)
    if args.debug:
        log.exception("line %d failed", number)
    if args.json:
        say_json({"question": question, "error": {"type": type(exc).__name__, "message": message}})
    else:
        fail(f"line {number}: {message}")


def cmd_ask(args, settings) -> int:
    """One question, or with `-` one a line from stdin: each line gets its answer or its error, and the batch
    goes on (exit 1 at the end when any line failed); errors about the index itself still stop it."""
    engine = compose.make_engine(settings)
    filters = _filters(args)
    if args.question != "-":
        answer = engine.ask(args.question, k=args.k, filters=filters)
        say_json(answer.to_dict()) if args.json else say(render_answer(answer) + "\n")
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
        except BATCH_STOPPERS:
            raise
        except Exception as exc:
            failed += 1
            _line_failed(number, q, exc, args)
            continue
        say_json(answer.to_dict()) if args.json else say(render_answer(answer) + "\n")
    return 1 if failed else 0


def cmd_search(args, settings) -> int:
    hits = compose.make_engine(settings).search(args.query, k=args.k)
    if args.json:
        say_json([{"passage_id": h.passage.id, "text": h.passage.text, "score": round(h.score, 4),
                   "article": h.article.to_dict()} for h in hits])  # fmt: skip
    else:
        say(render_hits(hits))
    return 0


def cmd_timeline(args, settings) -> int:
    timeline = build_timeline(compose.make_engine(settings), args.topic,
                              Filters(source=args.source, since=args.since, until=args.until))  # fmt: skip
    say_json(timeline.to_dict()) if args.json else say(render_timeline(timeline) + "\n")
    return 0


def cmd_follows(args, settings) -> int:
    """The follows store beside the index, read only: nothing is created when there is none."""
    path = follows_path(settings.index_dir)
    follows, pending = [], {}
    if path.exists():
        store = FollowStore(path)
        try:
            follows, pending = store.all(), store.pending_count()
        finally:
            store.close()
    if args.json:
        say_json([dict(f.to_dict(), pending=pending.get(f.id, 0)) for f in follows])
    else:
        say(render_follows(follows, pending))
    return 0


def cmd_feedback(args, settings) -> int:
    """The votes beside the index: the summary, or an export for `newsdesk eval`, or a reset of their effects.

    Read only without --export or --reset: nothing is created when there is no store.
    """
    path = feedback_path(settings.index_dir)
    if not path.exists() and not args.reset:
        if args.export:
            fail(f"no feedback yet ({terminal_safe(path)} does not exist): nothing to export")
            return 1
        say_json(_no_feedback(args.since)) if args.json else say(render_feedback(None))
        return 0
    store = FeedbackStore(path)
    try:
        out: dict = {}
        if args.export:
            out["exported"] = {"questions": store.export(args.export, args.since), "file": str(args.export),
                               "passages": str(passages_file(args.export))}  # fmt: skip
        if args.reset:
            out["reset"] = store.reset()
        summary = store.summary(args.since)
    finally:
        store.close()
    if args.json:
        say_json(dict(summary.to_dict(), **out))
    elif out:
        say(_feedback_done(out))
    else:
        say(render_feedback(summary))
    return 0


def _no_feedback(since: int | None) -> dict:
    return {"since_days": since, "votes": {}, "answers": 0, "articles": [], "questions": [], "effects_since": None}


def _feedback_done(out: dict) -> str:
    lines = []
    if "exported" in out:
        e = out["exported"]
        lines.append(f"wrote {e['questions']} questions to {terminal_safe(e['file'])} and their passages to "
                     f"{terminal_safe(e['passages'])}\nmeasure with: newsdesk eval --passages "
                     f"{terminal_safe(e['passages'])} --questions {terminal_safe(e['file'])}")  # fmt: skip
    if "reset" in out:
        lines.append(f"{out['reset']} votes no longer change answers (kept for the counts and --export)")
    return "\n".join(lines)


def cmd_stats(args, settings) -> int:
    stats = compose.make_engine(settings).stats()
    say_json(stats.to_dict()) if args.json else say(render_stats(stats))
    return 0


def cmd_eval(args, settings) -> int:
    report = run_eval(
        args.passages, args.questions, compose.make_engine(settings), limit=args.limit, baselines=args.baselines,
        progress=not args.json,
    )
    if args.out:
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    say_json(report) if args.json else say(format_report(report))
    return 0
