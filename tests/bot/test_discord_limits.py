"""Everything the bot renders fits Discord's documented limits, written out here as Discord states them
(https://discord.com/developers/docs/resources/message#embed-object-embed-limits and the component and
autocomplete pages), never read from the code's own constants: a wrong constant there would pass otherwise."""

from __future__ import annotations

from types import SimpleNamespace

import discord
import pytest

from bot.access import Access
from bot.cogs.admin import summary_text
from bot.cogs.qa import MoreView, QACog, SourcesView
from bot.jobs import Jobs
from bot.render import embeds as render
from bot.settings import Settings
from index.records import Answer, ArticleRef, Failure, Hit, IndexStats, Passage, Quote, ReindexSummary

# Discord's numbers.
CONTENT = 2000
EMBEDS_PER_MESSAGE = 10
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER_TEXT = 2048
AUTHOR_NAME = 256
EMBEDS_TOTAL = 6000  # title, description, field names and values, footer and author, over all embeds of a message
BUTTON_LABEL = 80
CUSTOM_ID = 100
CHOICES = 25
CHOICE_NAME = 100
CHOICE_VALUE = 100

HUGE = "Über **bold** [link](https://evil.test) @everyone <@123> `code` " * 200  # ~13,000 characters
REFS = tuple(ArticleRef(i, f"{i} {HUGE}", "2025-05-12", f"https://example-news.test/{'x' * 300}/{i}", None,
                        HUGE[:500], "en") for i in range(40))  # fmt: skip


def assert_fits(*embeds: discord.Embed, content: str | None = None) -> None:
    assert len(embeds) <= EMBEDS_PER_MESSAGE
    total = 0
    for embed in embeds:
        e = embed.to_dict()
        title, description = e.get("title") or "", e.get("description") or ""
        footer, author = (e.get("footer") or {}).get("text") or "", (e.get("author") or {}).get("name") or ""
        fields = e.get("fields") or []
        assert len(title) <= EMBED_TITLE and len(description) <= EMBED_DESCRIPTION
        assert len(footer) <= FOOTER_TEXT and len(author) <= AUTHOR_NAME and len(fields) <= EMBED_FIELDS
        for f in fields:
            assert 0 < len(f["name"]) <= FIELD_NAME and 0 < len(f["value"]) <= FIELD_VALUE
        total += len(title) + len(description) + len(footer) + len(author)
        total += sum(len(f["name"]) + len(f["value"]) for f in fields)
    assert total <= EMBEDS_TOTAL
    if content is not None:
        assert 0 < len(content) <= CONTENT


def huge_answer(answered: bool = True, lang: str = "en") -> Answer:
    quotes = tuple(Quote(HUGE, 0, len(HUGE), 1.0, i, ref, tuple((j * 60, j * 60 + 4) for j in range(200)))
                   for i, ref in enumerate(REFS[:9]))  # fmt: skip
    return Answer(question=HUGE, answered=answered, quotes=quotes[:3] if answered else (),
                  more=quotes[3:] if answered else (), related=() if answered else REFS, took_ms=12345.6,
                  articles_searched=10**9, lang=lang)  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("answered", [True, False])
def test_answers_fit(answered, lang):
    a = huge_answer(answered, lang)
    assert_fits(render.answer_embed(a))
    assert_fits(render.answer_embed(a, quotes=a.more[:3], start=4))
    assert_fits(content=render.answer_text(a))


def test_search_sources_status_and_reindex_summaries_fit():
    passage = Passage(1, 1, 0, 0, len(HUGE), HUGE, ((0, len(HUGE)),))
    hits = [Hit(passage=passage, article=ref, score=1.0) for ref in REFS]
    assert_fits(render.hits_embed(HUGE[:300], hits, "en"))  # /search takes up to 300 characters
    for page in range(6):
        embed, pages = render.sources_embed(list(REFS), page, "fr")
        assert pages == 5  # 40 articles, 8 a page (asked past the end, the last page is shown)
        assert_fits(embed)
    stats = IndexStats(articles=10**7, passages=10**8, languages={f"l{i}" * 20: i for i in range(400)},
                       model=HUGE[:3000], dimension=384, index_type="ivf", last_reindex="2025-05-12T10:00:00+00:00",
                       size_bytes=10**12)  # fmt: skip
    assert_fits(render.status_embed(stats, 12.3, "en"))
    failed = tuple(Failure(f"/articles/{HUGE[:200]}/{i}.txt", HUGE[:400]) for i in range(50))
    summary = ReindexSummary(10**6, 10**6, 10**6, 10**6, failed, 10**8, 10**7, 10**8, 12345.6)
    for lang in ("en", "fr"):
        assert_fits(content=summary_text(summary, lang))


async def test_buttons_fit():
    for lang in ("en", "fr"):
        for view in (MoreView(huge_answer(), lang, False), SourcesView(list(REFS), lang)):
            for item in view.children:
                assert len(item.label or "") <= BUTTON_LABEL and len(item.custom_id) <= CUSTOM_ID
            view.stop()


async def test_sources_autocomplete_fits():
    engine = SimpleNamespace(articles=lambda query=None: list(REFS))
    cog = QACog(SimpleNamespace(), engine=engine, settings=Settings(_env_file=None), jobs=Jobs(),
                access=Access(Settings(_env_file=None)))  # fmt: skip
    choices = await QACog.sources_autocomplete(cog, None, "")
    assert 0 < len(choices) <= CHOICES
    assert all(0 < len(c.name) <= CHOICE_NAME and len(c.value) <= CHOICE_VALUE for c in choices)
