"""Issue 14, timelines: date order, the newest marked, undated last, near-duplicates collapsed, weak matches
left out; rendering within Discord's limits and on the terminal; `newsdesk timeline` and `newsdesk follows`.

With the hashing embedder (fast); the real model's timeline is checked through Discord in test_follow_e2e.py.
"""

from __future__ import annotations

import json

import discord
import pytest

from bot.render.embeds import DESCRIPTION_MAX, EMBED_TOTAL_MAX
from bot.render.follows import TIMELINE_PER_PAGE, alert_embed, following_embed, timeline_pages
from bot.render.terminal import render_timeline
from index.engine import Engine
from index.ingest.articles import load_articles
from index.records import ArticleRef, Quote
from index.stories.duplicates import MIN_SHARED, groups, near_duplicate, shared
from index.stories.follows import Alert, FollowStore, follows_path
from index.stories.timeline import Timeline, TimelineEntry, build_timeline
from tests.bot.cli.test_cli_hardening import fast_cli, newsdesk  # noqa: F401  (the CLI with the hashing embedder)
from tests.conftest import ARTICLES, SAMPLES, write
from tests.fakes import HashingEmbedder
from tests.index.stories.test_follows import REOPENS, REOPENS_WIRE

UNDATED = """
    title: Harbour bridge cables, a short history
    lang: en

    The harbour bridge got its first steel cables in 1931; the repairs now under way replace them for the third time.
    """
LATER = """
    title: Harbour bridge repairs cost more than planned
    date: 2025-07-15
    source: Example News
    lang: en

    The harbour bridge repairs will cost 49 million euros, seven more than planned, after engineers found rust in two cable anchors.
    """


@pytest.fixture
def story(tmp_path):
    folder = tmp_path / "articles"
    for name, text in {**ARTICLES, "reopens.txt": REOPENS, "wire.txt": REOPENS_WIRE, "undated.txt": UNDATED,
                       "later.txt": LATER}.items():  # fmt: skip
        write(folder / name, text)
    engine = Engine(tmp_path / "index", HashingEmbedder())
    engine.reindex([folder])
    return engine


def test_a_timeline_is_dated_quotes_oldest_first_undated_last(story):
    tl = build_timeline(story, "harbour bridge repairs")
    titles = [e.article.title for e in tl.entries]
    assert titles[0] == "Harbour bridge closes for repairs" and titles[-1] == "Harbour bridge cables, a short history"
    dates = [e.article.date for e in tl.entries if not e.undated]
    assert dates == sorted(dates) == ["2025-03-04", "2025-06-01", "2025-07-15"]
    assert tl.entries[-1].undated and not tl.entries[-1].newest
    assert [e.newest for e in tl.entries] == [False, False, True, False]  # the newest dated entry
    for e in tl.entries:  # verbatim quotes from each article
        assert e.quote.text and e.quote.article.id == e.article.id
    # nothing off the story: the bike lane and the comet are not in it
    assert not {"Lyon ouvre une piste cyclable sur les quais", "Amateur astronomers spot a new comet"} & set(titles)


def test_one_dispatch_in_two_outlets_is_one_entry_naming_both(story):
    tl = build_timeline(story, "harbour bridge repairs")
    [entry] = [e for e in tl.entries if e.article.date == "2025-06-01"]
    names = {entry.article.title, *(a.title for a in entry.also)}
    assert names == {"Harbour bridge reopens after its repairs", "Traffic back on the harbour bridge"}
    assert {entry.article.source, *(a.source for a in entry.also)} == {"Example News", "Port Wire"}


def test_no_story_says_so_and_lists_the_closest_articles(story):
    tl = build_timeline(story, "chocolate mousse recipe with raspberries")
    assert tl.entries == () and tl.related
    [embed] = timeline_pages(tl, "en")
    assert embed.description == "The articles do not tell this story." and "Closest articles" in embed.fields[0].name
    assert "do not tell this story" in render_timeline(tl)


def test_filters_narrow_the_timeline(story):
    from index.records import Filters

    tl = build_timeline(story, "harbour bridge repairs", Filters(since="2025-06"))
    assert [e.article.date for e in tl.entries] == ["2025-06-01", "2025-07-15"]


