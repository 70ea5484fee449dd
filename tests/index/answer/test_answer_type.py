"""What a question asks for, and whether a sentence holds an answer of that type, in French and English."""

import pytest

from index.answer.answer_type import TYPES, expected_type, spans, type_match
from index.answer.question import parse


@pytest.mark.parametrize("question, wanted", [
    ("Combien de personnes ont été évacuées ?", "number"),
    ("Combien y a-t-il de membres au Sénat de Berlin ?", "number"),
    ("Quelle est la population de Lyon ?", "number"),
    ("Quel pourcentage des électeurs a voté ?", "percentage"),
    ("Quelle part du budget va à l'école ?", "percentage"),
    ("Combien a coûté la piste cyclable de Lyon ?", "money"),
    ("À quel prix la maison a-t-elle été vendue ?", "money"),
    ("Quel est le montant des travaux ?", "money"),
    ("En quelle année le pont a-t-il ouvert ?", "date"),
    ("Quand la cathédrale a-t-elle rouvert ?", "date"),
    ("Depuis quand le pont est-il fermé ?", "date"),
    ("Date de naissance d'Anselm Franz", "date"),
    ("À quelle époque le château fut-il construit ?", "date"),
    ("Depuis combien de temps le pont est-il fermé ?", "duration"),
    ("Combien d'années a duré la guerre ?", "duration"),
    ("Quelle a été la durée de la période de paix ?", "duration"),
    ("Qui a gagné l'élection ?", "person"),
    ("Par qui le pont a-t-il été construit ?", "person"),
    ("En 2019, qui a remporté la course ?", "person"),
    ("Le prix a été remis à qui ?", "person"),
    ("Avec qui la mairie a-t-elle signé l'accord ?", "person"),
    ("Quelles sont les espèces qui vivent dans le lac ?", "other"),  # a relative "qui": no person asked
    ("Comment appelle-t-on un outil qui sert à couper le verre ?", "other"),
    ("Quel joueur a marqué le but ?", "person"),
    ("Quelle entreprise a racheté Twitter ?", "organisation"),
    ("Quel parti a remporté les élections ?", "organisation"),
    ("Où se trouve le pont ?", "place"),
    ("Où est ce que le plus grand nombre de personnes peut être rassemblé ?", "place"),
    ("Dans quelle ville a-t-il grandi ?", "place"),
    ("Quel est le fleuve qui traverse Paris ?", "place"),
    ("Pourquoi le pont est-il fermé ?", "reason"),
    ("Pour quelle raison Hans Herrmann quitte-t-il l'écurie Porsche ?", "reason"),
    ("Qu'est-ce qui a causé l'incendie ?", "reason"),
    ("Qu'est-ce qu'un hyphe ?", "definition"),
    ("Que signifie le mot bazar ?", "definition"),
    ("Le pont est-il fermé ?", "yes_no"),
    ("Est-ce que le pont est fermé ?", "yes_no"),
    ("Pratique-t-on le bronzage uniquement en bord de mer ?", "yes_no"),
    ("Comment Doris aggrava-t-elle sa blessure ?", "other"),
    ("De quoi est constitué le mycélium ?", "other"),
])  # fmt: skip
def test_what_a_french_question_asks_for(question, wanted):
    assert expected_type(question, "fr") == wanted


@pytest.mark.parametrize("question, wanted", [
    ("How many people were evacuated?", "number"),
    ("How tall is the tower?", "number"),
    ("What is the population of Warsaw?", "number"),
    ("What percentage of voters turned out?", "percentage"),
    ("What share of the budget goes to schools?", "percentage"),
    ("How much did the repairs cost?", "money"),
    ("What was the price of the house?", "money"),
    ("How much money did the film make?", "money"),
    ("When did the bridge open?", "date"),
    ("In what year did Tesla die?", "date"),
    ("What century was the castle built in?", "date"),
    ("How long did the strike last?", "duration"),
    ("For how many years did he reign?", "duration"),
    ("Who won the election?", "person"),
    ("By whom was the bridge built?", "person"),
    ("Which player scored the goal?", "person"),
    ("Which company bought Twitter?", "organisation"),
    ("What team won Super Bowl 50?", "organisation"),
    ("Where is the bridge?", "place"),
    ("In which city did he grow up?", "place"),
    ("What is the name of the river?", "place"),
    ("Why was the bridge closed?", "reason"),
    ("What caused the fire?", "reason"),
    ("What is a hypha?", "definition"),
    ("What does NFL stand for?", "definition"),
    ("Is the bridge closed?", "yes_no"),
    ("Did the council approve the plan?", "yes_no"),
    ("What did Tesla invent?", "other"),
    ("How did the fire start?", "other"),
])  # fmt: skip
def test_what_an_english_question_asks_for(question, wanted):
    assert expected_type(question, "en") == wanted


