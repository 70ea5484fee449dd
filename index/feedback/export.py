"""The votes as a QA set in the schema of ../shared/eval/README.md, so that `newsdesk eval` measures the bot
on the community's own questions.

Two files: the questions (the path given) and their passages (`passages_file`: every passage any remembered
answer quoted, so that a question's passage competes with the others readers saw). An answer counts by its
votes: more "helpful" than "wrong quote" makes its question answerable, with its first quote's passage as the
gold passage and the quoted text as the answer (so the quote hit is measured); more "wrong quote" than
"helpful" makes a negative: `is_impossible` false, no gold passage, and `negative_passage_id` the passage
readers said does not answer it (index/evaluation.py reports how often it is still quoted first). Ties and
"outdated" votes make no question: they say nothing about where the answer is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path


def passages_file(questions: Path) -> Path:
    """The passages file written beside a questions file: fb.jsonl -> fb.passages.jsonl."""
    base = questions.name.removesuffix(".jsonl").removesuffix(".questions")
    out = questions.with_name(base + ".passages.jsonl")
    if out == questions:
        raise ValueError(f"{questions}: name the questions file otherwise (its passages would overwrite it)")
    return out


def write_qa_set(path: Path, tallies: Sequence[tuple], quotes: Sequence[tuple]) -> int:
    """Write questions and passages from vote tallies (answer id, question, lang, helpful, wrong quote) and the
    remembered quotes (answer id, rank, article key, title, date, url, passage hash, passage, lang, quote)."""
    passages: dict[str, dict] = {}
    first: dict[str, tuple] = {}
    for answer_id, rank, key, title, date, url, digest, text, lang, quote in quotes:
        pid = f"fb-{digest[:16]}"
        passages.setdefault(pid, {"id": pid, "title": title, "text": text, "source": url, "doc_id": key,
                                  "lang": lang, "date": date})  # fmt: skip
        if rank == 0:
            first[answer_id] = (pid, key, text, quote)
    rows = []
    for answer_id, question, lang, helpful, wrong in tallies:
        if answer_id not in first or helpful == wrong:
            continue
        pid, key, text, quote = first[answer_id]
        row = {"id": f"fb-{answer_id}", "question": question, "lang": lang, "is_impossible": False,
               "plausible_answers": [], "votes": {"helpful": helpful, "wrong_quote": wrong}}  # fmt: skip
        if helpful > wrong:
            start = text.find(quote)
            row.update(answers=[quote], passage_id=pid, doc_id=key, answer_starts=[start] if start >= 0 else [])
        else:
            row.update(answers=[], passage_id=None, doc_id=None, answer_starts=[], negative_passage_id=pid,
                       negative_answers=[quote])  # fmt: skip
        rows.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_jsonl(passages_file(path), list(passages.values()))
    _write_jsonl(path, rows)
    return len(rows)


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)
