"""Issue 10, through the command line as a user runs it (`bot.cli.main`), with the fast hashing embedder.

1. Nothing from an article, a feed or a file name drives the operator's terminal: control characters are printed
   escaped by every command, in one place (`say`, bot/cli/output.py), and JSON escapes them too.
2. One bad line of `ask -` fails alone: the batch goes on, and the exit code says a line failed.
3. Every numeric flag and setting has a documented range; outside it (or not finite) is a usage error, exit 2.
"""

from __future__ import annotations

import ast
import io
import json
import logging
import math
import os
import re
import unicodedata

import pytest

from bot import cli, compose
from bot.cli.output import SafeFormatter
from bot.settings import Settings
from tests.conftest import ARTICLES, ROOT, write
from tests.index.sources.test_feeds import no_outside_connections, site  # noqa: F401  (the loopback site; no outside calls)

# --- running the CLI -----------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fast_cli(monkeypatch, tmp_path):
    """The CLI with the hashing embedder, no .env and no NEWSDESK_* variable from the machine running the tests."""
    from index.engine import Engine
    from tests.fakes import HashingEmbedder

    for name in list(os.environ):
        if name.startswith("NEWSDESK_") or name == "DISCORD_TOKEN":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)

    def make_engine(settings):
        return Engine(settings.index_dir, HashingEmbedder(), compose.search_config(settings),
                      compose.build_options(settings))  # fmt: skip

    monkeypatch.setattr(compose, "make_engine", make_engine)