def test_every_type_named_is_known_and_a_language_without_a_table_asks_for_other():
    assert {expected_type("Combien ?", "fr"), expected_type("Why?", "en")} <= set(TYPES)
    assert expected_type("¿Cuántas personas?", "es") == "other"


def test_the_parsed_question_carries_its_answer_type():
    assert parse("Combien a coûté la piste cyclable de Lyon ?", 2000).answer_type == "money"
    assert parse("Who won the city chess championship?", 2000).answer_type == "person"


@pytest.mark.parametrize("sentence, lang, kinds", [
    ("Le chantier a coûté 4 millions d'euros.", "fr", {"money", "number"}),
    ("Repairs cost $4.2 million.", "en", {"money", "number"}),
    ("Le taux atteint 12,5 % en 2019.", "fr", {"percentage", "number", "year"}),
    ("Turnout rose to 61 percent.", "en", {"percentage", "number"}),
    ("La moitié des habitants est partie.", "fr", {"percentage"}),
    ("Il est resté trois ans à Bari.", "fr", {"duration", "number", "place"}),
    ("The strike lasted two weeks because of pay.", "en", {"duration", "number", "reason"}),
    ("L'ONU a publié le rapport le 3 mai.", "fr", {"organisation", "date", "number"}),
    ("It opened on 12/05/2020.", "en", {"date", "number", "year"}),
    ("Le château date du XIIe siècle.", "fr", {"date"}),
    ("Selon M. Dupont, le pont a fermé car il menaçait de s'effondrer.", "fr", {"person", "reason"}),
    ("The mayor met President Obama in Seattle.", "en", {"person", "place"}),
    ("Barack Obama visited Microsoft Corp.", "en", {"name", "organisation"}),
    ("Un hyphe désigne un filament.", "fr", {"definition"}),
    ("A hypha refers to a long filament.", "en", {"definition"}),
    ("Le pont est fermé.", "fr", set()),
    ("The bridge is closed.", "en", set()),
    ("La carte est jolie.", "fr", set()),  # "car" is a cause in French, not inside a word
    ("Der Preis lag 1990 bei 5 Euro.", "de", {"money", "number", "year"}),  # German nouns are no names
])  # fmt: skip
def test_the_answer_type_spans_of_a_sentence(sentence, lang, kinds):
    assert {s.kind for s in spans(sentence, lang)} == kinds


@pytest.mark.parametrize("sentence, lang, wanted, match", [
    ("Le chantier a coûté 4 millions d'euros.", "fr", "money", 1.0),
    ("Le chantier a duré 4 mois.", "fr", "money", 0.5),  # a number, not an amount
    ("Le chantier a été financé par la ville.", "fr", "money", 0.0),
    ("The bridge opened in 1932.", "en", "date", 1.0),
    ("The bridge opened to great fanfare.", "en", "date", 0.0),
    ("Le prix a été remis par M. Durand.", "fr", "person", 1.0),
    ("The prize went to Lina Varga.", "en", "person", 0.5),  # a name: person, place or firm
    ("The prize was given out.", "en", "person", 0.0),
    ("The bridge closed because of the storm.", "en", "reason", 1.0),
    ("The bridge closed.", "en", "yes_no", None),  # nothing to look for
])  # fmt: skip
def test_how_well_a_sentence_matches_the_asked_type(sentence, lang, wanted, match):
    assert type_match(sentence, wanted, lang) == match