def test_near_duplicates_measured_on_the_samples():
    """The figures index/stories/duplicates.py quotes: the two copies of the CSO-3 dispatch against every other pair."""
    articles, _ = load_articles([SAMPLES])
    by_name = {a.path.rsplit("/", 1)[1]: a for a in articles}
    twins = (by_name["ariane-6-cso-3-en-orbite.txt"], by_name["ariane-6-cso-3-depeche.txt"])
    assert shared(twins[0].text, twins[1].text) > 0.8 and near_duplicate(twins[0].text, twins[1].text)
    others = [shared(a.text, b.text) for i, a in enumerate(articles) for b in articles[i + 1 :]
              if {a.path, b.path} != {t.path for t in twins}]  # fmt: skip
    assert max(others) < 0.05 < MIN_SHARED
    [pair] = [g for g in groups(list(by_name), lambda n: by_name[n].text) if len(g) > 1]
    assert sorted(pair) == ["ariane-6-cso-3-depeche.txt", "ariane-6-cso-3-en-orbite.txt"]


def test_the_samples_hold_a_dated_story_in_follow_ups():
    articles, _ = load_articles([SAMPLES])
    ariane = sorted((a.date, a.title) for a in articles if "Ariane 6" in a.title)
    assert len(ariane) == 5 and ariane[0][0] == "2024-07-10" and ariane[-1][0] == "2025-08-13"


# --- rendering ------------------------------------------------------------------------------------------------


def _ref(i: int, date: str | None = "2025-01-01", title: str | None = None) -> ArticleRef:
    return ArticleRef(id=i, title=title or f"Story part {i} [x](https://evil.test) @everyone", date=date,
                      url=f"https://example-news.test/{i}", path=None, source="Example News", lang="en")  # fmt: skip


def _entry(i: int, words: int = 40, **kw) -> TimelineEntry:
    text = ("Word **bold** " * words).strip()
    q = Quote(text=text, start=0, end=len(text), score=1.0, passage_id=i, article=_ref(i, **kw))
    return TimelineEntry(quote=q)


def test_timeline_pages_page_and_fit_discord_limits():
    twins = TimelineEntry(quote=_entry(99).quote, also=tuple(_ref(100 + j) for j in range(20)))
    entries = (*(_entry(i, words=120) for i in range(12)), twins)
    tl = Timeline("the story", entries, (), 0.9, 10.0, 12, "en")
    pages = timeline_pages(tl, "en")
    assert len(pages) >= 3 and all(len(p.description) <= DESCRIPTION_MAX and len(p) <= EMBED_TOTAL_MAX for p in pages)
    assert sum(p.description.count("Story part") for p in pages) >= 13
    assert all(p.description.count("« ") <= TIMELINE_PER_PAGE for p in pages)
    assert pages[0].footer.text.startswith(f"Page 1/{len(pages)} · 13 articles")
    text = "".join(p.description for p in pages)
    assert "@everyone" not in text.replace("@\u200beveryone", "") and "\\*\\*bold\\*\\*" in text
    assert "[Story part 1 (x)(https://evil.test) @\u200beveryone](<https://example-news.test/1>)" in text


def test_newest_and_undated_are_marked_in_both_languages():
    entries = (_entry(1, date="2024-01-01"), TimelineEntry(_entry(2, date="2024-02-01").quote, newest=True),
               _entry(3, date=None))  # fmt: skip
    tl = Timeline("t", entries, (), 1.0, 1.0, 3, "fr")
    fr = timeline_pages(tl, "fr")[0].description
    en = timeline_pages(tl, "en")[0].description
    assert "**2024-02-01** · **le plus récent**" in fr and "*sans date*" in fr
    assert "**2024-02-01** · **newest**" in en and "*undated*" in en
    plain = render_timeline(tl)
    assert "[2] 2024-02-01 (le plus récent)" in plain and "[3] sans date" in plain


def test_an_alert_fits_and_names_the_other_outlets(tmp_path):
    store = FollowStore(tmp_path / "f.sqlite")
    f = store.add(guild_id=1, channel_id=2, dm=False, member="m", topic="the **story** @everyone", lang="en",
                  model="m", embedding=[0.0])  # fmt: skip
    alerts = [Alert(f"k{i}", _entry(i, words=200).quote, (_ref(50 + i),)) for i in range(12)]
    embed = alert_embed(f, alerts)
    assert len(embed) <= EMBED_TOTAL_MAX and len(embed.description) <= DESCRIPTION_MAX
    assert embed.title == "New on “the \\*\\*story\\*\\* @\u200beveryone”" and "also in" in embed.description
    assert "(+" in embed.description and "12 new article(s)" in embed.footer.text
    listing = following_embed(store.all(), "fr", guild_wide=True)
    assert listing.title == "Suivis de ce serveur" and "<#2>" in listing.description
    assert isinstance(listing, discord.Embed)
    store.close()


