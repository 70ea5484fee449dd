"""What was fetched into an articles folder: the state file, its lock, and writing the article files.

Every fetched article becomes `articles_dir/web/<host>/<slug>-<hash of canonical url>.txt`, in the `.txt`
format of `index.ingest.txt`, written atomically; `articles_dir/.newsdesk-sources.json` remembers the
validators of every URL and which file holds which article (see index.sources.feeds for its layout).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from index.files import file_lock, utcnow
from index.ingest import txt
from index.ingest.record import content_hash
from index.sources.http import Fetched
from index.text.normalize import normalize_text

log = logging.getLogger(__name__)

STATE_FILE = ".newsdesk-sources.json"
LOCK_FILE = ".newsdesk-sources.lock"
WEB_DIR = "web"


def _slug(canonical: str, title: str | None) -> str:
    def clean(s: str) -> str:
        s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii").lower()
        return re.sub(r"[^a-z0-9]+", "-", s).strip("-")[:60].strip("-")

    segment = unquote(urlsplit(canonical).path.rstrip("/").rsplit("/", 1)[-1])
    segment = re.sub(r"\.(?:s?html?|php|aspx?|jsp)$", "", segment, flags=re.IGNORECASE)
    slug = clean(segment)
    if sum(c.isalpha() for c in slug) < 3:
        slug = clean(title or "") or slug
    return slug or "article"


def article_path(canonical: str, title: str | None = None) -> str:
    """The file (relative to the articles folder) for an article: web/<host>/<slug>-<url hash>.txt."""
    host = (urlsplit(canonical).hostname or "unknown").lower()
    host = re.sub(r"[^a-z0-9.-]+", "_", host).strip(".") or "unknown"
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:10]
    return f"{WEB_DIR}/{host}/{_slug(canonical, title)}-{digest}.txt"


def _sha(text: str) -> str:
    """The hash of a written file's text, to tell whether a new version differs from it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` via a hidden temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def locked(articles_dir: Path) -> Iterator[None]:
    """Serialize state updates for one articles folder: across threads, and across processes where possible."""
    articles_dir.mkdir(parents=True, exist_ok=True)
    with file_lock(articles_dir / LOCK_FILE):
        yield


@dataclass
class SourceState:
    """The state file's three tables (see index.sources.feeds): per URL, per canonical URL, per text hash."""

    urls: dict[str, dict] = field(default_factory=dict)
    canonical: dict[str, dict] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, articles_dir: Path) -> SourceState:
        path = articles_dir / STATE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable %s (%s): every source will be fetched again", path, exc)
            return cls()
        if not isinstance(data, dict):
            return cls()
        return cls(
            urls=dict(data.get("urls") or {}),
            canonical=dict(data.get("canonical") or {}),
            hashes=dict(data.get("hashes") or {}),
        )

    def save(self, articles_dir: Path) -> None:
        data = {"version": 1, "urls": self.urls, "canonical": self.canonical, "hashes": self.hashes}
        atomic_write(articles_dir / STATE_FILE, json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False))

    def validators(self, url: str, articles_dir: Path, kind: str) -> tuple[str | None, str | None]:
        """ETag and Last-Modified to send for `url`; none for a page whose file is gone (fetch it again)."""
        entry = self.urls.get(url)
        if not entry:
            return None, None
        if kind == "page":
            art = self.canonical.get(entry.get("canonical") or "")
            if not art or not (articles_dir / art["file"]).is_file():
                return None, None
        return entry.get("etag"), entry.get("last_modified")

    def remember(self, url: str, kind: str, fetched: Fetched | None, canonical: str | None = None) -> None:
        old = self.urls.get(url, {})
        # A 304 may omit the validators: the ones that earned it stay valid.
        keep = old if fetched is not None and fetched.not_modified else {}
        self.urls[url] = {
            "kind": kind,
            "etag": (fetched.etag if fetched else None) or keep.get("etag"),
            "last_modified": (fetched.last_modified if fetched else None) or keep.get("last_modified"),
            "canonical": canonical if canonical is not None else old.get("canonical"),
            "checked": utcnow(),
        }


@dataclass
class FetchedArticle:
    """An article ready to be written (or a 304 / a failure), not yet compared with the folder."""

    requested: str  # the cleaned URL that was requested
    status: str  # "ok", "not_modified", "error", "refused"
    fetched: Fetched | None = None
    canonical: str | None = None
    meta: dict = field(default_factory=dict)
    text: str = ""
    error: str | None = None
    from_entry: bool = False


class Writer:
    """Compares fetched articles with the folder and state; writes what is new or changed. Holds the lock."""

    def __init__(self, articles_dir: Path, state: SourceState):
        self.dir = articles_dir
        self.state = state
        self.seen: set[str] = set()  # canonical URLs handled in this run

    def commit(self, art: FetchedArticle) -> tuple[str, Path | None]:
        """Outcome ("new", "updated", "unchanged", "duplicate") and the article's file."""
        state = self.state
        if art.status == "not_modified":
            state.remember(art.requested, "page", art.fetched)
            canonical = state.urls[art.requested].get("canonical")
            entry = state.canonical.get(canonical or "")
            path = self.dir / entry["file"] if entry else None
            if canonical in self.seen:
                return "duplicate", path
            self.seen.add(canonical or art.requested)
            return "unchanged", path
        assert art.canonical is not None
        canonical = art.canonical
        if not art.from_entry:  # an entry's stand-in text carries no validators worth keeping
            state.remember(art.requested, "page", art.fetched, canonical)
        else:
            state.urls.pop(art.requested, None)
        entry = state.canonical.get(canonical)
        if canonical in self.seen:
            return "duplicate", self.dir / entry["file"] if entry else None
        self.seen.add(canonical)
        text_hash = content_hash(normalize_text(art.text))
        if entry is None:
            other = state.hashes.get(text_hash)
            if other and (self.dir / other).is_file():
                return "duplicate", self.dir / other  # the same story under another URL
        body = txt.render(art.meta, art.text)
        body_hash = _sha(body)
        if entry is not None:
            path = self.dir / entry["file"]
            if entry.get("hash") == body_hash and path.is_file():
                return "unchanged", path
            outcome = "updated" if path.is_file() else "new"
        else:
            rel = article_path(canonical, art.meta.get("title"))
            path = self.dir / rel
            entry = {"file": rel}
            outcome = "new"
        atomic_write(path, body)
        entry["hash"] = body_hash
        state.canonical[canonical] = entry
        for h in [h for h, f in state.hashes.items() if f == entry["file"]]:
            del state.hashes[h]
        state.hashes[text_hash] = entry["file"]
        return outcome, path
