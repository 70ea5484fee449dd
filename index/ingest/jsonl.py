"""The JSON article formats: a .json object or list of objects (or {"articles": [...]}), or .jsonl lines."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from index.errors import BadArticle
from index.ingest.record import TOO_DEEP, make_article
from index.records import Article, Failure

_TEXT_KEYS = ("text", "content", "body", "article", "maintext")
_DATE_KEYS = ("date", "published", "published_at", "pubdate", "datePublished", "created")


def _record_to_article(obj: dict, path: Path, n: int) -> Article:
    text = next((obj[k] for k in _TEXT_KEYS if isinstance(obj.get(k), str) and obj[k].strip()), None)
    if text is None:
        raise BadArticle(f"{path}#{n}", "record has no text (expected one of: text, content, body)")
    meta = {
        "title": obj.get("title") or obj.get("headline"),
        "date": next((obj[k] for k in _DATE_KEYS if obj.get(k)), None),
        "url": obj.get("url") or obj.get("link"),
        "source": obj.get("source") or obj.get("site") or obj.get("publisher"),
        "author": obj.get("author") if isinstance(obj.get("author"), str) else None,
        "lang": obj.get("lang") or obj.get("language"),
    }
    key = f"{path}#{obj['id']}" if obj.get("id") is not None else f"{path}#{n}"
    article = make_article(key=key, text=text, path=str(path), meta=meta, fallback_title=f"{path.stem} #{n}")
    return replace(article, key=article.url) if article.url else article  # the (cleaned) link is the key


def load(path: Path, text: str) -> tuple[list[Article], list[Failure]]:
    """Load a .json (an object or a list of objects) or .jsonl file; bad records are reported, not fatal."""
    records: list[tuple[int, object]] = []
    failures: list[Failure] = []
    if path.suffix.lower() == ".jsonl":
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append((n, json.loads(line)))
            except json.JSONDecodeError as exc:
                failures.append(Failure(f"{path}:{n}", f"malformed JSON line ({exc.msg})"))
            except RecursionError:
                failures.append(Failure(f"{path}:{n}", f"JSON line {TOO_DEEP}"))
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadArticle(str(path), f"malformed JSON ({exc.msg} at line {exc.lineno})") from exc
        except RecursionError:
            raise BadArticle(str(path), f"JSON {TOO_DEEP}") from None
        if isinstance(data, dict) and isinstance(data.get("articles"), list):
            data = data["articles"]
        items = data if isinstance(data, list) else [data]
        records = list(enumerate(items, start=1))
    articles = []
    for n, obj in records:
        if not isinstance(obj, dict):
            failures.append(Failure(f"{path}:{n}", "record is not a JSON object"))
            continue
        try:
            articles.append(_record_to_article(obj, path, n))
        except BadArticle as exc:
            failures.append(Failure(exc.path, exc.reason))
    if not articles and not failures:
        raise BadArticle(str(path), "no articles in this file")
    return articles, failures