# --- the command line -------------------------------------------------------------------------------------------


def test_newsdesk_timeline_prints_dated_quotes_and_json(capsys, monkeypatch, tmp_path):
    folder = tmp_path / "articles"
    for name, text in {**ARTICLES, "reopens.txt": REOPENS, "later.txt": LATER}.items():
        write(folder / name, text)
    index = tmp_path / "index"
    assert newsdesk(capsys, monkeypatch, "reindex", "--index", str(index), "--articles", str(folder))[0] == 0
    rc, out, err = newsdesk(capsys, monkeypatch, "timeline", "harbour bridge repairs", "--index", str(index))
    assert rc == 0, err
    assert out.index("[1] 2025-03-04") < out.index("[2] 2025-06-01") < out.index("[3] 2025-07-15 (newest)")
    rc, out, _ = newsdesk(capsys, monkeypatch, "timeline", "harbour bridge repairs", "--index", str(index), "--json",
                          "--since", "2025-06")  # fmt: skip
    data = json.loads(out)
    assert rc == 0 and [e["quote"]["article"]["date"] for e in data["entries"]] == ["2025-06-01", "2025-07-15"]
    assert set(data["entries"][0]) == {"quote", "also", "newest", "undated"} and data["entries"][-1]["newest"]
    assert newsdesk(capsys, monkeypatch, "timeline", "x", "--since", "soon")[0] == 2


def test_newsdesk_follows_lists_them_for_the_operator(capsys, monkeypatch, tmp_path):
    index = tmp_path / "index"
    rc, out, _ = newsdesk(capsys, monkeypatch, "follows", "--index", str(index))
    assert rc == 0 and out.strip() == "No follows." and not follows_path(index).exists()  # nothing created
    store = FollowStore(follows_path(index))
    f = store.add(guild_id=7, channel_id=70, dm=True, member=store.member_key(7, 1), topic="Ariane 6\x1b[2J",
                  lang="fr", model="m", embedding=[1.0])  # fmt: skip
    store.queue(f.id, [Alert("k", _entry(1).quote)])
    store.disable("the member left the server", follow_id=f.id)
    store.add(guild_id=7, channel_id=71, dm=False, member=store.member_key(7, 2), topic="BCE", lang="en",
              model="m", embedding=[1.0])  # fmt: skip
    store.close()
    rc, out, _ = newsdesk(capsys, monkeypatch, "follows", "--index", str(index))
    assert rc == 0 and "\x1b" not in out and "“Ariane 6\\x1b[2J”" in out
    assert "#1 disabled (the member left the server) · guild 7 · DM 70" in out and "#2 active" in out
    rc, out, _ = newsdesk(capsys, monkeypatch, "follows", "--index", str(index), "--json")
    rows = json.loads(out)
    assert [r["topic"] for r in rows] == ["Ariane 6\x1b[2J", "BCE"] and rows[0]["pending"] == 0
    assert set(rows[1]) == {"id", "guild_id", "channel_id", "dm", "member", "topic", "lang", "created_at",
                            "last_alerted_at", "active", "disabled_reason", "pending"}  # fmt: skip


def test_the_terminal_chat_has_timeline(capsys, monkeypatch, tmp_path):
    folder = tmp_path / "articles"
    for name, text in {**ARTICLES, "reopens.txt": REOPENS}.items():
        write(folder / name, text)
    rc, out, err = newsdesk(capsys, monkeypatch, "chat", "--index", str(tmp_path / "index"), "--articles", str(folder),
                            stdin="/timeline harbour bridge repairs\n/timeline\n\n")  # fmt: skip
    assert rc == 0, err
    assert "Timeline: harbour bridge repairs" in out and "[1] 2025-03-04" in out and "[2] 2025-06-01 (newest)" in out
    assert "! The question is empty" in out
