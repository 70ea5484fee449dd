"""Rendering is pure: answers become embeds and text within Discord's limits, with article text escaped."""

import pytest

from bot import render
from bot.strings import STRINGS, lang_of, t
from index.models import Answer, ArticleRef, Quote

REF = ArticleRef(id=1, title="Bridge **closed** [x](https://evil.test)", date="2025-03-04",
                 url="https://example-news.test/bridge", path=None, source="Example News", lang="en")  # fmt: skip


def quote(text: str, highlights=((0, 3),)) -> Quote:
    return Quote(text=text, start=0, end=len(text), score=1.0, passage_id=1, article=REF, highlights=highlights)


def answer(*quotes: Quote, answered=True, related=(), lang="en") -> Answer:
    return Answer(question="q?", answered=answered, quotes=quotes, related=related, took_ms=12.3,
                  articles_searched=42, lang=lang)  # fmt: skip


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("one two three four five", 14, "one two…"),
        ("x" * 20, 10, "xxxxxxxxx…"),
    ],
)
def test_cut_at_word_boundary(text, limit, expected):
    assert render.cut(text, limit) == expected
    assert len(render.cut(text, limit)) <= limit


def test_markdown_and_mentions_are_shown_as_written():
    e = render.answer_embed(answer(quote("Fans wrote **free** and [win](https://x.test) to @everyone", ())))
    assert "\\*\\*free\\*\\*" in e.description and "\\[win\\]" in e.description
    assert "@everyone" not in e.description  # a zero-width space breaks the mention
    assert "Bridge \\*\\*closed\\*\\*" in e.description  # the title is escaped too, inside its link


def test_terms_in_bold_and_source_linked():
    e = render.answer_embed(answer(quote("The bridge closed.", ((4, 10),))))
    assert "The **bridge** closed." in e.description
    assert "](<https://example-news.test/bridge>)" in e.description and "2025-03-04" in e.description
    assert e.footer.text == "Searched 42 articles in 12 ms"


def test_huge_quotes_and_many_related_stay_within_limits():
    long = " ".join(["word"] * 3000)
    e = render.answer_embed(answer(*[quote(long, tuple((i * 5, i * 5 + 4) for i in range(600)))] * 3))
    assert len(e.description) <= render.DESCRIPTION_MAX and len(e) <= render.EMBED_TOTAL_MAX
    assert "…" in e.description
    refs = tuple(ArticleRef(i, "T" * 400, None, None, None, "S" * 300, "en") for i in range(30))
    e2 = render.answer_embed(answer(answered=False, related=refs))
    assert len(e2) <= render.EMBED_TOTAL_MAX and all(len(f.value) <= 1024 for f in e2.fields)
    text = render.answer_text(answer(*[quote(long)] * 3))
    assert len(text) <= render.CONTENT_MAX


def test_not_found_in_french():
    e = render.answer_embed(answer(answered=False, related=(REF,), lang="fr"))
    assert e.title == "Absent des articles" and "ne répondent pas" in e.description
    assert e.fields[0].name.startswith("Articles les plus proches")


def test_sources_pages():
    refs = [ArticleRef(i, f"Story {i}", f"2024-01-{i + 1:02d}", None, None, None, "en") for i in range(19)]
    e, pages = render.sources_embed(refs, 2, "en")
    assert pages == 3 and e.footer.text == "Page 3/3 · 19 articles" and e.description.count("•") == 3


def test_every_string_in_both_languages():
    assert all(set(v) == {"en", "fr"} for v in STRINGS.values())
    assert lang_of("fr") == "fr" and lang_of("en-US") == "en" and lang_of(None) == "en"
    assert t("cooldown", "fr", seconds=3) == "Merci d’attendre 3 s avant de poser une autre question."
