"""Language detection for articles and questions (French and English first; others through py3langid)."""

from __future__ import annotations

import re
import threading
from functools import lru_cache

SUPPORTED = ("fr", "en", "de", "es", "it", "pt", "nl")

# Function words that settle short texts, where character n-gram models guess poorly.
_FR = set(
    ["le", "la", "les", "un", "une", "des", "du", "de", "au", "aux", "et", "est", "sont", "qui", "que", "quoi", "quel", "quelle", "quels", "quelles", "combien", "quand", "comment", "pourquoi", "ou", "où", "dans", "sur", "pour", "par", "avec", "sans", "ce", "cette", "ces", "il", "elle", "ils", "elles", "nous", "vous", "je", "a", "été", "son", "sa", "ses", "leur", "leurs", "ne", "pas", "plus", "se", "qu", "l", "d"]
)
_EN = set(
    ["the", "a", "an", "of", "and", "is", "are", "was", "were", "who", "what", "which", "when", "where", "why", "how", "many", "much", "in", "on", "for", "by", "with", "without", "this", "that", "these", "those", "it", "he", "she", "they", "we", "you", "i", "has", "have", "had", "did", "does", "do", "not", "be", "been", "to", "from"]
)
_WORD = re.compile(r"[a-zàâäçéèêëîïôöùûüÿœæ]+")
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(SUPPORTED))
    return ident


def detect_language(text: str, default: str = "en") -> str:
    """Return an ISO 639-1 code for `text`; function words decide short French/English texts."""
    words = _WORD.findall(text[:2000].lower().replace("’", "'").replace("'", " "))
    fr = sum(w in _FR for w in words)
    en = sum(w in _EN for w in words)
    if len(words) < 40 and fr != en and max(fr, en) >= 1:
        return "fr" if fr > en else "en"
    if not words:
        return default
    with _lock:
        lang, prob = _identifier().classify(text[:5000])
    if prob < 0.5:
        return "fr" if fr > en else ("en" if en > fr else default)
    return lang


