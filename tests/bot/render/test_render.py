"""Rendering is pure: answers become embeds and text within Discord's limits, with article text escaped."""

import pytest

from bot.i18n.strings import STRINGS, lang_of, t
from bot.render import embeds as render
from index.records import Answer, ArticleRef, Hit, Passage, Quote

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
    # Discord's documented limits, written out here (not the code's constants, which could be wrong too).
    assert len(e.description) <= 4096 and len(e) <= 6000 and len(e.title) <= 256 and len(e.footer.text) <= 2048
    assert "…" in e.description
    refs = tuple(ArticleRef(i, "T" * 400, None, None, None, "S" * 300, "en") for i in range(30))
    e2 = render.answer_embed(answer(answered=False, related=refs))
    assert len(e2) <= 6000 and len(e2.fields) <= 25
    assert all(len(f.name) <= 256 and len(f.value) <= 1024 for f in e2.fields)
    text = render.answer_text(answer(*[quote(long)] * 3))
    assert len(text) <= 2000


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


HOSTILE = "https://ok.test/a>)[FAKE LINK](https://evil.test/steal"
PASSAGE = Passage(id=1, article_id=1, position=0, start=0, end=6, text="Ferry.", sentences=((0, 6),))


def _links(markdown: str) -> list[str]:
    """The destinations of the masked links Discord would draw: `[text](dest)` with unescaped brackets."""
    out, i, depth, start = [], 0, 0, None
    while i < len(markdown):
        c = markdown[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            depth, start = depth + 1, i if depth == 0 else start
        elif c == "]" and depth:
            depth -= 1
            if depth == 0 and markdown.startswith("(", i + 1):
                end = markdown.find(")", i + 2)
                out.append(markdown[i + 2 : end if end >= 0 else len(markdown)])
        i += 1
    return out


@pytest.mark.parametrize(
    "url",
    [
        HOSTILE,
        "https://ok.test/a>)[FAKE](https://evil.test/steal",
        "https://ok.test/a)](https://evil.test)",
        "https://ok.test/<b>[x]",
    ],
)
def test_a_hostile_url_makes_one_link_with_no_raw_brackets(url):
    ref = ArticleRef(1, "Ferry stops at night", "2025-04-01", url, None, "Port News", "en")
    for md in (render.source_markdown(ref, "en"),
               render.answer_embed(answer(Quote("Ferry.", 0, 6, 1.0, 1, ref, ()))).description,
               render.sources_embed([ref], 0, "en")[0].description):  # fmt: skip
        links = _links(md)
        assert len(links) <= 1 and "evil.test/steal)" not in md
        for dest in links:
            assert dest.startswith("<https://ok.test/") and dest.endswith(">")
            assert not set(dest[1:-1]) & set("()[]<> "), dest


def test_an_invalid_url_from_an_old_index_renders_the_title_without_a_link():
    for url in ("javascript:alert(1)", "https://ok.test/a b", "https://x.test@evil.test/", "ftp://ok.test/", ""):
        ref = ArticleRef(1, "Ferry stops", None, url, None, None, "en")
        assert render.source_markdown(ref, "en").startswith("**Ferry stops** · ")
        assert _links(render.source_markdown(ref, "en")) == []


@pytest.mark.parametrize(
    "title",
    [
        "x](https://evil.test) [click",
        "a [b](https://evil.test) c",
        "][(https://evil.test)",
        "line one\n# big heading\n> quote [x](https://evil.test)",
        "\u202eknil\u202c \x1b]8;;https://evil.test\x07click\x1b]8;;\x07 \x9b2J",
        "\\](https://evil.test)",
    ],
)
def test_a_hostile_title_cannot_break_out_of_its_link(title):
    source = "Port\n> News [s](https://evil.test)"
    ref = ArticleRef(1, title, "2025-04-01\n# x", "https://ok.test/ferry", None, source, "en")
    md = render.source_markdown(ref, "en")
    assert _links(md) == ["<https://ok.test/ferry>"]
    assert "\n" not in md and not [c for c in md if c in "\x1b\x07\x9b\u202e\u202c"]
    hits = render.hits_embed("q", [Hit(passage=PASSAGE, article=ref, score=1.0)], "en")
    assert _links(hits.fields[0].name) == [] and "\n" not in hits.fields[0].name
    assert _links(hits.fields[0].value) == ["<https://ok.test/ferry>"]


def test_links_in_quoted_text_stay_text_however_many():
    text = "See [the report](https://ok.test/r) then **this** and [click here](https://evil.test/x) or _that_."
    e = render.answer_embed(answer(quote(text, ())))
    assert _links(e.description) == ["<https://example-news.test/bridge>"]  # the source's, nothing else
    assert "\\*\\*this\\*\\*" in e.description and "\\_that\\_" in e.description
    assert _links(render.escape("a [b](c) d [e](f) https://x.test/[g](h)")) == []


@pytest.mark.parametrize(("question_lang", "article_lang", "marked"), [("en", "fr", True), ("fr", "fr", False),
                                                                         ("en", None, False)])  # fmt: skip
def test_a_quote_in_another_language_is_marked(question_lang, article_lang, marked):
    from dataclasses import replace

    from bot.render.terminal import render_answer

    q = replace(quote("Le chantier a coûté 18 millions d'euros."), article=replace(REF, lang=article_lang))
    a = answer(q, lang=question_lang)
    assert ("**1.** `FR` « " in render.answer_embed(a).description) is marked
    assert ("**1.** `FR` « " in render.answer_text(a)) is marked
    assert render_answer(a).startswith("[1] [fr] ") is marked
