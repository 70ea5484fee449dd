"""The lexical analyzer behind BM25: elisions, stopwords, Snowball stemming, accent folding, per language."""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import Stemmer
from bm25s import stopwords as bm25_stopwords

from index.text.normalize import fold

ANALYZER_VERSION = 3

_STEMMERS = {"fr": "french", "en": "english", "de": "german", "es": "spanish", "it": "italian",
             "pt": "portuguese", "nl": "dutch"}  # fmt: skip
_STOPWORDS = {
    "fr": bm25_stopwords.STOPWORDS_FRENCH,
    "en": bm25_stopwords.STOPWORDS_EN_PLUS,
    "de": bm25_stopwords.STOPWORDS_GERMAN,
    "es": bm25_stopwords.STOPWORDS_SPANISH,
    "it": bm25_stopwords.STOPWORDS_ITALIAN,
    "pt": bm25_stopwords.STOPWORDS_PORTUGUESE,
    "nl": bm25_stopwords.STOPWORDS_DUTCH,
}
# Question words carry the question's form, not its topic: they are not looked up in the articles.
_QUESTION_WORDS = {
    "fr": "combien comment pourquoi quand quel quelle quels quelles lequel laquelle lesquels lesquelles quoi qui "
    "que où ou est-ce estce dont fait faire a-t-il a-t-elle t il elle ils elles",
    "en": "how many much what which who whom whose when where why did does do is are was were",
}
# French (and Italian) elided articles and pronouns: l'avion -> avion, qu'il -> il, jusqu'à -> à.
_ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu|presqu|quelqu)['’]", re.IGNORECASE)
PREFIX_CHARS = 6
PREFIX_MARK = "~"  # keeps prefix terms apart from stems in the BM25 vocabulary
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_lock = threading.Lock()


@lru_cache(maxsize=16)
def _stopwords(lang: str) -> frozenset[str]:
    words = set(_STOPWORDS.get(lang, ())) | set(_QUESTION_WORDS.get(lang, "").split())
    return frozenset(fold(w) for w in words)


@lru_cache(maxsize=16)
def _stemmer(lang: str):
    return Stemmer.Stemmer(_STEMMERS.get(lang, "english"))


@lru_cache(maxsize=262_144)
def _term(word: str, lang: str) -> str | None:
    """The folded stem of one lower-case word, or None for a stopword or a lone letter (cached: hot path)."""
    if (len(word) < 2 and not word.isdigit()) or fold(word) in _stopwords(lang):
        return None
    with _lock:  # PyStemmer objects are not thread-safe
        stem = _stemmer(lang).stemWord(word)
    return fold(stem)


def words(text: str, lang: str | None) -> list[str]:
    """Split into lower-case words after removing French elisions (kept accents, for the stemmer)."""
    if lang in (None, "fr", "it"):
        text = _ELISION.sub(" ", text)
    return _TOKEN.findall(text.lower())


@lru_cache(maxsize=262_144)
def _terms(word: str, lang: str) -> tuple[str, ...]:
    """(stem, prefix term) of one lower-case word, or () for a stopword."""
    stem = _term(word, lang)
    if stem is None:
        return ()
    return stem, PREFIX_MARK + fold(word)[:PREFIX_CHARS]


def analyze(text: str, lang: str | None) -> list[str]:
    """Return the BM25 terms of `text`: each kept word's stem, and its first letters as a looser second term.

    The prefix matches forms the stemmer keeps apart ("exiler"/"exila", "construit"/"construction"): on the
    PIAF and XQuAD dev sets it adds 1-2 points of R@1 to BM25 over the stems alone.
    """
    lang = lang if lang in _STEMMERS else "en"
    return [t for w in words(text, lang) for t in _terms(w, lang)]


def stem_prefixes(text: str, lang: str | None) -> list[tuple[str, str]]:
    """Return (stem, prefix term) for each kept word of `text`, in order."""
    lang = lang if lang in _STEMMERS else "en"
    return [(t[0], t[1]) for w in words(text, lang) if (t := _terms(w, lang))]


def analyze_spans(text: str, lang: str | None, *, prefixes: bool = False) -> list[tuple]:
    """Return (start, end, stem) for each kept word of `text`, for highlighting question terms in a quote;
    (start, end, stem, prefix term) with `prefixes`."""
    lang = lang if lang in _STEMMERS else "en"
    out = []
    for m in _TOKEN.finditer(text):
        t = _terms(m.group(0).lower(), lang)
        if t:
            out.append((m.start(), m.end(), *t) if prefixes else (m.start(), m.end(), t[0]))
    return out


@lru_cache(maxsize=16_384)
def term_set(text: str, lang: str | None) -> frozenset[str]:
    """The set of BM25 terms (stems and prefixes) of `text`; cached: the same sentences serve many questions."""
    return frozenset(analyze(text, lang))
