"""index/evaluation.py's figures, computed by hand on a few scripted answers: passage and article recall, MRR,
quote hits, the abstention split and the fixed-threshold bar. No model, no index: a fake engine answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest

from index.evaluation import evaluate
from index.records import Answer, ArticleRef, Hit, Passage, Quote

REF = ArticleRef(id=0, title="t", date=None, url=None, path=None, source=None, lang="en")
PASSAGE = Passage(id=0, article_id=0, position=0, start=0, end=1, text="x", sentences=())
KEYS = [f"p{i}" for i in range(1, 31)]
KEY_OF = dict(enumerate(KEYS))  # article id -> passage key, as run_eval builds it
ID_OF = {key: i for i, key in KEY_OF.items()}
DOC_OF = {key: ("d1" if key in ("p1", "p2") else f"d{key[1:]}") for key in KEYS}  # p1 and p2: one article


@dataclass
class Scripted:
    ranking: list[str] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)
    confidence: float = 0.0
    answered: bool = True
    dense: float = 0.0
    score: float = 0.0


class ScriptedEngine:
    """Answers each question as its script says; `searched` records the questions `search` was asked."""

    def __init__(self, scripts: dict[str, Scripted], min_confidence: float = 0.5):
        self.scripts = scripts
        self.profile = SimpleNamespace(min_confidence=min_confidence)
        self.searched: list[str] = []

    def ask(self, question: str, k: int = 3) -> Answer:
        s = self.scripts[question]
        quotes = tuple(Quote(text, 0, len(text), 1.0, 0, REF) for text in s.quotes)
        return Answer(question, s.answered, quotes[:1], (), 0.0, len(KEYS), "en", confidence=s.confidence,
                      more=quotes[1:], ranking=tuple(ID_OF[key] for key in s.ranking))  # fmt: skip

    def search(self, question: str, k: int = 8) -> list[Hit]:
        self.searched.append(question)
        s = self.scripts[question]
        return [Hit(PASSAGE, REF, s.score, dense=s.dense)]


def run(scripts: dict[str, Scripted], questions: list[dict], **options) -> tuple[dict, ScriptedEngine]:
    engine = ScriptedEngine(scripts)
    return evaluate(engine, questions, KEY_OF, DOC_OF, **options), engine


# question -> (gold passage, answer, what the engine does)
RETRIEVAL = {
    "rank 1": ("p1", "Lina Varga", Scripted(["p1", "p2"], ["LINA VARGA won the final."])),
    "rank 3": ("p3", "two metres",
               Scripted(["p4", "p5", "p3"], ["No.", "Nor this.", "Lowered by two  metres."])),
    # its passage is missed, but a passage of the same article (p1, article d1) comes first
    "article only": ("p2", "comté", Scripted(["p1", "p6"], [])),
    "rank 7": ("p7", "six carriages", Scripted(["p8", "p9", "p10", "p11", "p12", "p13", "p7"],
                                               ["a", "b", "c", "Six carriages."])),
}  # fmt: skip


def test_retrieval_and_quote_figures():
    questions = [{"question": q, "passage_id": gold, "answers": [answer]}
                 for q, (gold, answer, _) in RETRIEVAL.items()]  # fmt: skip
    report, engine = run({q: s for q, (_, _, s) in RETRIEVAL.items()}, questions)
    assert (report["questions"], report["answerable"], report["unanswerable"]) == (4, 4, 0)
    assert report["passage"] == {"r@1": 1 / 4, "r@5": 2 / 4, "r@20": 3 / 4, "mrr": (1 + 1 / 3 + 1 / 7) / 4}
    assert report["article"] == {"r@1": 2 / 4, "r@5": 3 / 4}
    # hit@1: the first quote holds the answer (case and spacing aside); hit@3: one of the first three does
    assert report["quote"]["hit@1"] == 1 / 4 and report["quote"]["hit@3"] == 2 / 4
    assert report["quote"]["words_mean"] == (5 + 1 + 1) / 3  # first quotes; questions without any left out
    assert report["abstention"] is None and engine.searched == []  # no unanswerable question: no split


@pytest.mark.parametrize(
    ("quote", "answer", "hit"),
    [
        ("The comté was aged in a tunnel.", "comte", True),  # accents folded
        ("Sold on the thirtieth\u00a0of June.", "thirtieth of June", True),  # a no-break space is a space
        ("Sold on the thirtieth of June.", "thirtieth of July", False),
        ("Sold on the thirtieth of June.", "  ", False),  # a blank answer matches nothing
    ],
)
def test_a_quote_hits_when_it_holds_an_answer(quote, answer, hit):
    questions = [{"question": "q", "passage_id": "p1", "answers": [answer]}]
    report, _ = run({"q": Scripted(["p1"], [quote])}, questions)
    assert report["quote"]["hit@1"] == float(hit)


def test_abstention_split_and_the_fixed_threshold_bar():
    # (confidence, dense, fused score) of the best passage; the first two answerable questions are answered
    answerable = [(0.9, 0.9, 0.4), (0.8, 0.8, 0.3), (0.7, 0.7, 0.2), (0.6, 0.6, 0.1)]
    unanswerable = [(0.3, 0.74, 0.05), (0.7, 0.8, 0.5), (0.5, 0.1, 0.9)]
    pos = {f"a{i}": Scripted(["p1"], ["x"], c, i < 2, d, s) for i, (c, d, s) in enumerate(answerable)}
    neg = {f"n{i}": Scripted([], [], c, True, d, s) for i, (c, d, s) in enumerate(unanswerable)}
    questions = [{"question": q, "passage_id": "p1", "answers": ["x"]} for q in pos]
    questions += [{"question": q, "is_impossible": True, "answers": []} for q in neg]
    report, engine = run(pos | neg, questions)
    assert (report["questions"], report["answerable"], report["unanswerable"]) == (7, 4, 3)
    assert report["passage"]["r@1"] == 1.0  # the unanswerable questions take no part in recall
    ab = report["abstention"]
    assert ab["threshold"] == 0.5
    assert ab["answered_answerable"] == 2 / 4  # answered flags, not confidences
    assert ab["abstained_unanswerable"] == 1 / 3  # only 0.3 is under 0.5; at 0.5 it answers
    # AUC = P(answerable > unanswerable), a tie half: vs 0.3 and 0.5 all four win; vs 0.7 two win, one ties
    assert ab["auc"] == pytest.approx((4 + 4 + 2.5) / 12)
    # the bar: a cut on one score answering half the answerable (their median), and what it does to the others
    dense, score = ab["fixed"]["dense"], ab["fixed"]["score"]
    assert dense == pytest.approx({"abstained_unanswerable": 2 / 3, "auc": 7.5 / 12, "threshold": 0.75})
    assert score == pytest.approx({"abstained_unanswerable": 1 / 3, "auc": 4 / 12, "threshold": 0.25})
    assert sorted(engine.searched) == sorted(pos | neg)


def test_without_the_fixed_bar_nothing_is_searched():
    scripts = {"a": Scripted(["p1"], ["x"], confidence=0.9), "n": Scripted(confidence=0.1)}
    questions = [{"question": "a", "passage_id": "p1", "answers": ["x"]},
                 {"question": "n", "is_impossible": True, "answers": []}]  # fmt: skip
    report, engine = run(scripts, questions, fixed=False)
    assert report["abstention"]["fixed"] is None and report["abstention"]["auc"] == 1.0
    assert engine.searched == []


def test_the_report_explains_itself_per_answer_type_pair_and_error():
    scripts = {
        "How many chicks hatched?": Scripted(["p1"], ["Six chicks hatched."], 0.9),
        "How many eggs were laid?": Scripted(["p2"], ["The barn owls nested."], 0.9),  # the wrong sentence
        "Who found the nest?": Scripted(["p3"], ["Lina Varga found it."], 0.9),
        "Who ringed the chicks?": Scripted([], [], 0.1, answered=False),  # abstained on an answerable one
        "When will they fledge?": Scripted(["p4"], ["They were ringed."], 0.9),  # answered an unanswerable one
    }
    questions = [{"question": q, "passage_id": f"p{i + 1}", "answers": [a]}
                 for i, (q, a) in enumerate([("How many chicks hatched?", "six"), ("How many eggs were laid?", "five"),
                                             ("Who found the nest?", "Lina Varga"), ("Who ringed the chicks?", "Ed")])]
    questions.append({"question": "When will they fledge?", "is_impossible": True, "answers": []})
    report, _ = run(scripts, questions, fixed=False, lang_of={"p1": "en", "p2": "es", "p3": "en", "p4": "en"})
    by_type = report["by_type"]
    assert (by_type["number"]["answerable"], by_type["number"]["hit@1"]) == (2, 0.5)
    assert (by_type["person"]["hit@1"], by_type["person"]["answered"]) == (0.5, 0.5)
    assert (by_type["date"]["answerable"], by_type["date"]["answered_unanswerable"]) == (0, 1)
    assert report["by_pair"]["en->es"] == {"answerable": 1, "hit@1": 0.0, "answered": 1.0, "unanswerable": 0,
                                           "answered_unanswerable": 0}  # fmt: skip
    assert report["errors"] == {"answered_unanswerable": 1, "abstained_answerable": 1}
    # the misses: what was asked and expected, the first quote shown and its article
    assert [m["question"] for m in report["misses"]] == ["How many eggs were laid?", "Who ringed the chicks?"]
    miss = report["misses"][0]
    assert (miss["expected"], miss["quote"], miss["article"], miss["answer_type"]) == (
        ["five"], "The barn owls nested.", "p1: t", "number")
    assert report["misses"][1]["quote"] is None and report["misses"][1]["answered"] is False


def test_at_most_twenty_misses_are_kept():
    scripts = {f"q{i}": Scripted(["p1"], ["nothing here"]) for i in range(30)}
    questions = [{"question": q, "passage_id": "p1", "answers": ["x"]} for q in scripts]
    report, _ = run(scripts, questions)
    assert [m["question"] for m in report["misses"]] == [f"q{i}" for i in range(20)]
