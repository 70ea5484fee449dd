"""The BM25 analyzer per language: elisions, stopwords and question words, stems, accent folding, prefixes."""

import pytest

from index.lang.analyzer import analyze, analyze_spans, stem_prefixes


def stems(text: str, lang: str | None) -> list[str]:
    return [t for t in analyze(text, lang) if not t.startswith("~")]


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        # Elisions: the elided word goes, the word it leans on stays whole.
        ("L'avion s'est posé à l'aéroport", "fr", ["avion", "pos", "aeroport"]),
        ("presqu'île", "fr", ["ile"]),
        ("presqu'île", "en", ["presqu", "ile"]),  # English has no elisions: "presqu" is a word there
        ("jusqu’à Lyon", "fr", ["lyon"]),  # the typographic apostrophe too
        ("l'anno d'Italia", "it", ["anno", "ital"]),
        # Stopwords and question words carry no topic: only what the question is about is left.
        ("Combien de personnes ont été évacuées ?", "fr", ["person", "evacu"]),
        ("How many people were evacuated?", "en", ["peopl", "evacu"]),
        ("Qu'est-ce qu'il a dit ?", "fr", ["dit"]),
        ("Die Häuser wurden gebaut", "de", ["haus", "gebaut"]),
        # A French stopword is an ordinary word in English, and an unknown language is analysed as English.
        ("Les avions", "en", ["les", "avion"]),
        ("Les avions", None, ["les", "avion"]),
        ("running runs", "xx", ["run", "run"]),
        # Lone letters go, numbers stay.
        ("a b 5 x 42", "en", ["5", "42"]),
    ],
)
def test_kept_words_and_their_stems(text, lang, expected):
    assert stems(text, lang) == expected


@pytest.mark.parametrize(
    ("a", "b", "lang"),
    [
        ("élections", "élection", "fr"),
        ("Élection", "election", "fr"),  # accents and case do not count
        ("planes", "plane", "en"),
        ("Café", "cafe", "en"),
        ("présidentielles", "présidentiel", "fr"),
    ],
)
def test_forms_of_one_word_share_a_stem(a, b, lang):
    assert stems(a, lang) == stems(b, lang) != []


def test_a_stopword_is_dropped_whatever_its_accents():
    assert analyze("Été ÉTÉ ete", "fr") == []  # "été" is a stopword: its folded form is one too
    assert stems("Été", "en") == ["ete"]


def test_the_prefix_term_joins_forms_the_stemmer_keeps_apart():
    (s1, p1), (s2, p2) = stem_prefixes("construction construit", "fr")
    assert s1 != s2 and p1 == p2 == "~constr"
    assert analyze("exiler", "fr") == ["exil", "~exiler"]  # the prefix is the folded word's first letters
    assert analyze("Évacuées", "fr") == ["evacu", "~evacue"]


def test_spans_point_at_the_words_of_the_original_text():
    text = "Le pont ferme, l'été."
    spans = analyze_spans(text, "fr")
    assert [(text[s:e], stem) for s, e, stem in spans] == [("pont", "pont"), ("ferme", "ferm")]
    assert analyze_spans(text, "fr", prefixes=True)[0] == (3, 7, "pont", "~pont")
