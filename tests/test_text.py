import pytest

from index.dates import in_range, parse_date, question_dates
from index.text import fold, looks_binary, normalize_text


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