def newsdesk(capsys, monkeypatch, *argv: str, stdin: str | None = None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    capsys.readouterr()
    try:
        rc = cli.main(list(argv))
    except SystemExit as exc:  # argparse's usage errors
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err


# --- 1. terminal control sequences -----------------------------------------------------------------------------

OSC_TITLE = "\x1b]0;pwned\x07"  # renames the terminal window
HYPERLINK = "\x1b]8;;https://evil.test/\x1b\\click\x1b]8;;\x1b\\"
CSI_C1 = "\x9b2J"  # 8-bit CSI: clear screen
BIDI = "\u202egnp.exe\u202c"
FAKE_LINE = "\n  skipped totally-fake.txt: forged line\r"

EVIL = f"{OSC_TITLE}{CSI_C1}{BIDI}{FAKE_LINE}"  # every kind at once
EVIL_SHOWN = "\\x1b]0;pwned\\x07\\x9b2J\\u202egnp.exe\\u202c\\n  skipped totally-fake.txt: forged line\\r"

TUNNEL = """
    title: Harbour tunnel opens
    date: 2025-04-01
    source: Port Wire
    lang: en

    The harbour tunnel opened on Tuesday after four years of digging under the bay, the port said.

    Engineers said the tunnel carries eleven thousand cars a day and cost nine hundred million euros.
    """
QUESTION = "How many cars does the harbour tunnel carry a day?"


def unsafe(text: str) -> list[str]:
    """Characters a terminal would act on (newlines between lines excepted): must never be printed raw."""
    bidi = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    return sorted({ch for ch in text if ch not in "\n\t" and (unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp")
                                                              or ch in bidi)})  # fmt: skip


def forged(out: str) -> bool:
    """A line of its own that looks like the CLI's: a quote's paragraphs stay indented under their quote."""
    return any(re.match(r" {0,3}skipped totally-fake", line) for line in out.splitlines())


@pytest.fixture
def evil(tmp_path):
    """Articles whose file names hold control sequences: one indexed (its path is its link), two skipped."""
    folder = tmp_path / "articles"
    for name, text in ARTICLES.items():
        write(folder / name, text)
    write(folder / f"tunnel{EVIL}.txt", TUNNEL)
    (folder / f"empty{EVIL}.txt").write_text("")  # skipped: an empty file
    (folder / os.fsdecode(b"latin1-\xe9t\xe9.txt")).write_text("")  # not UTF-8: a lone surrogate in its name
    return folder, tmp_path / "index"


def test_reindex_summary_escapes_file_names_and_feed_urls(capsys, monkeypatch, evil):
    folder, index = evil
    rc, out, err = newsdesk(capsys, monkeypatch, "reindex", "--articles", str(folder), "--index", str(index),
                            "--feed", f"http://10.0.0.1/feed{EVIL}")  # fmt: skip
    assert rc == 0, err
    assert unsafe(out + err) == [] and not forged(out)
    lines = out.splitlines()
    skipped = [line for line in lines if line.startswith("  skipped ")]
    assert len(skipped) == 2, out
    assert any(f"empty{EVIL_SHOWN}.txt: " in line for line in skipped)
    assert any("latin1-\\udce9t\\udce9.txt" in line for line in skipped)
    [source] = [line for line in lines if line.startswith("  source ")]
    assert "feed" + EVIL_SHOWN.removesuffix("\\r") in source  # the URL as given (stripped), escaped


def test_ask_search_chat_escape_a_file_name_shown_as_the_link(capsys, monkeypatch, evil):
    folder, index = evil
    base = ["--index", str(index)]
    assert newsdesk(capsys, monkeypatch, "reindex", "--articles", str(folder), *base)[0] == 0
    for argv in (["ask", QUESTION], ["search", "harbour tunnel cars", "-k", "2"]):
        rc, out, err = newsdesk(capsys, monkeypatch, *argv, *base)
        assert rc == 0, err
        assert f"tunnel{EVIL_SHOWN}.txt" in out and unsafe(out + err) == [] and not forged(out)
    rc, out, err = newsdesk(capsys, monkeypatch, "chat", "--articles", str(folder), *base,
                            stdin=f"{QUESTION}\nwhat about {EVIL} this?\n\n")  # fmt: skip
    assert rc == 0 and f"tunnel{EVIL_SHOWN}.txt" in out and unsafe(out + err) == [] and not forged(out)


@pytest.fixture
def index_holding_controls(capsys, monkeypatch, evil):
    """Whatever the index holds (one written by an older Newsdesk, say): titles, sources, links, quotes, model
    names and languages with control sequences come out of the engine."""
    from dataclasses import replace

    from index.engine import Engine

    folder, index = evil
    assert newsdesk(capsys, monkeypatch, "reindex", "--articles", str(folder), "--index", str(index))[0] == 0

    def bad_ref(ref):
        return replace(ref, title=f"T{EVIL}", source=f"S{EVIL}", url=f"https://x.test/{EVIL}", date=f"2025{EVIL}")

    real_ask, real_search, real_stats = Engine.ask, Engine.search, Engine.stats

    def ask(self, question, **kw):
        a = real_ask(self, question, **kw)
        quotes = tuple(replace(q, text=f"Q{EVIL} {q.text}", highlights=(), article=bad_ref(q.article))
                       for q in a.quotes)  # fmt: skip
        return replace(a, quotes=quotes, related=tuple(bad_ref(r) for r in a.related))

    def search(self, query, **kw):
        return [replace(h, article=bad_ref(h.article), passage=replace(h.passage, text=f"P{EVIL}"))
                for h in real_search(self, query, **kw)]  # fmt: skip

    def stats(self):
        s = real_stats(self)
        return replace(s, model=f"M{EVIL}", languages={f"L{EVIL}": 1}, index_type=EVIL, last_reindex=EVIL)

    monkeypatch.setattr(Engine, "ask", ask)
    monkeypatch.setattr(Engine, "search", search)
    monkeypatch.setattr(Engine, "stats", stats)
    return index


def test_every_command_escapes_what_the_index_holds(capsys, monkeypatch, index_holding_controls):
    base = ["--index", str(index_holding_controls)]
    runs = [["ask", QUESTION, *base], ["ask", "What is the recipe for a lemon tart?", *base],
            ["search", "harbour tunnel cars", *base], ["stats", *base]]  # fmt: skip
    for argv in runs:
        rc, out, err = newsdesk(capsys, monkeypatch, *argv)
        assert rc == 0, err
        assert EVIL_SHOWN in out and unsafe(out + err) == [] and not forged(out), argv
    rc, out, err = newsdesk(capsys, monkeypatch, "chat", *base, stdin=f"{QUESTION}\n\n")
    assert rc == 0 and EVIL_SHOWN in out and unsafe(out + err) == [] and not forged(out)


def strings(obj) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in strings(k) + strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in strings(v)]
    return []


