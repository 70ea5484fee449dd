import itertools

import pytest

from index.text.chunking import make_windows, split_sentences


def sentences(text):
    return [text[s:e] for s, e in split_sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("M. Dupont est arrivé. Il a parlé.", ["M. Dupont est arrivé.", "Il a parlé."]),
        ("Le Dr. Martin soigne. Mme. Roy aussi.", ["Le Dr. Martin soigne.", "Mme. Roy aussi."]),
        ("Il a couru 13,5 km. Puis 2.5 km.", ["Il a couru 13,5 km.", "Puis 2.5 km."]),
        ("Il a dit : « Le tir est réussi. » Puis il est parti.", ["Il a dit : « Le tir est réussi. »", "Puis il est parti."]),
        ("« Pourquoi ? » demande-t-elle. Rien.", ["« Pourquoi ? » demande-t-elle.", "Rien."]),
        ("Wait... and see. Then go!", ["Wait... and see.", "Then go!"]),
        ('He said "No." Then he left.', ['He said "No."', "Then he left."]),
        ("Mr. Smith met J. K. Rowling. They talked.", ["Mr. Smith met J. K. Rowling.", "They talked."]),
        ("Pommes, poires, etc. Le marché ouvre.", ["Pommes, poires, etc.", "Le marché ouvre."]),
        ("Titre sans point\n\nSecond paragraphe.", ["Titre sans point", "Second paragraphe."]),
    ],
)
def test_split_sentences(text, expected):
    assert sentences(text) == expected


def test_windows_keep_offsets_and_overlap_one_sentence():
    text = " ".join(f"Sentence number {i} has exactly seven words." for i in range(60))
    windows = make_windows(text, target_words=40, max_words=60)
    assert len(windows) > 5
    for w in windows:
        assert all(w.start <= s < e <= w.end for s, e in w.sentences)
        assert text[w.start : w.end].startswith("Sentence") and text[w.start : w.end].endswith(".")
        assert 35 <= len(text[w.start : w.end].split()) <= 60
    for a, b in itertools.pairwise(windows):
        assert a.sentences[-1] == b.sentences[0]  # one-sentence overlap
    assert windows[-1].end == len(text)


def test_a_huge_unpunctuated_paragraph_is_cut_at_word_boundaries():
    text = " ".join(["mot"] * 5000)
    windows = make_windows(text, target_words=150, max_words=200)
    assert all(len(text[w.start : w.end].split()) <= 200 for w in windows)
    covered = sum(len(text[w.start : w.end].split()) for w in windows)
    assert covered >= 5000
