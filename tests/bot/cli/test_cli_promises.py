"""What the README promises of the command line and no other test checked: `start` without a token, the
`--source`, `--lang` and `--until` filters of `ask`, `last_reindex` in `stats`. Run as a user runs them."""

import json
from datetime import datetime, timezone

import pytest

from tests.bot.cli.test_cli import index, newsdesk  # noqa: F401  (index: the samples, built once for this module)
from tests.conftest import ARTICLES, write

pytestmark = pytest.mark.slow

FED = "https://example-news.test/economy/2024/09/18/federal-reserve-half-point-cut"
BCE = "https://example-news.test/economie/2024/06/06/bce-baisse-des-taux"
EURO = "https://example-news.test/sport/2024/07/15/euro-2024-final-spain-beat-england"
NOBEL = "https://example-news.test/science/2024/10/08/nobel-physics-hopfield-hinton"


def ask(index, question, *filters):  # noqa: F811
    r = newsdesk("ask", question, "--index", str(index), "--json", *filters)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def cited(answer) -> list[dict]:
    """Every article the answer names: those quoted, or the related reading when it abstains."""
    return [q["article"] for q in answer["quotes"]] + answer["related"]


def test_source_filter(index):  # noqa: F811
    question = "By how much did the central bank cut interest rates?"
    assert ask(index, question)["quotes"][0]["article"]["url"] == FED  # unfiltered: the Federal Reserve
    only_bce = ask(index, question, "--source", "bce")  # matches the BCE article's link
    assert cited(only_bce) and {a["url"] for a in cited(only_bce)} == {BCE}
    fed = ask(index, question, "--source", "federal")  # matches the Fed article's title
    assert fed["answered"] and {a["url"] for a in cited(fed)} == {FED}
    assert "half a percentage point" in fed["quotes"][0]["text"]


@pytest.mark.xfail(strict=True, reason="known wrong answer since the multilingual model: with --lang en the French "
                   "ECB question is answered from the English Fed article (cosine 0.80, a large lead among the few "
                   "English articles); cross-language answers need the answer-type and near-topic work of issue 13")
def test_lang_filter(index):  # noqa: F811
    question = "De combien la BCE a-t-elle baissé ses taux ?"
    fr = ask(index, question)
    assert fr["answered"] and fr["quotes"][0]["article"]["url"] == BCE
    en = ask(index, question, "--lang", "en")
    assert not en["answered"] and en["related"] and {a["lang"] for a in cited(en)} == {"en"}
    nobel = ask(index, "Who won the Nobel Prize in Physics?", "--lang", "en")
    assert nobel["answered"] and nobel["quotes"][0]["article"]["url"] == NOBEL
    assert "Hopfield" in nobel["quotes"][0]["text"] and {a["lang"] for a in cited(nobel)} == {"en"}


def test_until_filter_includes_its_day(index):  # noqa: F811
    question = "Which team won the European Championship final in Berlin?"
    before = ask(index, question, "--until", "2024-07-01")  # the final was reported on 2024-07-15
    assert EURO not in {a["url"] for a in cited(before)}
    assert cited(before) and all(a["date"] and a["date"] <= "2024-07-01" for a in cited(before))
    on_the_day = ask(index, question, "--until", "2024-07-15")
    assert on_the_day["answered"] and on_the_day["quotes"][0]["article"]["url"] == EURO
    assert all(a["date"] <= "2024-07-15" for a in cited(on_the_day))


def test_stats_tell_the_last_reindex(tmp_path):
    folder, idx = tmp_path / "articles", tmp_path / "index"
    for name, text in ARTICLES.items():
        write(folder / name, text)
    base = ["--index", str(idx), "--articles", str(folder)]

    def stats() -> dict:
        return json.loads(newsdesk("stats", "--index", str(idx), "--json").stdout)

    start = datetime.now(timezone.utc).replace(microsecond=0)
    assert newsdesk("reindex", *base).returncode == 0
    first = datetime.fromisoformat(stats()["last_reindex"])
    assert start <= first <= datetime.now(timezone.utc)
    assert newsdesk("reindex", *base).returncode == 0  # nothing changed: nothing written
    assert datetime.fromisoformat(stats()["last_reindex"]) == first
    write(folder / "late.txt", "title: Late news\n\nThe night ferry to the islands runs again from Friday.")
    again = datetime.now(timezone.utc).replace(microsecond=0)
    assert newsdesk("reindex", *base).returncode == 0
    second = datetime.fromisoformat(stats()["last_reindex"])
    assert again <= second <= datetime.now(timezone.utc) and second >= first
    text = newsdesk("stats", "--index", str(idx)).stdout
    assert f"last reindex  {second.isoformat()}" in text


def test_start_without_a_token_is_the_chat(tmp_path):
    folder = tmp_path / "articles"
    for name, text in ARTICLES.items():
        write(folder / name, text)
    env = {"NEWSDESK_INDEX_DIR": str(tmp_path / "index"), "NEWSDESK_ARTICLES_DIR": str(folder)}
    r = newsdesk("start", env=env, cwd=tmp_path, input="How much will the harbour bridge repairs cost?\n\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("No DISCORD_TOKEN configured: starting the terminal chat")
    assert "first start" in r.stdout and "3 articles" in r.stdout
    out = " ".join(r.stdout.split()).replace("**", "")
    assert "[1] Harbour bridge closes for repairs · 2025-03-04 · Example News" in out
    assert "The city council said the repairs would cost 42 million euros." in out


@pytest.mark.xfail(reason="known wrong answer: no article says 'Euro 2024' (the final's says 'European "
                          "Championship'); the English question shares 'euro' and '2024' with the French ECB article "
                          "in BM25 (which does not tell case apart), and in a pool of English and French passages the "
                          "hand-set formula adds the flat cross-language credit to the words that passage shares by "
                          "chance: quoted with confidence 0.93, though the final's cosine is higher (0.855 against "
                          "0.811); half the credit does not flip it", strict=False)  # fmt: skip
def test_who_won_euro_2024(index):  # noqa: F811
    answer = ask(index, "Who won Euro 2024?")
    assert answer["answered"] and answer["quotes"][0]["article"]["url"] == EURO


def test_a_name_is_not_the_same_word_in_lower_case(index):  # noqa: F811
    """"l'Euro 2024" is the tournament, not the currency of the ECB article's "zone euro": once it quoted the ECB
    article with confidence 0.86. The final is reported in English only, so abstaining is right too."""
    answer = ask(index, "Qui a gagné l'Euro 2024 ?")
    assert BCE not in {q["article"]["url"] for q in answer["quotes"]}
    assert not answer["answered"] or answer["quotes"][0]["article"]["url"] == EURO
