"""Text normalization shared by every loader, and accent folding for matching."""

from __future__ import annotations

import re
import unicodedata

# Soft hyphen, zero-width space/joiners, word joiner, BOM, and the invisible Mongolian vowel separator.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff\u180e"), None)
# Bidi controls: a quote holding them can display differently from what it says (a right-to-left override
# reverses what follows). Removed: the marks (LRM, RLM, ALM), the embeddings and overrides (LRE, RLE, PDF,
# LRO, RLO) and the isolates (LRI, RLI, FSI, PDI). Also removed, as invisible and meaningless in news text: the
# invisible operators (U+2061-2064), the deprecated format controls (U+206A-206F), the interlinear annotation
# marks (U+FFF9-FFFB) and the tag characters (U+E0000-E007F, which can hide ASCII text in a string).
_INVISIBLE.update(dict.fromkeys(map(ord, "\u200e\u200f\u061c"), None))
_INVISIBLE.update(dict.fromkeys(range(0x202A, 0x202F), None))
_INVISIBLE.update(dict.fromkeys(range(0x2066, 0x206A), None))
_INVISIBLE.update(dict.fromkeys(range(0x2061, 0x2065), None))
_INVISIBLE.update(dict.fromkeys(range(0x206A, 0x2070), None))
_INVISIBLE.update(dict.fromkeys(range(0xFFF9, 0xFFFC), None))
_INVISIBLE.update(dict.fromkeys(range(0xE0000, 0xE0080), None))
_SPACES = re.compile(r"[^\S\n]+")  # any whitespace except newline
# C0 controls but tab and newline (carriage returns are newlines by then), DEL, and the C1 controls
# U+0080-U+009F (U+009B is a one-character CSI: it starts a terminal escape sequence like ESC [): a space each.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def normalize_text(text: str) -> str:
    """Return `text` in NFC, without invisible or control characters, whitespace collapsed, paragraphs kept.

    Paragraphs are separated by exactly one blank line; lines inside a paragraph are joined with a space.
    Invisible characters (soft hyphen, zero-width, bidi controls: see `_INVISIBLE`) are removed; control
    characters (C0 but newline, DEL, C1) become a space, so no terminal escape sequence survives.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE)
    text = _CONTROL.sub(" ", text).replace("\u00a0", " ").replace("\u202f", " ").replace("\u2009", " ")
    text = unicodedata.normalize("NFC", text)  # after the removals: a mark left next to its letter is composed
    paragraphs = []
    for block in _BLANK_LINES.split(text):
        para = _SPACES.sub(" ", block.replace("\n", " ")).strip()
        if para:
            paragraphs.append(para)
    return "\n\n".join(paragraphs)


def normalize_line(value: object) -> str:
    """A metadata value (title, source, author, ...) as one clean line: `normalize_text` without paragraphs.

    Every line break, control and invisible character is gone, whitespace is collapsed to single spaces.
    """
    return normalize_text(str(value)).replace("\n\n", " ")


def fold(text: str) -> str:
    """Lower-case and strip accents, for accent-insensitive comparisons ("Été" -> "ete")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def looks_binary(data: bytes | str) -> bool:
    """Return True for bytes (or decoded text) that are clearly not text: NULs or many control characters."""
    sample = data[:4096]
    if not sample:
        return False
    codes = sample if isinstance(sample, bytes) else [ord(c) for c in sample]
    if 0 in codes:
        return True
    controls = sum(1 for b in codes if b < 9 or 13 < b < 32)
    return controls / len(sample) > 0.05
