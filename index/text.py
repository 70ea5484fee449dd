"""Text normalization shared by every loader, and accent folding for matching."""

from __future__ import annotations

import re
import unicodedata

# Soft hyphen, zero-width space/joiners, word joiner, BOM, and the invisible Mongolian vowel separator.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff\u180e"), None)
_SPACES = re.compile(r"[^\S\n]+")  # any whitespace except newline
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def normalize_text(text: str) -> str:
    """Return `text` in NFC, without invisible characters, with whitespace collapsed and paragraphs kept.

    Paragraphs are separated by exactly one blank line; lines inside a paragraph are joined with a space.
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.translate(_INVISIBLE)
    text = _CONTROL.sub(" ", text).replace("\u00a0", " ").replace("\u202f", " ").replace("\u2009", " ")
    paragraphs = []
    for block in _BLANK_LINES.split(text):
        para = _SPACES.sub(" ", block.replace("\n", " ")).strip()
        if para:
            paragraphs.append(para)
    return "\n\n".join(paragraphs)


def fold(text: str) -> str:
    """Lower-case and strip accents, for accent-insensitive comparisons ("Été" -> "ete")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def looks_binary(data: bytes) -> bool:
    """Return True for bytes that are clearly not text (NUL bytes or many control characters)."""
    sample = data[:4096]
    if b"\x00" in sample:
        return True
    if not sample:
        return False
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return controls / len(sample) > 0.05
