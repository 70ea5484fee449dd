"""Issue 14, follows: the store beside the index, change detection, matching only what is new, the cool-down.

With the hashing embedder (fast); the matching threshold with the real model is in test_follow_matching.py,
the Discord side in test_follow_e2e.py.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from index.engine import Engine
from index.records import ArticleRef, Quote
from index.stories.follows import Alert, FollowStore, check_follows, follows_path, model_of, story_of
from tests.conftest import ARTICLES, write
from tests.fakes import HashingEmbedder

BRIDGE_TOPIC = "harbour bridge repairs"
REOPENS = """
    title: Harbour bridge reopens after its repairs
    date: 2025-06-01
    source: Example News
    lang: en

    The harbour bridge reopened on Monday after eleven weeks of repairs to its steel cables, the council said.
    """
CAKE = """
    title: Village bakery wins a prize
    date: 2025-06-02
    lang: en

    A village bakery won the national prize for its almond cake, the jury announced on Sunday.
    """
# The same dispatch as REOPENS, carried by another outlet with a new title.
REOPENS_WIRE = """
    title: Traffic back on the harbour bridge
    date: 2025-06-01
    source: Port Wire
    lang: en

    The harbour bridge reopened on Monday after eleven weeks of repairs to its steel cables, the council said.
    """


def quote(aid: int = 1, text: str = "The bridge reopened.") -> Quote:
    ref = ArticleRef(id=aid, title=f"Article {aid}", date="2025-06-01", url=f"https://example-news.test/{aid}",
                     path=None, source="Example News", lang="en")  # fmt: skip
    return Quote(text=text, start=0, end=len(text), score=1.0, passage_id=aid, article=ref, highlights=((4, 10),))


@pytest.fixture
def store(tmp_path) -> FollowStore:
    s = FollowStore(tmp_path / "index.follows.sqlite")
    yield s
    s.close()


def add(store: FollowStore, topic="harbour bridge", *, guild=1, channel=10, user=100, dm=False, story=()):
    return store.add(guild_id=guild, channel_id=channel, dm=dm, member=store.member_key(guild, user), topic=topic,
                     lang="en", model="m", embedding=np.ones(4, np.float32), story=story)  # fmt: skip


# --- the store ------------------------------------------------------------------------------------------------


def test_the_store_lives_beside_the_index_folder_never_inside_it(tmp_path):
    path = follows_path(tmp_path / "data" / "index")
    assert path == tmp_path / "data" / "index.follows.sqlite"
    assert (tmp_path / "data" / "index") not in path.parents


def test_members_are_kept_as_salted_hashes_only(tmp_path, store):
    user = 123456789012345678
    f = add(store, user=user)
    raw = Path(store.path).read_bytes() + (Path(f"{store.path}-wal").read_bytes() if Path(f"{store.path}-wal").exists() else b"")
    assert str(user).encode() not in raw
    assert f.member == store.member_key(1, user) and len(f.member) == 64
    assert store.member_key(2, user) != f.member  # another guild, another key
    other = FollowStore(tmp_path / "other.sqlite")
    assert other.member_key(1, user) != f.member  # another store, another salt
    again = FollowStore(store.path)
    assert again.member_key(1, user) == f.member  # the salt is kept
    other.close(), again.close()


def test_follow_rows_hold_what_the_issue_lists(store):
    f = add(store, "Ariane 6", guild=7, channel=70, user=5)
    row = store._db.execute("SELECT guild_id, channel_id, dm, member, topic, lang, embedding, created_at, "
                            "last_alerted_at FROM follows").fetchone()  # fmt: skip
    assert row[:3] == (7, 70, 0) and row[4:6] == ("Ariane 6", "en")
    assert np.frombuffer(row[6], np.float32).tolist() == [1, 1, 1, 1] and row[7] > 0 and row[8] is None
    assert store.get(f.id).embedding.tolist() == [1, 1, 1, 1]


def test_counts_find_remove_and_disable(store):
    a = add(store, "Harbour  Bridge", user=1)
    add(store, "ferries", user=1)
    c = add(store, "ferries", user=2, channel=11)
    assert store.count(1) == 3 and store.count(1, store.member_key(1, 1)) == 2
    assert store.find(1, store.member_key(1, 1), 10, "harbour bridge").id == a.id  # case and spaces folded
    assert store.find(1, store.member_key(1, 1), 11, "harbour bridge") is None  # another channel
    [gone] = store.disable("the channel was deleted", channel_id=11)
    assert gone.id == c.id and store.count(1) == 2 and not store.get(c.id).active
    assert store.get(c.id).disabled_reason == "the channel was deleted"
    assert {f.id for f in store.disable("the member left", guild_id=1, member=store.member_key(1, 1))} == {a.id, a.id + 1}
    assert store.count(1) == 0 and store.disable("again", channel_id=11) == []
    assert store.remove(a.id) and store.get(a.id) is None and not store.remove(a.id)


def test_a_burst_is_one_due_alert_and_the_cooldown_holds_the_next(store):
    f = add(store)
    store.queue(f.id, [Alert(f"k{i}", quote(i)) for i in range(3)], now=1000.0)
    [due] = store.due(cooldown=600, now=1000.0)
    assert due.follow.id == f.id and [a.article_key for a in due.alerts] == ["k0", "k1", "k2"]
    store.delivered(f.id, ["k0", "k1", "k2"], now=1000.0)
    assert store.due(600, now=1001.0) == [] and store.next_due(600) is None
    store.queue(f.id, [Alert("k3", quote(3))], now=1100.0)
    store.queue(f.id, [Alert("k4", quote(4))], now=1200.0)
    assert store.due(600, now=1599.0) == [] and store.next_due(600) == 1600.0
    [later] = store.due(600, now=1600.0)
    assert [a.article_key for a in later.alerts] == ["k3", "k4"]
    assert store.known(f.id) >= {"k0", "k3", "k4"}


def test_disabling_a_follow_drops_what_it_had_queued(store):
    f = add(store)
    store.queue(f.id, [Alert("k", quote())])
    store.disable("the member does not accept direct messages", follow_id=f.id)
    assert store.due(0) == [] and store.pending(f.id) == []


def test_an_alert_survives_the_store(store):
    q = quote(3, "Two outlets, one story.")
    also = (ArticleRef(id=9, title="Twin", date=None, url=None, path="a/b.txt", source="Port Wire", lang="fr"),)
    again = Alert.from_json(Alert("key", q, also).to_json())
    assert again == Alert("key", q, also) and again.quote.highlighted == "Two **outlet**s, one story."


# --- matching against what a reindex brought ----------------------------------------------------------------


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "articles"
    for name, text in ARTICLES.items():
        write(folder / name, text)
    engine = Engine(tmp_path / "index", HashingEmbedder())
    engine.reindex([folder])
    s = FollowStore(follows_path(tmp_path / "index"))
    yield engine, s, folder
    s.close()


def follow(engine, store, topic=BRIDGE_TOPIC):
    vector = engine.embedder.encode_queries([topic])[0]
    return store.add(guild_id=1, channel_id=10, dm=False, member=store.member_key(1, 100), topic=topic, lang="en",
                     model=model_of(engine), embedding=vector, story=story_of(engine, topic, vector))  # fmt: skip


def test_the_first_check_records_the_index_and_matches_nothing(corpus):
    engine, store, _ = corpus
    f = follow(engine, store)
    assert store.known(f.id) == {"articles/harbour.txt"}  # the story so far: never alerted
    first = check_follows(engine, store)
    assert (first.new_articles, first.matches) == (0, 0) and store.seen() and store.pending(f.id) == []
    assert check_follows(engine, store).follows_checked == 0  # the index did not change: nothing to do


def test_a_new_matching_article_is_queued_and_an_unrelated_one_is_not(corpus):
    engine, store, folder = corpus
    check_follows(engine, store)
    f = follow(engine, store)
    write(folder / "cake.txt", CAKE)
    engine.reindex([folder])
    result = check_follows(engine, store)
    assert (result.new_articles, result.matches) == (1, 0)
    write(folder / "reopens.txt", REOPENS)
    engine.reindex([folder])
    assert check_follows(engine, store).matches == 1
    [alert] = store.pending(f.id)
    assert alert.article_key == "articles/reopens.txt" and "reopened on Monday" in alert.quote.text
    assert alert.quote.article.title == "Harbour bridge reopens after its repairs"
    # verbatim: the quote is the article's own text
    assert alert.quote.text in (folder / "reopens.txt").read_text()


def test_only_new_articles_can_match_never_the_old_ones_again(corpus):
    engine, store, folder = corpus
    check_follows(engine, store)
    f = follow(engine, store, "lyon bike lane riverside")  # matches velo.md, which is old: known or not, no alert
    store._db.execute("DELETE FROM known")  # even forgotten, an old article does not alert
    store._db.commit()
    write(folder / "cake.txt", CAKE)
    engine.reindex([folder])
    assert check_follows(engine, store).matches == 0 and store.pending(f.id) == []


def test_a_forced_rebuild_brings_nothing_new(corpus):
    engine, store, folder = corpus
    check_follows(engine, store)
    f = follow(engine, store)
    write(folder / "reopens.txt", REOPENS)
    (folder / "comet.json").write_text((folder / "comet.json").read_text().replace("faint comet", "faint green comet"))
    engine.reindex([folder])
    check_follows(engine, store)
    store.delivered(f.id, [a.article_key for a in store.pending(f.id)])
    before = {ref.path: ref.id for ref in engine.snapshot.articles.values()}
    engine.reindex([folder], force=True)  # articles get other ids, none another content hash
    assert {ref.path: ref.id for ref in engine.snapshot.articles.values()} != before
    result = check_follows(engine, store)
    assert (result.new_articles, result.matches) == (0, 0) and store.pending(f.id) == []


def test_a_changed_article_the_follow_knows_does_not_alert(corpus):
    engine, store, folder = corpus
    check_follows(engine, store)
    f = follow(engine, store)
    path = folder / "harbour.txt"
    path.write_text(path.read_text() + "\nThe council will vote on the budget again in May.\n")
    engine.reindex([folder])
    result = check_follows(engine, store)
    assert result.new_articles == 1 and store.pending(f.id) == []


def test_one_dispatch_from_two_outlets_is_one_alert_naming_both(corpus):
    engine, store, folder = corpus
    check_follows(engine, store)
    f = follow(engine, store)
    write(folder / "reopens.txt", REOPENS)
    write(folder / "wire.txt", REOPENS_WIRE)
    engine.reindex([folder])
    assert check_follows(engine, store).matches == 1
    [alert] = store.pending(f.id)
    assert {alert.quote.article.title, *(r.title for r in alert.also)} == {
        "Harbour bridge reopens after its repairs", "Traffic back on the harbour bridge"}  # fmt: skip
    assert store.known(f.id) >= {"articles/reopens.txt", "articles/wire.txt"}


def test_the_twin_of_a_known_article_arriving_later_is_not_news(corpus):
    engine, store, folder = corpus
    check_follows(engine, store)
    f = follow(engine, store)
    write(folder / "reopens.txt", REOPENS)
    engine.reindex([folder])
    check_follows(engine, store)
    store.delivered(f.id, ["articles/reopens.txt"])
    write(folder / "wire.txt", REOPENS_WIRE)
    engine.reindex([folder])
    assert check_follows(engine, store).matches == 0 and "articles/wire.txt" in store.known(f.id)


def test_a_follow_made_with_another_model_is_embedded_again(corpus):
    engine, store, folder = corpus
    check_follows(engine, store)
    f = follow(engine, store)
    store.set_embedding(f.id, '{"model": "some-old-model"}', np.zeros(3, np.float32))
    write(folder / "reopens.txt", REOPENS)
    engine.reindex([folder])
    assert check_follows(engine, store).matches == 1
    again = store.get(f.id)
    assert again.model == model_of(engine) and again.embedding.shape == (engine.embedder.dimension,)


def test_a_broken_follow_does_not_stop_the_others(corpus, caplog):
    engine, store, folder = corpus
    check_follows(engine, store)
    bad = follow(engine, store)
    good = follow(engine, store, "harbour bridge reopened steel cables")
    store._db.execute("UPDATE follows SET topic = ? WHERE id = ?", ("x" * 5000, bad.id))  # longer than a question
    store._db.commit()
    write(folder / "reopens.txt", REOPENS)
    engine.reindex([folder])
    assert check_follows(engine, store).matches == 1 and store.pending(good.id)
    assert any("matching failed" in r.getMessage() for r in caplog.records)


def test_the_store_is_plain_sqlite(tmp_path, store):
    add(store)
    db = sqlite3.connect(store.path)
    assert {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")} >= {
        "follows", "known", "pending", "seen", "meta"}  # fmt: skip
    db.close()


def test_a_long_story_does_not_crowd_out_its_next_article(tmp_path):
    """The story so far is left out of the follow's answer: its fifteen articles would otherwise take every place
    an answer has for quotes, and the new one would never be among them."""
    folder = tmp_path / "articles"
    for name, text in ARTICLES.items():
        write(folder / name, text)
    news = ["crews replaced the first steel cables", "a crane arrived by barge from the north quay",
            "divers checked the piers under the water", "night shifts started to catch up on delays",
            "painters sanded the old railings", "the council approved a second budget line",
            "a storm stopped all work for one afternoon", "engineers tested the new cable anchors",
            "the footpath reopened for pedestrians only", "a ferry company complained about the noise",
            "welders fixed cracks in two deck plates", "inspectors from the ministry visited the site",
            "the last lamp posts were taken down", "school children watched the works from the beach",
            "trucks brought fresh asphalt at dawn"]  # fmt: skip
    for i, what in enumerate(news):
        write(folder / f"works-{i:02d}.txt", f"title: Harbour bridge repairs, day {i + 1}\ndate: 2025-04-{i + 1:02d}\n\n"
              f"Harbour bridge repairs, day {i + 1}: {what}.\n")  # fmt: skip
    engine = Engine(tmp_path / "index", HashingEmbedder())
    engine.reindex([folder])
    store = FollowStore(follows_path(tmp_path / "index"))
    check_follows(engine, store)
    f = follow(engine, store)
    assert len(store.known(f.id)) >= engine.config.k + engine.config.more  # the answer's places are all taken
    write(folder / "reopens.txt", REOPENS)
    engine.reindex([folder])
    check_follows(engine, store)
    assert [a.article_key for a in store.pending(f.id)] == ["articles/reopens.txt"]
    store.close()
