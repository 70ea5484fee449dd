"""Article loaders: .txt (with header), .md (front matter), .html, .json/.jsonl; one place per format.

Every loader returns normalized `Article` records or raises `BadArticle` with a reason a person can act on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlparse

from .dates import parse_date
from .errors import BadArticle
from .lang import detect_language
from .models import Article, Failure
from .text import looks_binary, normalize_text

log = logging.getLogger(__name__)

EXTENSIONS = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl")
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
META_KEYS = ("title", "date", "url", "source", "author", "lang")
_HEADER_LINE = re.compile(r"^\s*([A-Za-z_]+)\s*:\s*(.*?)\s*$")
_DATE_PREFIX = re.compile(r"^\s*date\s*:?\s+(\d{4}-\d{2}(?:-\d{2})?)\b[\s.:,-]*", re.IGNORECASE)
_FIRST_SENTENCE = re.compile(r"^(.{10,200}?[.!?…])(?:\s|$)")
_TEXT_KEYS = ("text", "content", "body", "article", "maintext")
_DATE_KEYS = ("date", "published", "published_at", "pubdate", "datePublished", "created")


def content_hash(*parts: str | None) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update((part or "").encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()[:32]


def _is_url(value: str | None) -> bool:
    return bool(value) and urlparse(value).scheme in ("http", "https") and bool(urlparse(value).netloc)


_DATELINE = re.compile(
    r"^(?:[A-ZÀ-Ý][\w' -]{1,40}(?:\([^)]{1,30}\))?,\s*)?"  # optional place: "PARIS, " or "Lyon (AFP), "
    r"((?:\d{1,2}(?:er)?\s+[A-Za-zéûÉÛ]+\.?\s+\d{4})|(?:[A-Z][a-z]+\.?\s+\d{1,2},\s+\d{4}))\b"
)


def dateline(text: str) -> str | None:
    """The date a news text opens with ("22 mai 2012. - ...", "PARIS, May 3, 2025 —"), if any."""
    for para in text.split("\n\n", 2)[:2]:
        if m := _DATELINE.match(para):
            return parse_date(m.group(1))
    return None


def _title_from(text: str, fallback: str) -> str:
    first = text.split("\n\n", 1)[0].strip()
    m = _FIRST_SENTENCE.match(first)
    if m:
        return m.group(1).strip()
    if 0 < len(first) <= 200:
        return first
    return fallback


def make_article(
    *,
    key: str,
    text: str,
    path: str | None,
    meta: dict,
    fallback_title: str,
) -> Article:
    """Normalize text and metadata into an Article; raises BadArticle when no text is left."""
    body = normalize_text(text)
    if not body:
        raise BadArticle(path or key, "no article text (empty after extraction)")
    title = normalize_text(str(meta.get("title") or "")).replace("\n\n", " ")[:300]
    title = title or _title_from(body, fallback_title)
    url = str(meta.get("url") or "").strip() or None
    source = str(meta.get("source") or "").strip() or None
    if url is None and _is_url(source):
        url, source = source, None
    if url and not _is_url(url):
        url = None
    if source is None and url:
        source = urlparse(url).netloc.removeprefix("www.")
    date = parse_date(meta.get("date")) or dateline(body)
    lang = str(meta.get("lang") or "").strip().lower()[:2] or detect_language(f"{title}\n{body}")
    author = str(meta.get("author") or "").strip() or None
    return Article(
        key=key,
        title=title,
        text=body,
        date=date,
        url=url,
        path=path,
        source=source,
        author=author,
        lang=lang,
        content_hash=content_hash(title, body, date, url, source, author, lang),
    )


def _read_text(path: Path, max_bytes: int) -> str:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise BadArticle(str(path), f"cannot read: {exc.strerror or exc}") from exc
    if size == 0:
        raise BadArticle(str(path), "empty file")
    if size > max_bytes:
        raise BadArticle(str(path), f"too large ({size:,} bytes; the limit is {max_bytes:,})")
    data = path.read_bytes()
    if looks_binary(data):
        raise BadArticle(str(path), "binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            # Some older news pages are still served as cp1252; accept it only when it decodes cleanly.
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise BadArticle(str(path), f"not valid UTF-8 text (byte {exc.start})") from exc


def _split_header(text: str) -> tuple[dict, str]:
    """Split an optional `key: value` header (ended by a blank line) or a `date YYYY-MM` prefix."""
    meta: dict = {}
    lines = text.lstrip("\ufeff").splitlines()
    header_end = None
    for i, line in enumerate(lines):
        if not line.strip():
            header_end = i
            break
        m = _HEADER_LINE.match(line)
        if not m or m.group(1).lower() not in META_KEYS:
            break
        meta[m.group(1).lower()] = m.group(2)
    if header_end and meta:
        return meta, "\n".join(lines[header_end + 1 :])
    meta = {}
    if m := _DATE_PREFIX.match(text.lstrip("\ufeff")):
        meta["date"] = m.group(1)
        return meta, text.lstrip("\ufeff")[m.end() :]
    return meta, text


def load_txt(path: Path, text: str) -> list[Article]:
    meta, body = _split_header(text)
    return [make_article(key=str(path), text=body, path=str(path), meta=meta, fallback_title=path.stem)]


def _front_matter(text: str, path: Path) -> tuple[dict, str]:
    import yaml

    if not text.startswith("---"):
        return {}, text
    end = re.search(r"^(---|\.\.\.)\s*$", text[3:], flags=re.MULTILINE)
    if not end:
        raise BadArticle(str(path), "front matter opened with --- but never closed")
    try:
        meta = yaml.safe_load(text[3 : 3 + end.start()]) or {}
    except yaml.YAMLError as exc:
        raise BadArticle(str(path), f"front matter is not valid YAML ({exc.__class__.__name__})") from exc
    if not isinstance(meta, dict):
        raise BadArticle(str(path), "front matter is not a mapping of keys to values")
    return {str(k).lower(): v for k, v in meta.items()}, text[3 + end.end() :]


def markdown_to_text(source: str) -> str:
    """Reduce Markdown to plain text: one paragraph per block, inline markup and links reduced to their text."""
    from markdown_it import MarkdownIt

    blocks: list[str] = []
    for token in MarkdownIt("commonmark").parse(source):
        if token.type == "inline":
            parts = []
            for child in token.children or []:
                if child.type in ("text", "code_inline"):
                    parts.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    parts.append(" ")
                elif child.type == "image":
                    parts.append(child.content)
            blocks.append("".join(parts))
        elif token.type in ("code_block", "fence"):
            blocks.append(token.content)
    return "\n\n".join(b for b in blocks if b.strip())


def load_md(path: Path, text: str) -> list[Article]:
    meta, body = _front_matter(text, path)
    return [
        make_article(key=str(path), text=markdown_to_text(body), path=str(path), meta=meta, fallback_title=path.stem)
    ]


def extract_html(html: str, *, url: str | None = None) -> tuple[dict, str]:
    """Return (metadata, main text) of an HTML page, paragraphs kept, with trafilatura."""
    import trafilatura

    # Dates only from the page's metadata: htmldate's extensive search guesses from any number in the
    # text (a 2012 article came out as 2004-01-01); a dateline at the top of the text is read instead.
    doc = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, favor_recall=True, include_comments=False, include_tables=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if doc is None:
        return {}, ""
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    title = (data.get("title") or "").strip()
    lines = [ln.strip() for ln in (data.get("text") or "").splitlines()]
    lines = [ln for ln in lines if ln]
    # With favor_recall, trafilatura keeps the page's <h1> as the first line: it is the title, not the body.
    if lines and title and normalize_text(lines[0]) == normalize_text(title):
        lines = lines[1:]
    meta = {
        "title": title,
        "date": data.get("date"),
        "url": data.get("url") or url,
        "source": data.get("sitename") or data.get("hostname"),
        "author": data.get("author"),
        "lang": data.get("language"),
    }
    return meta, "\n\n".join(lines)


def load_html(path: Path, text: str) -> list[Article]:
    meta, body = extract_html(text)
    return [make_article(key=meta.get("url") or str(path), text=body, path=str(path), meta=meta, fallback_title=path.stem)]


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
    if not meta["url"] and _is_url(meta["source"]):
        meta["url"], meta["source"] = meta["source"], None
    key = meta["url"] or (f"{path}#{obj['id']}" if obj.get("id") is not None else f"{path}#{n}")
    return make_article(key=str(key), text=text, path=str(path), meta=meta, fallback_title=f"{path.stem} #{n}")


def load_json_records(path: Path, text: str) -> tuple[list[Article], list[Failure]]:
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
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadArticle(str(path), f"malformed JSON ({exc.msg} at line {exc.lineno})") from exc
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


def load_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[list[Article], list[Failure]]:
    """Load the articles of one file. Raises BadArticle when the whole file is unusable."""
    suffix = path.suffix.lower()
    if suffix not in EXTENSIONS:
        raise BadArticle(str(path), f"unsupported file type {suffix or '(none)'}")
    text = _read_text(path, max_bytes)
    if not text.strip():
        raise BadArticle(str(path), "empty file")
    if suffix in (".json", ".jsonl"):
        return load_json_records(path, text)
    if suffix in (".md", ".markdown"):
        return load_md(path, text), []
    if suffix in (".html", ".htm"):
        return load_html(path, text), []
    return load_txt(path, text), []


def iter_files(roots: Iterable[Path]) -> Iterator[tuple[str, str, os.stat_result | None, float]]:
    """Yield (file, key, stat, when stat was taken) for the article files under each root, sorted by path.

    Walks each root recursively, skipping hidden files and folders. The key is the path relative to the root,
    prefixed by the root's name ("articles/tech/a.txt"), so an articles folder that moves or is mounted
    elsewhere keeps its keys and is not re-embedded. Files are named from the resolved root (resolved once).
    The stat comes with the walk (None when it failed): a reindex compares it with what it recorded.
    """
    for root in roots:
        root = Path(root).resolve()
        if root.is_file():
            yield str(root), root.name, *_stat(str(root))
            continue
        found: list[tuple[str, os.stat_result | None, float]] = []
        _walk(str(root), found)
        prefix = len(os.path.join(str(root), ""))
        for path, st, when in sorted(found, key=lambda f: f[0]):
            yield path, f"{root.name}/{path[prefix:].replace(os.sep, '/')}", st, when


def _stat(path: str) -> tuple[os.stat_result | None, float]:
    when = time.time()
    try:
        return os.stat(path), when
    except OSError:
        return None, when


def _walk(folder: str, out: list) -> None:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if name.startswith("."):
            continue
        try:
            is_dir = entry.is_dir(follow_symlinks=False)  # a link to a folder could loop: not followed
        except OSError:
            continue
        if is_dir:
            _walk(entry.path, out)
        elif name[name.rfind(".") :].lower() in EXTENSIONS and "." in name:
            when = time.time()
            try:
                out.append((entry.path, entry.stat(), when))
            except OSError:
                out.append((entry.path, None, when))


def settled(mtime_ns: int, seen: float) -> bool:
    """True when a file with this mtime, read at `seen`, cannot have changed since without a new mtime.

    A change within the file system's timestamp granularity of the previous one keeps the mtime: a file
    read that soon after its mtime must be read again next time. Whole-second (or millisecond) mtimes mean a
    coarse file system: two seconds of margin; otherwise a twentieth of a second.
    """
    margin = 2.0 if mtime_ns % 1_000_000 == 0 else 0.05
    return mtime_ns / 1e9 < seen - margin


@dataclass(frozen=True)
class KnownFile:
    """What the index recorded about one file: its size and mtime then, and the keys of its articles."""

    size: int
    mtime_ns: int
    keys: tuple[str, ...]


@dataclass
class Scan:
    articles: list[Article]
    failures: list[Failure]
    kept: list[str]  # keys of the articles of files skipped as unchanged (see scan_articles)
    stamps: dict[str, tuple[int, int, float]]  # path -> (size, mtime_ns, when it was read) of every file read


def load_articles(
    roots: Iterable[Path],
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Article], list[Failure]]:
    """Load every article under `roots`; one bad file never stops the others."""
    scan = scan_articles(roots, max_bytes, progress)
    return scan.articles, scan.failures


def scan_articles(
    roots: Iterable[Path],
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Callable[[int, int], None] | None = None,
    known: Mapping[str, KnownFile] | None = None,
) -> Scan:
    """Load the articles under `roots`, except files `known` says are unchanged (same size and mtime).

    Skipped files are not opened: their articles' keys are returned in `kept`. One bad file never stops
    the others. The same key twice (two files with one URL) keeps the first and reports the second.
    `progress` is called with (files done, files total).
    """
    articles: dict[str, Article] = {}
    seen: dict[str, str] = {}  # key -> path, for duplicates among kept and loaded articles
    scan = Scan([], [], [], {})
    files = list(iter_files(roots))
    for done, (name, key, st, read_at) in enumerate(files, start=1):
        if progress:
            progress(done, len(files))
        if st is None:
            scan.failures.append(Failure(name, "cannot be read (it vanished or is not accessible)"))
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        prior = (known or {}).get(name)
        if prior is not None and prior.size == st.st_size and prior.mtime_ns == st.st_mtime_ns and prior.keys:
            for k in prior.keys:
                if k not in seen:
                    seen[k] = name
                    scan.kept.append(k)
            continue
        try:
            loaded, bad = load_file(Path(name), max_bytes)
            loaded = [replace(a, key=key + a.key[len(name) :]) if a.key.startswith(name) else a for a in loaded]
        except BadArticle as exc:
            scan.failures.append(Failure(exc.path, exc.reason))
            continue
        except Exception as exc:  # a library choking on a strange file must not stop the reindex
            log.warning("cannot load %s", name, exc_info=True)
            scan.failures.append(Failure(name, f"cannot be read ({exc.__class__.__name__}: {exc})"[:300]))
            continue
        scan.stamps[name] = (st.st_size, st.st_mtime_ns, read_at)
        scan.failures.extend(bad)
        for article in loaded:
            if article.key in seen:
                scan.failures.append(Failure(article.path or article.key, f"duplicate of {seen[article.key]}"))
                continue
            seen[article.key] = article.path or name
            articles[article.key] = article
    scan.articles = list(articles.values())
    return scan
