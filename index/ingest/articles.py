"""Article loaders: .txt (with header), .md (front matter), .html, .json/.jsonl; one place per format.

Every loader returns normalized `Article` records or raises `BadArticle` with a reason a person can act on.
"""

from __future__ import annotations

import contextlib
import errno
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

from index.errors import BadArticle
from index.lang import detect_language
from index.records import Article, Failure
from index.sources.urls import clean_url
from index.text.dates import parse_date
from index.text.normalize import looks_binary, normalize_line, normalize_text

log = logging.getLogger(__name__)

EXTENSIONS = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl")
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
META_KEYS = ("title", "date", "url", "source", "author", "lang")
_HEADER_LINE = re.compile(r"^\s*([A-Za-z_]+)\s*:\s*(.*?)\s*$")
_DATE_PREFIX = re.compile(r"^\s*date\s*:?\s+(\d{4}-\d{2}(?:-\d{2})?)\b[\s.:,-]*", re.IGNORECASE)
_FIRST_SENTENCE = re.compile(r"^(.{10,200}?[.!?…])(?:\s|$)")
_TEXT_KEYS = ("text", "content", "body", "article", "maintext")
_DATE_KEYS = ("date", "published", "published_at", "pubdate", "datePublished", "created")
_LANG = re.compile(r"^[a-z]{2}$")
TOO_DEEP = "could not be parsed (too deeply nested)"
MARKDOWN_MAX_NESTING = 100  # markdown-it drops what is nested deeper (its CommonMark preset says 20)
# Byte order marks, longest first (the UTF-32 LE mark starts with the UTF-16 LE one).
_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32"),
    (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32"),
    (b"\xfe\xff", "utf-16-be", "UTF-16"),
    (b"\xff\xfe", "utf-16-le", "UTF-16"),
)


def content_hash(*parts: str | None) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update((part or "").encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()[:32]


def _meta_line(value: object) -> str | None:
    """One metadata value as a clean single line (see normalize_line), or None when there is nothing left.

    A list (YAML `author: [A, B]`) is joined with commas; a mapping is not a value and gives None.
    """
    if value is None or isinstance(value, dict):
        return None
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value if v is not None and not isinstance(v, dict | list | tuple))
    return normalize_line(value) or None


