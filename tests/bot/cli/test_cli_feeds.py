"""`newsdesk reindex --feed` and `newsdesk add` as a user runs them, against a real HTTP server on loopback."""

import json

import pytest

from tests.bot.cli.test_cli import newsdesk
from tests.index.sources.test_feeds import serve_local_news, site  # noqa: F401  (the loopback news site fixture)

pytestmark = pytest.mark.slow


def test_reindex_pulls_feeds_and_add_ingests_a_page(site, tmp_path):  # noqa: F811
    rss_url, atom_url = serve_local_news(site)
    articles, index = tmp_path / "articles", tmp_path / "index"
    articles.mkdir()
    base = ["--index", str(index), "--articles", str(articles)]
    r = newsdesk("reindex", *base, "--feed", rss_url, "--feed", atom_url, "--allow-host", "127.0.0.1", "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["added"] == 5 and summary["failed"] == []
    assert [s["status"] for s in summary["sources"]] == ["ok", "ok"]
    assert sum(s["new"] for s in summary["sources"]) == 5
    assert len(list((articles / "web").rglob("*.txt"))) == 5  # kept as files, so the index can be rebuilt offline

    again = json.loads(newsdesk("reindex", *base, "--feed", rss_url, "--feed", atom_url,
                                "--allow-host", "127.0.0.1", "--json").stdout)  # fmt: skip
    assert [s["status"] for s in again["sources"]] == ["not_modified", "not_modified"]
    assert again["passages_embedded"] == 0

    site.put("/extra", b"<html><head><title>Night market</title></head><body><article><h1>Night market opens"
             b"</h1><p>The harbour night market opens on Friday with forty stalls selling smoked fish, honey and "
             b"lanterns, the town council announced on Monday.</p></article></body></html>")  # fmt: skip
    r = newsdesk("add", site.url("/extra"), *base, "--allow-host", "127.0.0.1", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["added"] == 1
    answer = json.loads(newsdesk("ask", "How many stalls will the night market have?", "--index", str(index),
                                 "--json").stdout)  # fmt: skip
    assert "forty stalls" in answer["quotes"][0]["text"]

    refused = newsdesk("add", "http://10.0.0.1/secret", *base)
    assert refused.returncode == 1 and "10.0.0.1" in refused.stderr
