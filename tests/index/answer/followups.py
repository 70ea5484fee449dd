"""The follow-up eval set: conversations in our own words over samples/articles (issue 15).

Each conversation opens with a question that stands on its own, then one or two follow-ups that do not ("Et
depuis ?", "Who voted against?"). Every step names the article (file name in samples/articles) and a span of
it (a substring of the article's text) that its answer should quote. A step is a hit when the answer's first
quote comes from that article and holds the span.

`python -m tests.index.answer.followups` prints the hit rates with the default model, with and without the
conversation's context (the figures index/tuning.py's FOLLOWUP_* numbers were chosen by).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from index.answer.conversation import Turn
from index.records import Answer


@dataclass(frozen=True)
class Step:
    question: str
    article: str  # file name in samples/articles
    span: str  # a substring of that article the first quote must hold


S = Step  # a short name: the table below reads better


OPENAI = "openai-microsoft-renegociation.txt"
UK = "uk-general-election-2024.txt"
NOTRE_DAME = "notre-dame-reouverture.md"
EURO = "euro-2024-final-spain-england.html"
FED = "fed-rate-cut-september-2024.txt"
BCE = "bce-baisse-des-taux-juin-2024.txt"
NOBEL = "nobel-physics-2024.md"
MARCHAND = "leon-marchand-quatre-titres.html"
BLUE_GHOST = "blue-ghost-moon-landing.html"
POLITICS = "culture-politics.jsonl"
CLIMATE = "climate-2024.json"
AI_ACT = "eu-ai-act-enters-into-force.md"
EUCLID = "euclid-premieres-donnees.txt"
ARIANE_DELAY = "ariane-6-vol-commercial-reporte.txt"

CONVERSATIONS: tuple[tuple[Step, ...], ...] = (
    (S("Combien Microsoft a-t-il mis au départ dans OpenAI ?", OPENAI, "1 milliard de dollars"),
     S("Et depuis ?", OPENAI, "plus de 13 milliards de dollars"),
     S("et en 2030 ?", OPENAI, "jusqu’en 2030")),
    (S("How many seats did Labour take at the UK general election?", UK, "411 of the 650 seats"),
     S("And the Conservatives?", UK, "121 seats"),
     S("Who did he pick as chancellor?", UK, "Rachel Reeves")),
    (S("What share of the national vote did Labour get in July 2024?", UK, "about 34 percent"),
     S("And the turnout?", UK, "roughly 60 percent")),
    (S("Quand la cathédrale Notre-Dame de Paris a-t-elle rouvert ?", NOTRE_DAME, "7 décembre 2024"),
     S("Et les dons ?", NOTRE_DAME, "846 millions d’euros de dons"),
     S("Avec combien d'artisans ?", NOTRE_DAME, "2 000 artisans")),
    (S("Which team won the Euro 2024 final in Berlin?", EURO, "Spain won the European Championship"),
     S("Who scored the winner?", EURO, "Mikel Oyarzabal scored the winner"),
     S("And for England?", EURO, "Cole Palmer")),
    (S("By how much did the Federal Reserve cut rates in September 2024?", FED, "half a percentage point"),
     S("Who voted against?", FED, "Michelle Bowman dissented"),
     S("why?", FED, "quarter-point cut")),
    (S("When did the Fed lower its benchmark rate in 2024?", FED, "18 September 2024"),
     S("And the unemployment rate?", FED, "4.2 percent")),
    (S("De combien la BCE a-t-elle baissé son taux de dépôt en juin 2024 ?", BCE, "de 4 % à 3,75 %"),
     S("Pourquoi l'avait-elle relevé avant ?", BCE, "pour freiner une inflation")),
    (S("Who won the 2024 Nobel Prize in Physics?", NOBEL, "John Hopfield and Geoffrey Hinton"),
     S("How much money will they share?", NOBEL, "11 million Swedish kronor"),
     S("When is the ceremony?", NOBEL, "10 December")),
    (S("Which Nobel laureate left Google in 2023?", NOBEL, "left Google in 2023"),
     S("Where does he teach?", NOBEL, "University of Toronto")),
    (S("Combien de titres olympiques Léon Marchand a-t-il remportés à Paris ?", MARCHAND, "quatrième titre"),
     S("Qui l'entraîne ?", MARCHAND, "Bob Bowman"),
     S("Et ses parents ?", MARCHAND, "nageurs internationaux")),
    (S("Where did the Blue Ghost lander touch down?", BLUE_GHOST, "Mare Crisium"),
     S("When was it launched?", BLUE_GHOST, "15 January 2025"),
     S("How long will it operate?", BLUE_GHOST, "one lunar day")),
    (S("Par combien de voix la censure contre Michel Barnier a-t-elle été adoptée ?", POLITICS, "331 voix"),
     S("Quel est le précédent ?", POLITICS, "1962"),
     S("Combien de temps est-il resté à Matignon ?", POLITICS, "environ trois mois")),
    (S("How much did Taylor Swift's Eras Tour bring in?", POLITICS, "$2.08 billion"),
     S("Why were some shows cancelled?", POLITICS, "a plot to attack the event"),
     S("Where was the last show?", POLITICS, "BC Place in Vancouver")),
    (S("How much climate finance did COP29 agree on?", CLIMATE, "$300 billion a year"),
     S("And the previous target?", CLIMATE, "$100 billion a year"),
     S("Where is the next one?", CLIMATE, "Belém, Brazil")),
    (S("Quelle a été l'année la plus chaude jamais mesurée ?", CLIMATE, "L’année 2024 a été la plus chaude"),
     S("Et le jour le plus chaud ?", CLIMATE, "22 juillet 2024")),
    (S("When did the EU AI Act enter into force?", AI_ACT, "1 August 2024"),
     S("What fines?", AI_ACT, "35 million euros or 7 percent"),
     S("And when do the bans apply?", AI_ACT, "2 February 2025")),
    (S("Combien de galaxies Euclid a-t-il montrées dans ses premières données ?", EUCLID, "26 millions de galaxies"),
     S("D'où observe-t-il ?", EUCLID, "point de Lagrange L2"),
     S("Et son objectif ?", EUCLID, "matière noire")),
    (S("Combien de candidats lentilles gravitationnelles Euclid a-t-il repérés ?", EUCLID, "500 candidats"),
     S("Quand a-t-il été lancé ?", EUCLID, "1er juillet 2023")),
    (S("Pourquoi Arianespace a-t-elle interrompu la chronologie du lundi 3 mars 2025 ?", ARIANE_DELAY, "vanne"),
     S("Et qu'emportait la fusée ?", ARIANE_DELAY, "CSO-3")),
)  # fmt: skip


def hit(answer: Answer, step: Step) -> bool:
    """True when the first quote comes from the step's article and holds its span."""
    if not answer.quotes:
        return False
    first = answer.quotes[0]
    return Path(first.article.path or "").name == step.article and step.span in first.text


