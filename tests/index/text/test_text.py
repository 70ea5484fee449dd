import pytest

from index.text.dates import in_range, parse_date, question_dates
from index.text.normalize import fold, looks_binary, normalize_line, normalize_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("pre\u00admier étage", "premier étage"),  # soft hyphen inside a word
        ("zero\u200bwidth\u200d join\ufeff", "zerowidth join"),
        ("e\u0301te\u0301", "été"),  # NFD -> NFC
        ("  many   spaces\tand\ttabs ", "many spaces and tabs"),
        ("line one\nline two\n\n\n\nnext paragraph", "line one line two\n\nnext paragraph"),
        ("windows\r\nbreaks\r\n\r\npara", "windows breaks\n\npara"),
        ("non\u00a0breaking", "non breaking"),
        ("", ""),
    ],
)
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


def test_fold_ignores_case_and_accents():
    assert fold("Évènement À Noël") == "evenement a noel"


def test_binary_detection():
    assert looks_binary(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    assert not looks_binary("Un texte français ordinaire.".encode())


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2025-05", "2025-05"),
        ("2025-05-12", "2025-05-12"),
        ("2025-05-12T10:00:00Z", "2025-05-12"),
        ("12 mai 2025", "2025-05-12"),
        ("1er juillet 2012", "2012-07-01"),
        ("May 12, 2025", "2025-05-12"),
        ("Mon, 12 May 2025 10:00:00 GMT", "2025-05-12"),
        ("12/05/2025", "2025-05-12"),
        ("2012", "2012"),
        ("2025-02-30", None),
        ("not a date", None),
        (None, None),
    ],
)
def test_parse_date(value, iso):
    assert parse_date(value) == iso


def test_partial_dates_overlap_ranges():
    assert in_range("2025-05", "2025-05-10", "2025-05-20")
    assert not in_range("2025-04", "2025-05-01", None)
    assert not in_range(None, "2025-01-01", None)
    assert in_range(None, None, None)


def test_dates_in_questions():
    hint = question_dates("Que s'est-il passé en mai 2025 ?")
    assert (hint.since, hint.until) == ("2025-05-01", "2025-05-31")
    assert question_dates("What happened in 2012?").since == "2012-01-01"
    from datetime import date

    assert question_dates("Qui a parlé hier ?", today=date(2025, 3, 2)).since == "2025-03-01"
    assert question_dates("Who won the race?") is None


# Bidi and other invisible format controls are removed (a quote must display as what it says); control
# characters (C0 but newline, DEL, C1) become a space, so no terminal escape sequence survives normalization.
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *[(f"abc{ch}def", "abcdef") for ch in "\u202a\u202b\u202c\u202d\u202e"],  # embeddings, overrides, PDF
        *[(f"abc{ch}def", "abcdef") for ch in "\u2066\u2067\u2068\u2069"],  # isolates
        *[(f"abc{ch}def", "abcdef") for ch in "\u200e\u200f\u061c"],  # LRM, RLM, Arabic letter mark
        *[(f"abc{ch}def", "abcdef") for ch in "\u2061\u2062\u2063\u2064\u206a\u206f\ufff9\ufffb"],
        ("pay\U000e0069\U000e0067\U000e006e\U000e006f\U000e0072\U000e0065 me", "pay me"),  # tag characters
        ("the \u202eevil\u202c file", "the evil file"),
        *[(f"abc{chr(c)}def", "abc def") for c in (0x80, 0x85, 0x8d, 0x9b, 0x9d, 0x9f)],  # C1 controls
        *[(f"abc{ch}def", "abc def") for ch in "\x00\x07\x08\x0b\x0c\x1b\x1f\x7f"],  # C0 controls, DEL
        ("red \x1b[31mALERT\x1b[0m", "red [31mALERT [0m"),  # ESC gone: what is left cannot drive a terminal
        ("title \x1b]0;owned\x07 end", "title ]0;owned end"),  # OSC: ESC and BEL gone
        ("csi \x9b2J here", "csi 2J here"),  # the one-character CSI
        ("e\u200e\u0301te", "éte"),  # a mark left next to its letter after a removal is composed (NFC)
        ("pre\u00admier \u200bmot", "premier mot"),  # soft hyphen and zero-width: removed, as before
        ("\u05e9\u05dc\u05d5\u05dd world", "\u05e9\u05dc\u05d5\u05dd world"),  # right-to-left letters stay
        ("caf\u00e9 \u2014 \u00ab ok \u00bb \u00e0 1\u202f000 \u20ac", "café — « ok » à 1 000 €"),
    ],
)
def test_normalize_removes_bidi_invisible_and_control_characters(raw, expected):
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  A title\nover two lines\r\n\r\nand a third ", "A title over two lines and a third"),
        ("Name\x1b]8;;https://evil.test\x07click\x1b]8;;\x07", "Name ]8;;https://evil.test click ]8;;"),
        ("\u202eelbat\u2069\t\u0085x", "elbat x"),
        ("\x1b\x07\u200f", ""),
        (2025, "2025"),
    ],
)
def test_normalize_line_gives_one_clean_line(raw, expected):
    assert normalize_line(raw) == expected


def test_binary_detection_of_decoded_text():
    assert looks_binary("text\x00with a NUL")
    assert looks_binary("\x01\x02\x03" * 20 + "a bit of text")
    assert not looks_binary("Un texte décodé depuis UTF-16, tout à fait ordinaire.\n")