def test_json_escapes_every_control_and_keeps_the_values(capsys, monkeypatch, index_holding_controls):
    base = ["--index", str(index_holding_controls), "--json"]
    for argv in (["ask", QUESTION], ["search", "harbour tunnel cars"], ["stats"]):
        rc, out, _ = newsdesk(capsys, monkeypatch, *argv, *base)
        assert rc == 0 and unsafe(out) == [] and out.count("\n") == 1
        assert "\\u009b2J" in out and "\\u202e" in out and "\\u001b]0;pwned\\u0007" in out
        assert any(EVIL in value for value in strings(json.loads(out)))  # the same values once decoded
    rc, out, _ = newsdesk(capsys, monkeypatch, "ask", "-", *base, stdin=f"{QUESTION}\n")
    assert rc == 0 and unsafe(out) == [] and out.count("\n") == 1


def test_add_escapes_the_saved_path_and_the_refused_url(capsys, monkeypatch, tmp_path, site):  # noqa: F811
    articles, index = tmp_path / f"articles{EVIL}", tmp_path / "index"
    articles.mkdir()
    site.put("/page", b"<html><head><title>Night market</title></head><body><article><h1>Night market opens</h1>"
                      b"<p>The harbour night market opens on Friday with forty stalls selling smoked fish, honey and "
                      b"lanterns, the town council announced on Monday.</p></article></body></html>")  # fmt: skip
    base = ["--articles", str(articles), "--index", str(index), "--allow-host", "127.0.0.1"]
    rc, out, err = newsdesk(capsys, monkeypatch, "add", site.url("/page"), *base)
    assert rc == 0, err
    assert out.startswith(f"saved {tmp_path}/articles{EVIL_SHOWN}/") and unsafe(out + err) == []
    assert not forged(out)
    rc, out, err = newsdesk(capsys, monkeypatch, "add", f"http://10.0.0.1/{EVIL}", *base)
    assert rc == 1 and unsafe(out + err) == [] and err.count("\n") == 1 and not forged(err)
    rc, out, err = newsdesk(capsys, monkeypatch, "add", f"http://10.0.0.1/{EVIL}", *base, "--json")
    assert rc == 1 and unsafe(out) == [] and out.count("\n") == 1


def test_usage_errors_and_error_messages_are_escaped(capsys, monkeypatch, tmp_path):
    rc, out, err = newsdesk(capsys, monkeypatch, "search", "x", "-k", EVIL)
    assert rc == 2 and unsafe(out + err) == [] and EVIL_SHOWN in err and not forged(err)
    rc, out, err = newsdesk(capsys, monkeypatch, "ask", "x", "--index", str(tmp_path / f"none{EVIL}"))
    assert rc == 1 and unsafe(out + err) == [] and err.count("\n") == 1


def test_log_lines_are_escaped_one_record_one_line():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeFormatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("newsdesk.test-hardening")
    logger.addHandler(handler)
    try:
        logger.warning("skipped %s", f"a{FAKE_LINE}{OSC_TITLE}")
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue().count("\n") == 1 and unsafe(stream.getvalue()) == []


