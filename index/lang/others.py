"""The languages Newsdesk detects, stems and filters, but knows no further words of (de, es, it, pt, nl)."""

from __future__ import annotations

from index.lang.fr import ELISIONS
from index.lang.vocabulary import Vocabulary

VOCABULARIES = (
    Vocabulary(code="de", snowball="german", stopwords="STOPWORDS_GERMAN", capitalized_nouns=True),
    Vocabulary(code="es", snowball="spanish", stopwords="STOPWORDS_SPANISH"),
    # Italian elides like French (l'anno, d'Italia, c'è): the French list covers those.
    Vocabulary(code="it", snowball="italian", stopwords="STOPWORDS_ITALIAN", elisions=ELISIONS),
    Vocabulary(code="pt", snowball="portuguese", stopwords="STOPWORDS_PORTUGUESE"),
    Vocabulary(code="nl", snowball="dutch", stopwords="STOPWORDS_DUTCH"),
)
