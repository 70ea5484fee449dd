"""Sentence splitting that knows French and English, and passages of whole sentences with offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.lang import words_of

# Words that end with a period without ending a sentence (compared lower-cased, without the period), and
# those that only do before a number: "No. 5", "p. 12", "art. 49" (but "said no. Then").
ABBREVIATIONS = frozenset(words_of("abbreviations"))
NUMBER_ABBREVIATIONS = frozenset(words_of("number_abbreviations"))
_CLOSERS = "\"'»”’)]"
_OPENERS = "\"«“‘([¿¡—–-"
# Sentence-final punctuation, then closing quotes or brackets (French puts a space before »).
_BOUNDARY = re.compile(r"(?:[.!?]+|…)(?:[ \u00a0\u202f]?[" + re.escape(_CLOSERS) + r"])*(?=\s)")
_WORD_BEFORE = re.compile(r"([\w.'-]+)$")
_PARAGRAPH = re.compile(r"\n\s*\n")
_WORDS = re.compile(r"\S+")


def _is_abbreviation(text: str, dot: int) -> bool:
    """Return True when the period at `dot` closes an abbreviation or an initial, not a sentence."""
    m = _WORD_BEFORE.search(text, 0, dot)
    if not m:
        return False
    word = m.group(1)
    last = word.rsplit(".", 1)[-1].rsplit("-", 1)[-1]
    if last.lower() in ABBREVIATIONS:
        return True
    if last.lower() in NUMBER_ABBREVIATIONS:
        nxt = text[dot + 1 : dot + 3].strip()
        return bool(nxt) and nxt[0].isdigit()
    # Initials and dotted acronyms: "J.", "J.-C.", "U.S.", "p.ex."
    return (len(last) == 1 and last.isalpha()) or "." in word.strip(".")


def _starts_sentence(text: str, pos: int) -> bool:
    """Return True when the text at `pos` (after whitespace) can open a sentence."""
    if pos >= len(text):
        return True
    ch = text[pos]
    if ch in _OPENERS:
        return True
    return ch.isupper() or ch.isdigit()


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Return (start, end) character offsets of the sentences of text[start:end], stripped of whitespace."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    # Paragraph breaks always end a sentence.
    para_start = start
    for m in [*list(_PARAGRAPH.finditer(text, start, end)), None]:
        para_end = m.start() if m else end
        spans.extend(_split_paragraph(text, para_start, para_end))
        if m:
            para_start = m.end()
    return spans


def _split_paragraph(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    cursor = start
    for m in _BOUNDARY.finditer(text, start, end):
        stop = m.end()
        nxt = stop
        while nxt < end and text[nxt].isspace():
            nxt += 1
        punct = m.group(0)
        if not _starts_sentence(text, nxt):
            continue
        if punct.startswith(".") and not punct.startswith("..") and _is_abbreviation(text, m.start()):
            # "M. Dupont", "etc. Puis" : an abbreviation before a capital is ambiguous; keep the sentence
            # unless the abbreviation is "etc" and the next word starts a new clause.
            word = _WORD_BEFORE.search(text, 0, m.start())
            if not (word and word.group(1).lower() == "etc" and text[nxt : nxt + 1].isupper()):
                continue
        spans.append(_strip(text, cursor, stop))
        cursor = nxt
    if cursor < end:
        spans.append(_strip(text, cursor, end))
    return [s for s in spans if s[1] > s[0]]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _cap_sentence(text: str, span: tuple[int, int], max_words: int) -> list[tuple[int, int]]:
    """Split a sentence longer than `max_words` words at word boundaries (hostile or unpunctuated text)."""
    words = list(_WORDS.finditer(text, span[0], span[1]))
    if len(words) <= max_words:
        return [span]
    return [
        (words[i].start(), words[min(i + max_words, len(words)) - 1].end()) for i in range(0, len(words), max_words)
    ]


@dataclass(frozen=True)
class Window:
    """A passage before it has ids: offsets into the article text and its sentences' offsets."""

    start: int
    end: int
    sentences: tuple[tuple[int, int], ...]


def make_windows(
    text: str, target_words: int = 150, max_words: int = 200, overlap: int = 1
) -> list[Window]:
    """Cut `text` into windows of whole sentences of about `target_words` words, overlapping by `overlap`.

    A window closes once it reaches `target_words`, or before a sentence that would take it past
    `max_words`. Consecutive windows share their last/first `overlap` sentences.
    """
    sentences: list[tuple[int, int]] = []
    for span in split_sentences(text):
        sentences.extend(_cap_sentence(text, span, max_words))
    if not sentences:
        return []
    counts = [len(text[s:e].split()) for s, e in sentences]
    windows: list[Window] = []
    i = 0
    while i < len(sentences):
        j, words = i, 0
        while j < len(sentences) and (j == i or words + counts[j] <= max_words):
            words += counts[j]
            j += 1
            if words >= target_words:
                break
        windows.append(Window(sentences[i][0], sentences[j - 1][1], tuple(sentences[i:j])))
        if j >= len(sentences):
            break
        i = max(j - overlap, i + 1)
    return windows


def whole_text_window(text: str) -> Window:
    """One window holding the whole text (evaluation sets where each passage is one unit)."""
    sentences = split_sentences(text) or [(0, len(text))]
    return Window(sentences[0][0], sentences[-1][1], tuple(sentences))

