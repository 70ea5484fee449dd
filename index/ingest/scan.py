"""The folder scan: every article file under the roots, with its key and stat, and why a link is not read."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from index.ingest import EXTENSIONS


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