def test_every_print_of_the_cli_goes_through_the_one_gate():
    """`print` appears only in say and say_json; nothing writes to sys.stdout or sys.stderr directly."""
    trees = {path.name: ast.parse(path.read_text()) for path in sorted((ROOT / "bot" / "cli").glob("*.py"))}
    assert {"__init__.py", "output.py", "parser.py", "index_commands.py", "session_commands.py"} <= set(trees)
    printing = {(name, fn.name) for name, tree in trees.items() for fn in ast.walk(tree)
                if isinstance(fn, ast.FunctionDef)
                and any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"
                        for n in ast.walk(fn))}  # fmt: skip
    assert printing == {("output.py", "say"), ("output.py", "say_json")}
    writes = [ast.unparse(n) for tree in trees.values() for n in ast.walk(tree) if isinstance(n, ast.Attribute)
              and n.attr == "write" and re.search(r"std(out|err)", ast.unparse(n.value))]  # fmt: skip
    assert writes == []


# --- 2. one bad line of a batch --------------------------------------------------------------------------------

GOOD = ["How long will the harbour bridge close?", "Combien a coûté la piste cyclable de Lyon ?"]


@pytest.fixture
def small_index(capsys, monkeypatch, articles_dir, tmp_path):
    index = tmp_path / "index"
    assert newsdesk(capsys, monkeypatch, "reindex", "--articles", str(articles_dir), "--index", str(index))[0] == 0
    return index


def test_a_too_long_line_fails_alone_in_json(capsys, monkeypatch, small_index):
    long = "why " * 625  # 2,500 characters
    rc, out, err = newsdesk(capsys, monkeypatch, "ask", "-", "--index", str(small_index), "--json",
                            stdin=f"{GOOD[0]}\n{long}\n\n{GOOD[1]}\n")  # fmt: skip
    rows = [json.loads(line) for line in out.splitlines()]
    assert rc == 1, err
    assert [r["question"] for r in rows] == [GOOD[0], long.strip(), GOOD[1]]
    assert rows[0]["answered"] and rows[2]["answered"]
    assert rows[1] == {"question": long.strip(), "error": {"type": "QuestionTooLong", "message": rows[1]["error"][
        "message"]}} and "2499" in rows[1]["error"]["message"]  # fmt: skip


def test_a_failing_line_fails_alone_in_text_and_unexpected_errors_too(capsys, monkeypatch, small_index):
    from index.engine import Engine

    real_ask = Engine.ask

    def ask(self, question, **kw):
        if "explode" in question:
            raise ValueError("a bug this question triggers")
        return real_ask(self, question, **kw)

    monkeypatch.setattr(Engine, "ask", ask)
    rc, out, err = newsdesk(capsys, monkeypatch, "ask", "-", "--index", str(small_index),
                            stdin=f"please explode?\n{'x' * 2500}\n{GOOD[0]}\n")  # fmt: skip
    assert rc == 1
    assert "eleven weeks" in out  # the third line was answered
    assert err.splitlines() == ["newsdesk: line 1: a bug this question triggers",
                                "newsdesk: line 2: The question is 2500 characters long; the limit is 2000."]  # fmt: skip
    rc, out, err = newsdesk(capsys, monkeypatch, "ask", "-", "--index", str(small_index), "--json",
                            stdin="please explode?\n")  # fmt: skip
    assert rc == 1 and json.loads(out)["error"] == {"type": "ValueError", "message": "a bug this question triggers"}


def test_a_clean_batch_exits_0_and_a_missing_index_stops_it(capsys, monkeypatch, small_index, tmp_path):
    rc, out, _ = newsdesk(capsys, monkeypatch, "ask", "-", "--index", str(small_index), "--json",
                          stdin="\n".join(GOOD) + "\n")  # fmt: skip
    assert rc == 0 and len(out.splitlines()) == 2
    rc, out, err = newsdesk(capsys, monkeypatch, "ask", "-", "--index", str(tmp_path / "none"), "--json",
                            stdin="\n".join(GOOD) + "\n")  # fmt: skip
    assert rc == 1 and out == "" and err.count("\n") == 1 and "newsdesk reindex" in err


# --- 3. ranges of numeric flags and settings -------------------------------------------------------------------

# flag: (command line before the value, low, high or None); every numeric flag of the parser is here.
FLAGS = {
    ("ask", "-k"): (["ask", "anything?", "-k"], 1, 10),
    ("search", "-k"): (["search", "anything", "-k"], 1, 100),
    ("eval", "--limit"): (["eval", "--passages", "p.jsonl", "--questions", "q.jsonl", "--limit"], 1, None),
    ("feedback", "--since"): (["feedback", "--since"], 1, 36500),
}