def _meta_url(value: object, where: str) -> str | None:
    """The article's link through `clean_url`; an invalid one is dropped (the article is kept) with a log line."""
    if value is None or value == "":
        return None
    url = clean_url(value) if isinstance(value, str) else None
    if url is None:
        log.info("%r: link %r dropped: not a valid http(s) URL", where, str(value)[:300])
    return url


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
    # Metadata is normalized like the text (no control, bidi or invisible character, one line each), and the
    # link goes through clean_url: nothing from a file reaches a terminal or a Discord message unchecked.
    title = (_meta_line(meta.get("title")) or "")[:300].rstrip()
    title = title or _title_from(body, normalize_line(fallback_title) or "untitled")
    url = _meta_url(meta.get("url"), path or key)
    source = _meta_line(meta.get("source"))
    if source and "://" in source:  # a link given as the source: the link if there is none, never a name
        source_url = _meta_url(meta.get("source"), path or key)
        url, source = url or source_url, None
    if source is None and url:
        source = urlparse(url).netloc.removeprefix("www.")
    raw_date = meta.get("date")
    date = parse_date(normalize_line(raw_date) if isinstance(raw_date, str) else raw_date) or dateline(body)
    lang = (_meta_line(meta.get("lang")) or "").lower()[:2]
    if not _LANG.match(lang):
        lang = detect_language(f"{title}\n{body}")
    author = _meta_line(meta.get("author"))
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


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file, never through a link (a file swapped for a link after the walk)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)  # a FIFO cannot block
    flags |= getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK) and os.path.islink(path):
            raise BadArticle(str(path), "a link: links to files are not followed") from exc
        raise BadArticle(str(path), f"cannot read: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise BadArticle(str(path), "not a regular file")
        if st.st_size > max_bytes:
            raise BadArticle(str(path), f"too large ({st.st_size:,} bytes; the limit is {max_bytes:,})")
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew since
        raise BadArticle(str(path), f"too large (over {max_bytes:,} bytes, the limit)")
    if not data:
        raise BadArticle(str(path), "empty file")
    return data


def _read_text(path: Path, max_bytes: int) -> str:
    """The file's text: UTF-16 or UTF-32 with a byte order mark, UTF-8 (a BOM is dropped), else clean cp1252."""
    data = _read_bytes(path, max_bytes)
    # The byte order mark first: UTF-16 and UTF-32 text is full of NUL bytes, which the binary test refuses.
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError as exc:
                raise BadArticle(str(path), f"not valid {name} text (byte {exc.start + len(bom)})") from exc
            if looks_binary(text):
                raise BadArticle(str(path), "binary file, not text")
            return text
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark: UTF-8 it is, no cp1252 fallback
        try:
            text = data[3:].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadArticle(str(path), f"not valid UTF-8 text (byte {exc.start + 3})") from exc
        if looks_binary(text):
            raise BadArticle(str(path), "binary file, not text")
        return text
    if looks_binary(data):
        raise BadArticle(str(path), "binary file, not text")
    try:
        return data.decode("utf-8")
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
    except RecursionError:
        raise BadArticle(str(path), f"front matter {TOO_DEEP}") from None
    if not isinstance(meta, dict):
        raise BadArticle(str(path), "front matter is not a mapping of keys to values")
    return {str(k).lower(): v for k, v in meta.items()}, text[3 + end.end() :]


def markdown_to_text(source: str) -> str:
    """Reduce Markdown to plain text: one paragraph per block, inline markup and links reduced to their text."""
    return _markdown(source)[0]


def _markdown(source: str) -> tuple[str, bool]:
    """(plain text, whether some of it was nested too deeply for the parser, which then drops it)."""
    from markdown_it import MarkdownIt

    blocks: list[str] = []
    tokens = MarkdownIt("commonmark", {"maxNesting": MARKDOWN_MAX_NESTING}).parse(source)
    too_deep = any(token.level >= MARKDOWN_MAX_NESTING - 1 for token in tokens)
    for token in tokens:
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
    return "\n\n".join(b for b in blocks if b.strip()), too_deep


def load_md(path: Path, text: str) -> list[Article]:
    meta, body = _front_matter(text, path)
    plain, too_deep = _markdown(body)
    if too_deep:
        if not normalize_text(plain):
            raise BadArticle(str(path), TOO_DEEP)
        log.info("%r: text nested more than %d levels deep is left out", str(path), MARKDOWN_MAX_NESTING)
    return [make_article(key=str(path), text=plain, path=str(path), meta=meta, fallback_title=path.stem)]


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
    page_url = data.get("url") or url
    source = data.get("sitename") or None
    if source and source in _hosts(page_url):
        source = None  # trafilatura's fallback, the link's host: make_article takes it from the cleaned link
    meta = {
        "title": title,
        "date": data.get("date"),
        "url": page_url,
        "source": source,
        "author": data.get("author"),
        "lang": data.get("language"),
    }
    return meta, "\n\n".join(lines)


def html_too_deep(html: str) -> bool:
    """True when the HTML parser gives up on this page for its depth (libxml2 stops at 256 nested elements).

    trafilatura parses with lxml: what comes after that point is silently lost, so a page whose text sits
    deeper reads as a page without text. One more parse, without building anything from the tree: fast.
    """
    from lxml import etree

    parser = etree.HTMLParser(collect_ids=False, no_network=True, encoding="utf-8")
    with contextlib.suppress(etree.LxmlError, ValueError):  # what matters is the parser's error log
        etree.fromstring(html.encode("utf-8", "replace"), parser)
    return any("depth" in (e.message or "").lower() for e in parser.error_log)


def _hosts(url: str | None) -> set[str]:
    """The ways a page's host can be spelled from its link (with user info and port, or bare)."""
    try:
        parts = urlparse(url or "")
        names = {parts.netloc, parts.netloc.rpartition("@")[2], parts.hostname or ""}
    except ValueError:
        return set()
    return {n for n in names | {n.removeprefix("www.") for n in names} if n}


def load_html(path: Path, text: str) -> list[Article]:
    meta, body = extract_html(text)
    if html_too_deep(text):
        if not normalize_text(body):
            raise BadArticle(str(path), TOO_DEEP)
        log.info("%r: only the start of the page is read (it nests elements too deeply for the parser)", str(path))
    article = make_article(key=str(path), text=body, path=str(path), meta=meta, fallback_title=path.stem)
    return [replace(article, key=article.url) if article.url else article]


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


def load_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[list[Article], list[Failure]]:
    """Load the articles of one file. Raises BadArticle when the whole file is unusable."""
    suffix = path.suffix.lower()
    if suffix not in EXTENSIONS:
        raise BadArticle(str(path), f"unsupported file type {suffix or '(none)'}")
    text = _read_text(path, max_bytes)
    if not text.strip():
        raise BadArticle(str(path), "empty file")
    try:
        if suffix in (".json", ".jsonl"):
            return load_json_records(path, text)
        if suffix in (".md", ".markdown"):
            return load_md(path, text), []
        if suffix in (".html", ".htm"):
            return load_html(path, text), []
        return load_txt(path, text), []
    except RecursionError:  # any parser recursing on a deeply nested file: one line, not a traceback
        raise BadArticle(str(path), TOO_DEEP) from None


def iter_files(roots: Iterable[Path]) -> Iterator[tuple[str, str, os.stat_result | None, float, str | None]]:
    """Yield (file, key, stat, when stat was taken, why it is skipped) for the article files under each root.

    Walks each root recursively, sorted by path, skipping hidden files and folders. The key is the path
    relative to the root, prefixed by the root's name ("articles/tech/a.txt"), so an articles folder that
    moves or is mounted elsewhere keeps its keys and is not re-embedded. Files are named from the resolved root
    (resolved once). The stat comes with the walk (None when it failed): a reindex compares it with what it
    recorded. Links are never followed: a link to a folder is passed over (it could loop), a link to a file
    comes with the reason it is skipped (None for every other file), see `_link_reason`.
    """
    for root in roots:
        root = Path(root).resolve()
        if root.is_file():
            yield str(root), root.name, *_stat(str(root)), None
            continue
        found: list[tuple[str, os.stat_result | None, float, str | None]] = []
        _walk(str(root), str(root), found)
        prefix = len(os.path.join(str(root), ""))
        for path, st, when, skip in sorted(found, key=lambda f: f[0]):
            yield path, f"{root.name}/{path[prefix:].replace(os.sep, '/')}", st, when, skip


def _stat(path: str) -> tuple[os.stat_result | None, float]:
    when = time.time()
    try:
        return os.stat(path), when
    except OSError:
        return None, when


def _is_article_name(name: str) -> bool:
    return "." in name and not name.startswith(".") and name[name.rfind(".") :].lower() in EXTENSIONS


def _link_reason(link: str, root: str) -> str:
    """Why the link `link` (found under `root`) is not read: links to files are never followed.

    A link whose real path (every link on the way resolved) is outside the articles folder would let the
    bot read and quote any file on the machine. A link that stays inside would index one file twice: the
    file is indexed once, under its own name, when the walk reaches it.
    """
    real = os.path.realpath(link)
    try:
        inside = os.path.commonpath([real, root]) == root
    except ValueError:  # another drive (Windows)
        inside = False
    if not inside:
        return "a link to a file outside the articles folder: not read"
    rel = os.path.relpath(real, root)
    shown = f"{os.path.basename(root)}/{rel.replace(os.sep, '/')}"
    parts = rel.split(os.sep)
    if not os.path.isfile(real):
        return f"a link to {shown}, which is not a file: not read"
    if any(p.startswith(".") for p in parts) or not _is_article_name(parts[-1]):
        return f"a link to {shown}, which is not an article file: not read"
    return f"a link to {shown}: not read twice (that file is indexed under its own name)"


def _walk(folder: str, root: str, out: list) -> None:
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
            is_link = entry.is_symlink()
        except OSError:
            continue
        if is_dir:
            _walk(entry.path, root, out)
        elif _is_article_name(name):
            when = time.time()
            if is_link:
                out.append((entry.path, None, when, _link_reason(entry.path, root)))
                continue
            try:
                out.append((entry.path, entry.stat(follow_symlinks=False), when, None))
            except OSError:
                out.append((entry.path, None, when, None))


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
    for done, (name, key, st, read_at, skip) in enumerate(files, start=1):
        if progress:
            progress(done, len(files))
        if skip is not None:
            scan.failures.append(Failure(name, skip))
            continue
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
