"""The `.txt` article format: what `render` writes, `load` reads back as the same article."""

import pytest

from index.ingest import LOADERS, txt

META = {"title": "Le pont ferme", "date": "2025-05-12", "url": "https://news.example/pont", "source": "Example",
        "author": "Ana Ruiz", "lang": "fr"}  # fmt: skip
BODY = "Le pont fermera douze semaines pour travaux.\n\nLes bus seront déviés par le boulevard."


def test_a_written_file_reads_back_with_every_field(tmp_path):
    path = tmp_path / "pont.txt"
    path.write_text(txt.render(META, BODY), encoding="utf-8")
    [article], failures = LOADERS[".txt"](path, path.read_text(encoding="utf-8"))
    assert failures == []
    got = {k: getattr(article, k) for k in META}
    assert got == {**META, "source": "Example"} and article.text == BODY


def test_the_header_holds_fields_in_order_one_line_each_and_skips_empty_ones():
    written = txt.render({"lang": "en", "title": "Two\nlines\t here", "author": None, "url": ""}, "Text.")
    assert written == "title: Two lines here\nlang: en\n\nText.\n"


@pytest.mark.parametrize(
    ("text", "meta", "body"),
    [
        ("title: A\nsource: B\n\nThe text.", {"title": "A", "source": "B"}, "The text."),
        ("Title: A\n\nThe text.", {"title": "A"}, "The text."),  # keys in any case
        ("note: not a field\n\nThe text.", {}, "note: not a field\n\nThe text."),  # an unknown key: no header
        ("date 2025-05 The text.", {"date": "2025-05"}, "The text."),
        ("Just the text.", {}, "Just the text."),
    ],
)
def test_split_header(text, meta, body):
    assert txt.split_header(text) == (meta, body)
