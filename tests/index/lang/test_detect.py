"""Language detection: function words settle short French and English texts, py3langid the longer ones."""

import pytest

from index.lang import SUPPORTED, detect_language

FR_LONG = (
    "Le Conseil municipal a voté jeudi soir la fermeture du pont pour douze semaines de travaux. Les habitants "
    "du quartier devront emprunter la passerelle provisoire installée en amont, tandis que les bus seront déviés "
    "par le boulevard. Selon la mairie, le chantier coûtera près de quatre millions d'euros et devrait se "
    "terminer avant la fin de l'été."
)
EN_LONG = (
    "The city council voted on Thursday evening to close the bridge for twelve weeks of repairs. Residents of "
    "the district will have to use a temporary footbridge built upstream, while buses will be diverted along "
    "the boulevard. According to the town hall, the work will cost nearly four million euros and should be "
    "finished before the end of summer."
)
ES_LONG = (
    "El ayuntamiento votó el jueves por la noche el cierre del puente durante doce semanas de obras. Los "
    "vecinos del barrio tendrán que usar una pasarela provisional instalada río arriba, mientras que los "
    "autobuses serán desviados por el bulevar. Según la alcaldía, las obras costarán casi cuatro millones de "
    "euros y deberían terminar antes del final del verano."
)
IT_LONG = (
    "Il consiglio comunale ha votato giovedì sera la chiusura del ponte per dodici settimane di lavori. Gli "
    "abitanti del quartiere dovranno usare una passerella provvisoria installata a monte, mentre gli autobus "
    "saranno deviati lungo il viale. Secondo il municipio, il cantiere costerà quasi quattro milioni di euro e "
    "dovrebbe finire prima della fine dell'estate."
)
NL_LONG = (
    "De gemeenteraad heeft donderdagavond besloten de brug twaalf weken te sluiten voor reparaties. Bewoners "
    "van de wijk moeten een tijdelijke voetgangersbrug gebruiken die stroomopwaarts is gebouwd, terwijl de "
    "bussen over de boulevard worden omgeleid. Volgens het stadhuis kost het werk bijna vier miljoen euro en "
    "moet het voor het einde van de zomer klaar zijn."
)
PT_LONG = (
    "A câmara municipal votou na quinta-feira à noite o encerramento da ponte durante doze semanas de obras. "
    "Os moradores do bairro terão de usar uma passarela provisória instalada a montante, enquanto os "
    "autocarros serão desviados pela avenida. Segundo a câmara, as obras vão custar quase quatro milhões de "
    "euros e devem terminar antes do fim do verão."
)
DE_SHORT = "Der Stadtrat hat beschlossen, die Brücke für zwölf Wochen wegen Reparaturen zu sperren."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Questions, the shortest texts there are.
        ("Qui a gagné ?", "fr"),
        ("Combien ça coûte ?", "fr"),
        ("Quand le pont rouvrira-t-il ?", "fr"),
        ("Qu’est-ce que c’est ?", "fr"),
        ("Où est le pont ?", "fr"),
        ("Pourquoi", "fr"),
        ("Who won?", "en"),
        ("How much does it cost?", "en"),
        ("When will the bridge reopen?", "en"),
        ("Is the bridge open?", "en"),
        ("Why", "en"),
        ("Wann öffnet die Brücke?", "de"),
        ("¿Cuándo abre el puente?", "es"),
        # Spanish sharing French function words ("se", "de", "la", "en", "que"): once read as French.
        ("¿Cuántos kilómetros de vías se abrieron en la ciudad?", "es"),
        ("¿Quién ganó la final que se jugó en Berlín?", "es"),
        # Short and long articles.
        ("Le pont", "fr"),
        ("The bridge", "en"),
        (DE_SHORT, "de"),
        (FR_LONG, "fr"),
        (EN_LONG, "en"),
        (ES_LONG, "es"),
        (IT_LONG, "it"),
        (NL_LONG, "nl"),
        (PT_LONG, "pt"),
    ],
)
def test_detected_language(text, expected):
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", ["", "12345 !!!", "Ariane 6", "Brexit Macron Biden"])
def test_text_without_words_of_any_language_gets_the_default(text):
    assert detect_language(text) == "en"
    assert detect_language(text, default="fr") == "fr"


def test_function_words_outweigh_an_english_name_in_a_short_french_question():
    assert detect_language("Qui est le CEO de Space Launch Systems ?") == "fr"
    assert detect_language("Who is the PDG of Société Générale?") == "en"


def test_every_detected_language_is_a_supported_one():
    texts = [FR_LONG, EN_LONG, ES_LONG, IT_LONG, NL_LONG, PT_LONG, DE_SHORT, "Ceci n'est pas une pipe."]
    assert {detect_language(t) for t in texts} <= set(SUPPORTED)
    assert set(SUPPORTED) == {"fr", "en", "de", "es", "it", "pt", "nl"}
