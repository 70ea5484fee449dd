"""French: the words Newsdesk matches (the shape is `index.lang.vocabulary.Vocabulary`)."""

from __future__ import annotations

from index.lang.vocabulary import Vocabulary

ELISIONS = ("l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu", "presqu",
            "quelqu")

VOCABULARY = Vocabulary(
    code="fr",
    snowball="french",
    stopwords="STOPWORDS_FRENCH",
    function_words=frozenset({
        "le", "la", "les", "un", "une", "des", "du", "de", "au", "aux", "et", "est", "sont", "qui", "que",
        "quoi", "quel", "quelle", "quels", "quelles", "combien", "quand", "comment", "pourquoi", "ou", "où",
        "dans", "sur", "pour", "par", "avec", "sans", "ce", "cette", "ces", "il", "elle", "ils", "elles",
        "nous", "vous", "je", "a", "été", "son", "sa", "ses", "leur", "leurs", "ne", "pas", "plus", "se",
        "qu", "l", "d"
    }),
    # "a-t-il" comes apart as "a", "t", "il".
    question_words=frozenset({
        "combien", "comment", "pourquoi", "quand", "quel", "quelle", "quels", "quelles", "lequel", "laquelle",
        "lesquels", "lesquelles", "quoi", "qui", "que", "où", "ou", "est-ce", "estce", "dont", "fait",
        "faire", "a-t-il", "a-t-elle", "t", "il", "elle", "ils", "elles"
    }),
    elisions=ELISIONS,
    question_openers=("qui", "que", "quoi", "quel", "quelle", "quels", "quelles", "quand", "où", "ou",
                      "pourquoi", "comment", "combien", "est-ce", "lequel", "laquelle", "y a-t-il"),
    question_marks=(r"-t-(il|elle|on)\b",),  # the inverted subject: "a-t-il", "viendra-t-elle"
    abbreviations=frozenset({
        "m", "mm", "mme", "mmes", "mlle", "mlles", "dr", "pr", "prof", "me", "mgr", "st", "ste", "etc", "cf",
        "ex", "env", "av", "bd", "janv", "fev", "fevr", "févr", "avr", "juil", "sept", "oct", "nov", "dec",
        "déc"
    }),
    number_abbreviations=frozenset({"n", "p", "pp", "vol", "art", "chap", "fig"}),
    months=("janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre", "octobre",
            "novembre", "decembre"),
    month_abbreviations={"janv": 1, "fevr": 2, "fev": 2, "avr": 4, "juil": 7, "sept": 9, "oct": 10, "nov": 11,
                         "dec": 12},
    relative_dates={"hier": 1, "aujourd'hui": 0, "la semaine derniere": 7, "cette semaine": 7,
                    "la semaine passee": 7, "le mois dernier": 31, "ce mois-ci": 31, "le mois passe": 31,
                    "l'an dernier": 366, "l'annee derniere": 366},
    month_prefixes=("en ", "de ", "d'", "du mois de "),
    month_year_links=("de l'annee ",),
    year_prefixes=("en", "durant", "pendant"),
    number_questions=("combien", r"quel(le)?s? (est|sont|etait|était) (le|la|les) (nombre|montant|prix|taux|"
                      r"population|pourcentage|somme)"),
    date_questions=("quand", "en quelle annee", "quelle annee", "quelle date", "depuis quand",
                    "a quelle (date|epoque|periode)"),
    who_questions=("qui", "par qui"),
    where_questions=("ou", r"dans quel(le)? (pays|ville|region)"),
    quantity_words=("milliers?", "millions?", "milliards?", "billions?", "douzaines?", "centaines?",
                    "dizaines?", "trillions?"),
)