def _numeric_flags() -> dict[tuple[str, str], object]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.choices and isinstance(a.choices, dict))
    out = {}
    for command, sp in sub.choices.items():
        for action in sp._actions:
            if action.type in (int, float) or hasattr(action.type, "low"):
                out[(command, action.option_strings[-1] if action.option_strings else action.dest)] = action.type
    return out


def test_every_numeric_flag_has_a_range_and_is_in_the_table():
    found = _numeric_flags()
    assert set(found) == set(FLAGS)
    for key, kind in found.items():
        assert kind not in (int, float), f"{key} takes any number"
        assert (kind.low, kind.high) == FLAGS[key][1:]


@pytest.mark.parametrize("key", sorted(FLAGS))
def test_numeric_flags_out_of_range_are_usage_errors(capsys, monkeypatch, key):
    prefix, low, high = FLAGS[key]
    bad = [str(low - 1), "-1", "1.5", "nan", "inf", "abc", ""] + ([str(high + 1), "99999999999"] if high else [])
    for value in bad:
        rc, _, err = newsdesk(capsys, monkeypatch, *prefix, value)
        assert rc == 2, (key, value, err)
        assert f"argument {key[1]}" in err and "Traceback" not in err


def test_numeric_flags_at_their_bounds_are_accepted(capsys, monkeypatch, small_index):
    for k in ("1", "10"):
        rc, out, err = newsdesk(capsys, monkeypatch, "ask", GOOD[0], "--index", str(small_index), "-k", k, "--json")
        assert rc == 0 and 1 <= len(json.loads(out)["quotes"]) <= int(k), err
    rc, out, _ = newsdesk(capsys, monkeypatch, "search", "harbour bridge", "--index", str(small_index), "-k", "1",
                          "--json")  # fmt: skip
    assert rc == 0 and len(json.loads(out)) == 1
    rc, out, _ = newsdesk(capsys, monkeypatch, "search", "harbour bridge", "--index", str(small_index), "-k", "100",
                          "--json")  # fmt: skip
    assert rc == 0 and 1 <= len(json.loads(out)) <= 3
    assert cli.build_parser().parse_args(["eval", "--passages", "p", "--questions", "q", "--limit", "1"]).limit == 1


# setting: (low, high, low excluded?, float?); every numeric setting is here (and in README and .env.example).
IDS = (1, 2**64 - 1, False, False)
SETTINGS = {
    "guild_ids": IDS, "qa_channel_ids": IDS, "admin_role_ids": IDS, "admin_user_ids": IDS,
    "question_cooldown": (0, 3600, False, True),
    "min_question_chars": (1, 1000, False, False),
    "reindex_progress_every": (0, 3600, True, True),
    "max_file_mb": (0, 1024, True, True),
    "max_removal_share": (0, 1, False, True),
    "chunk_words": (20, 2000, False, False),
    "chunk_max_words": (30, 4000, False, False),
    "ann_threshold": (1000, 1_000_000_000, False, False),
    "threads": (1, 1024, False, False),
    "batch_size": (1, 4096, False, False),
    "k": (1, 10, False, False),
    "max_per_article": (1, 10, False, False),
    "min_confidence": (0, 1, False, True),
    "max_question_chars": (10, 100_000, False, False),
    "refresh_minutes": (0, 10080, False, True),
    "follows_per_member": (1, 100, False, False),
    "follows_per_guild": (1, 10_000, False, False),
    "follow_cooldown": (0, 86_400, False, True),
    "feedback_outdated_votes": (1, 1000, False, False),
    "conversation_turns": (1, 50, False, False),
    "conversation_minutes": (0, 10080, True, True),
}  # fmt: skip


def env(field: str) -> str:
    return f"NEWSDESK_{field.upper()}"


