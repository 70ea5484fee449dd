"""`newsdesk eval` on a tiny QA set written for this test: figures a broken retrieval or a broken metric would
change (every question finds its own passage at rank 1; with the labels shuffled, none does)."""

import json

import pytest

from tests.bot.cli.test_cli import newsdesk

pytestmark = pytest.mark.slow

# Six passages on unrelated subjects, each question answerable from exactly one of them.
PASSAGES = [
    ("p-owls", "Barn owls nesting in the church tower of Hollin raised five chicks this spring, the bird "
               "survey reported, the first brood there since the roof was repaired."),
    ("p-tram", "The tram depot on Quarry Road will add six carriages next year, so trams on line four can run "
               "every seven minutes at rush hour."),
    ("p-cheese", "A cheesemaker in the Jura valley won the gold medal at the regional fair for a comté aged "
                 "thirty months in a former railway tunnel."),
    ("p-chess", "Twelve-year-old Lina Varga won the city chess championship on Sunday, beating the defending "
                "champion in a rook endgame that lasted four hours."),
    ("p-dam", "Engineers lowered the reservoir behind the Brenna dam by two metres to inspect the spillway "
              "gates, which had not been checked for eleven years."),
    ("p-bakery", "The Moreau bakery on Canal Street closes after ninety years; the family said the last loaves "
                 "will be sold on the thirtieth of June."),
]
QUESTIONS = [
    ("How many chicks did the barn owls in the church tower raise?", "p-owls", "five chicks"),
    ("How many carriages will the tram depot on Quarry Road add?", "p-tram", "six carriages"),
    ("Where was the prize-winning comté aged?", "p-cheese", "railway tunnel"),
    ("Who won the city chess championship?", "p-chess", "Lina Varga"),
    ("By how much was the reservoir behind the Brenna dam lowered?", "p-dam", "two metres"),
    ("When will the Moreau bakery sell its last loaves?", "p-bakery", "thirtieth of June"),
]
UNANSWERABLE = ["What is the recipe for lemon meringue pie?", "Which film won the Palme d'Or in 1962?"]


def write_set(folder, questions):
    passages, qs = folder / "passages.jsonl", folder / "questions.jsonl"
    passages.write_text("".join(json.dumps({"id": pid, "text": text, "title": pid, "lang": "en"}) + "\n"
                                for pid, text in PASSAGES))  # fmt: skip
    qs.write_text("".join(json.dumps(q) + "\n" for q in questions))
    return passages, qs


def answerable(shift: int = 0) -> list[dict]:
    """The questions, each labelled with the passage `shift` places further on (0: the right one)."""
    return [{"question": q, "passage_id": QUESTIONS[(i + shift) % len(QUESTIONS)][1],
             "answers": [QUESTIONS[(i + shift) % len(QUESTIONS)][2]]} for i, (q, _, _) in enumerate(QUESTIONS)]  # fmt: skip


def test_eval_measures_retrieval_quotes_and_abstention(tmp_path):
    questions = answerable() + [{"question": q, "is_impossible": True, "answers": []} for q in UNANSWERABLE]
    passages, qs = write_set(tmp_path, questions)
    out = tmp_path / "report.json"
    r = newsdesk("eval", "--passages", str(passages), "--questions", str(qs), "--baselines", "--json",
                 "--out", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert json.loads(out.read_text()) == report
    assert (report["questions"], report["answerable"], report["unanswerable"]) == (8, 6, 2)
    assert report["passage"] == {"r@1": 1.0, "r@5": 1.0, "r@20": 1.0, "mrr": 1.0}
    assert report["article"] == {"r@1": 1.0, "r@5": 1.0}
    assert report["quote"]["hit@1"] == 1.0 and report["quote"]["hit@3"] == 1.0
    ab = report["abstention"]
    assert ab["answered_answerable"] == 1.0 and ab["abstained_unanswerable"] == 1.0 and ab["auc"] == 1.0
    assert set(report["baselines"]) == {"bm25", "dense", "rrf"}
    for name, baseline in report["baselines"].items():
        assert baseline["passage"]["r@1"] == 1.0, name  # trivially separable: every method finds them
    assert report["set"] == "questions.jsonl" and report["model"]


def test_eval_with_shuffled_labels_scores_nothing(tmp_path):
    passages, qs = write_set(tmp_path, answerable(shift=1))  # each question labelled with the next passage
    r = newsdesk("eval", "--passages", str(passages), "--questions", str(qs), "--limit", "4", "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert (report["questions"], report["answerable"], report["unanswerable"]) == (4, 4, 0)
    assert report["passage"]["r@1"] == 0.0 and report["passage"]["mrr"] < 1.0
    assert report["quote"]["hit@1"] == 0.0 and report["abstention"] is None
    text = newsdesk("eval", "--passages", str(passages), "--questions", str(qs), "--limit", "2").stdout
    assert text.startswith("questions.jsonl: 2 questions") and "\nnewsdesk | 0.000 | " in text


def test_eval_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "text": "fine"}\n{not json\n')
    r = newsdesk("eval", "--passages", str(bad), "--questions", str(bad))
    assert r.returncode == 1 and "malformed JSON line" in r.stderr and r.stderr.strip().count("\n") == 0
    r = newsdesk("eval", "--passages", str(tmp_path / "none.jsonl"), "--questions", str(bad))
    assert r.returncode == 1 and "no such file" in r.stderr