def replay(engine, conversation: tuple[Step, ...], *, with_context: bool = True) -> Iterator[tuple[Step, Answer]]:
    """Ask a conversation's steps in order, each with the earlier turns as context (or none)."""
    turns: list[Turn] = []
    for step in conversation:
        answer = engine.ask(step.question, context=tuple(turns) if with_context else ())
        turns.append(Turn.of(answer))
        yield step, answer


def followup_hits(engine, *, with_context: bool = True) -> tuple[int, int]:
    """(hits, follow-ups) over every conversation's follow-ups (not the opening questions)."""
    hits = total = 0
    for conversation in CONVERSATIONS:
        for n, (step, answer) in enumerate(replay(engine, conversation, with_context=with_context)):
            if n:
                hits += hit(answer, step)
                total += 1
    return hits, total


def main() -> int:
    from index.embedding import make_embedder
    from index.engine import Engine
    from tests.conftest import SAMPLES

    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Path(tmp) / "index", make_embedder())
        engine.reindex([SAMPLES])
        for conversation in CONVERSATIONS:
            for n, (step, answer) in enumerate(replay(engine, conversation)):
                mark = "ok " if hit(answer, step) else "MISS"
                first = answer.quotes[0] if answer.quotes else None
                where = f"{Path(first.article.path or '').name}: {first.text[:70]}" if first else "(abstained)"
                print(f"{'  ' if n else ''}{mark} {step.question} [{answer.confidence:.2f}"
                      f"{' ctx' if answer.context_from else ''}] -> {where}")  # fmt: skip
        for with_context in (True, False):
            hits, total = followup_hits(engine, with_context=with_context)
            print(f"follow-ups {'with' if with_context else 'without'} context: {hits}/{total} = {hits / total:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