def test_every_numeric_setting_is_in_the_table():
    numeric = {name for name, f in Settings.model_fields.items()
               if re.search(r"\b(int|float)\b", str(f.annotation)) and "bool" not in str(f.annotation)}  # fmt: skip
    assert numeric == set(SETTINGS)


def _bad_values(low, high, low_excluded, is_float):
    step = 0.001 if is_float else 1
    bad = [str(low) if low_excluded else str(low - step), str(high + step), "-inf", "inf", "nan", "1e400", "abc"]
    return bad if is_float else [*bad, "1.5"]


@pytest.mark.parametrize("field", sorted(SETTINGS))
def test_numeric_settings_out_of_range_are_one_line_usage_errors(capsys, monkeypatch, field, tmp_path):
    low, high, low_excluded, is_float = SETTINGS[field]
    for value in _bad_values(low, high, low_excluded, is_float):
        shown = f"5, {value}" if field.endswith("_ids") else value  # a bad item in a list
        monkeypatch.setenv(env(field), shown)
        rc, out, err = newsdesk(capsys, monkeypatch, "stats", "--index", str(tmp_path / "none"))
        assert rc == 2, (field, value, err)
        assert err.startswith(f"newsdesk: bad setting {env(field)}") and err.count("\n") == 1, err
        assert "Traceback" not in err and out == ""
        if field.endswith("_ids"):
            assert "(item 2)" in err
    monkeypatch.delenv(env(field))


@pytest.mark.parametrize("field", sorted(SETTINGS))
def test_numeric_settings_at_their_bounds_are_accepted(monkeypatch, field):
    low, high, low_excluded, _ = SETTINGS[field]
    lowest = low + (1e-6 if low_excluded else 0)
    for value in (lowest, high):
        if field == "min_question_chars":  # it may not exceed the longest question
            monkeypatch.setenv("NEWSDESK_MAX_QUESTION_CHARS", "100000")
        monkeypatch.setenv(env(field), str(value))
        got = getattr(Settings(_env_file=None), field)
        got = got[0] if isinstance(got, list) else got
        assert math.isclose(got, value), (field, value, got)


def test_shortest_question_may_not_exceed_the_longest(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("NEWSDESK_MIN_QUESTION_CHARS", "500")
    monkeypatch.setenv("NEWSDESK_MAX_QUESTION_CHARS", "100")
    rc, _, err = newsdesk(capsys, monkeypatch, "stats", "--index", str(tmp_path))
    assert rc == 2 and err.startswith("newsdesk: bad setting NEWSDESK_MAX_QUESTION_CHARS: must be at least")


def test_env_example_as_it_is_is_valid(tmp_path):
    """`cp .env.example .env` is the documented start: its empty optional numbers mean "not set"."""
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text())
    settings = Settings(_env_file=tmp_path / ".env")
    assert settings.threads is None and settings.min_confidence is None


def _bounds_text(field: str) -> tuple[str, str]:
    low, high, _, _ = SETTINGS[field]
    return str(low), str(high)


def test_ranges_are_documented_in_readme_and_env_example():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("| setting | accepted |"):].split("\n\n", 1)[0].splitlines()
    example = (ROOT / ".env.example").read_text().splitlines()
    for field in SETTINGS:
        name, (low, high) = env(field), _bounds_text(field)
        [row] = [line for line in table if f"`{name}`" in line.split("|")[1]]
        accepted = row.rsplit("|", 2)[1]
        assert low in accepted and high in accepted, (name, row)
        at = next(i for i, line in enumerate(example) if line.startswith(f"{name}="))
        comment = []
        for line in reversed(example[:at]):
            if line.startswith("#"):
                comment.append(line)
            elif comment or not re.match(r"^[A-Z_]+=", line):
                break
        text = " ".join(comment)
        assert low in text and high in text, (name, text)
    for (command, flag), (_, low, high) in FLAGS.items():
        span = f"{low} to {high}" if high else f"{low} or more"
        assert f"`{command} {flag}` {span}" in readme
