"""A file's text: read without following links, within a size limit, and decoded (BOMs, UTF-8, clean cp1252)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from index.errors import BadArticle
from index.text.normalize import looks_binary

# Byte order marks, longest first (the UTF-32 LE mark starts with the UTF-16 LE one).
_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32"),
    (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32"),
    (b"\xfe\xff", "utf-16-be", "UTF-16"),
    (b"\xff\xfe", "utf-16-le", "UTF-16"),
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


def read_text(path: Path, max_bytes: int) -> str:
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
