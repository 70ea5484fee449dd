"""What the command line shows a person: every print goes through `say` (or `say_json`), every log line through
SafeFormatter, so nothing from an article, a feed or a file name can drive the terminal."""

from __future__ import annotations

import logging
import sys

from tqdm import tqdm

from bot.render.terminal import json_text, terminal_safe


def say(text: object = "", *, err: bool = False) -> None:
    """Print `text` for a person, on stdout (or stderr): the one place the CLI prints human-readable output.

    Control characters are escaped (newlines and tabs kept: the renderers have already escaped those inside
    single-line fields), so nothing from an article, a feed or a file name can drive the terminal.
    """
    print(terminal_safe(text, multiline=True), file=sys.stderr if err else sys.stdout, flush=True)


def say_json(obj: object) -> None:
    """Print `obj` as one JSON line (terminal-safe: see bot.render.terminal.json_text)."""
    print(json_text(obj), flush=True)


def fail(message: object) -> None:
    """A one-line error on stderr: newlines inside the message are escaped too."""
    say(f"newsdesk: {terminal_safe(message)}", err=True)


class SafeFormatter(logging.Formatter):
    """Log lines with control characters escaped: one record, one line (a traceback keeps its own lines)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return terminal_safe(super().formatMessage(record))

    def formatException(self, ei) -> str:
        return terminal_safe(super().formatException(ei), multiline=True)

    def formatStack(self, stack_info: str) -> str:
        return terminal_safe(super().formatStack(stack_info), multiline=True)


def configure_logging(level: str, debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    logging.basicConfig(
        level=logging.DEBUG if debug else getattr(logging, level.upper(), logging.INFO), handlers=[handler]
    )
    for noisy in ("sentence_transformers", "transformers", "faiss", "httpx", "bm25s", "trafilatura", "htmldate",
                  "urllib3", "filelock", "huggingface_hub"):  # fmt: skip
        logging.getLogger(noisy).setLevel(logging.WARNING if not debug else logging.INFO)


def quiet_libraries() -> None:
    try:
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
    except Exception:  # transformers is optional for a custom backend; silence is best-effort
        pass


def progress_bar(enabled: bool):
    """A tqdm progress callback on a terminal; nothing when output is not a terminal."""
    if not enabled or not sys.stderr.isatty():
        return None, lambda: None
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
