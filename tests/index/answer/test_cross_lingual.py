"""A question in one language about an article in another: the passage is found by meaning, its quote chosen by
meaning, and the answer is not held back for sharing no words with the question (a multilingual profile)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from index.answer.config import SearchConfig
from index.build.reindex import reindex_articles
from index.engine import Engine
from index.ingest.articles import make_article
from index.tuning import DEFAULT, PROFILES
from tests.fakes import BilingualEmbedder

FRENCH = ("Le vieux pont du port ferme pour onze semaines à partir de lundi. Des ferries circuleront toutes les "
          "dix minutes entre les deux rives durant toute la fermeture. Les commerçants du quartier craignent une "
          "nette baisse de la fréquentation pendant l'été. Le maire a promis une aide aux boutiques les plus "
          "touchées par le chantier. Les ingénieurs remplaceront les câbles d'acier rongés par le sel.")  # fmt: skip
QUESTION = "What will the engineers replace on the bridge?"
ENGLISH = ("Cyclists in Lyon can ride a new bike lane along its riverside since Tuesday. It runs for seven "
           "kilometres. Riders welcomed a wider path.")  # fmt: skip


@pytest.fixture
def index(tmp_path):
    embedder = BilingualEmbedder()
    articles = [make_article(key="fr", text=FRENCH, path=None, fallback_title="pont",
                             meta={"title": "Le pont du port ferme", "lang": "fr"}),
                make_article(key="en", text=ENGLISH, path=None, fallback_title="lane",
                             meta={"title": "A new bike lane", "lang": "en"})]  # fmt: skip
    engine = Engine(tmp_path / "index", embedder)
    reindex_articles(engine.dir, articles, embedder, engine.build)
    return tmp_path / "index", embedder


def _engine(index, multilingual: bool, sentence_dense: float = 1.0) -> Engine:
    root, embedder = index
    # min_confidence 0: what is quoted is under test here, not whether to abstain.
    engine = Engine(root, embedder, SearchConfig(sentence_dense=sentence_dense, min_confidence=0.0))
    engine.profile = replace(engine.profile, multilingual=multilingual)
    return engine


def test_english_question_gets_the_french_passage_and_the_sentence_that_answers(index):
    engine = _engine(index, multilingual=True)
    answer = engine.ask(QUESTION, k=1)
    top = answer.quotes[0]
    assert top.article.lang == "fr" and "Les ingénieurs remplaceront les câbles d'acier" in top.text
    assert answer.evidence["cross"] == 1.0
    # By words alone the quote would open the article: the answer, in its last sentence, is left out.
    words_only = _engine(index, multilingual=True, sentence_dense=0.0).ask(QUESTION)
    assert words_only.quotes[0].article.lang == "fr" and "câbles" not in words_only.quotes[0].text


def test_an_english_only_profile_does_not_judge_other_languages_by_their_cosine(index):
    engine = _engine(index, multilingual=False)
    answer = engine.ask(QUESTION, k=1)
    assert answer.evidence["cross"] == 0.0


def test_profiles_say_which_models_are_multilingual():
    assert PROFILES["multilingual-e5-small"].multilingual and PROFILES["multilingual-e5-small"].sentence_dense > 0
    assert not PROFILES["all-MiniLM-L6-v2 (bundled)"].multilingual and not DEFAULT.multilingual
