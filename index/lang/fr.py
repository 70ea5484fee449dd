"""French: the words Newsdesk matches (the shape is `index.lang.vocabulary.Vocabulary`)."""

from __future__ import annotations

from index.lang.vocabulary import Vocabulary


# "quel pays", "quelle est la ville", "dans lequel des pays": a "which" question about one of `nouns`.
def _which(nouns: str) -> str:
    return (rf"\b(quel(le)?s?|lequel|laquelle|lesquel(le)?s) ((est|sont|etait|etaient|fut|furent|sera|serait|"
            rf"a ete) )?((le|la|les|l'|leur|son|sa|ses) ?)?(nom d[eu] (l')?)?({nouns})s?\b")


_PERSONS = ("personne|homme|femme|personnage|joueur|joueuse|president|presidente|roi|reine|auteur|artiste|"
            "ecrivain|scientifique|pilote|entraineur|ministre|chanteur|chanteuse|acteur|actrice|peintre|"
            "architecte|compositeur|pape|empereur|imperatrice|general|philosophe|physicien|chef|fondateur|"
            "fondatrice|directeur|directrice|dirigeant|inventeur|maire|prince|princesse|duc|comte|saint|poete|"
            "musicien|realisateur|createur|proprietaire|fils|fille|pere|mere|epouse|mari|frere|soeur|successeur")
_ORGANISATIONS = ("entreprise|societe|compagnie|organisation|organisme|groupe|parti|club|equipe|association|"
                  "institution|universite|banque|marque|journal|firme|federation|syndicat|agence|gouvernement|"
                  "ecole|fabricant|constructeur|chaine|ecurie|label|maison d'edition|editeur|ordre|armee|"
                  "institut|academie|ministere|conseil|commission|assemblee|tribunal|cour|alliance|coalition")
_PLACES = ("pays|ville|region|lieu|endroit|continent|quartier|commune|departement|province|etat|ile|riviere|"
           "fleuve|montagne|territoire|capitale|zone|localite|village|contree|rue|batiment|edifice|port|"
           "royaume|empire|cite|mer|ocean|lac|site|destination|nation")

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
    # The most specific first: "combien coûte" asks for money before "combien" asks for a number.
    answer_types=(
        (r"pourcentage|pour ?cent|proportion|quelle part\b|quel(le)? (est|etait) (la part|le taux)\b", "percentage"),
        (r"combien (d'argent|d'euros|de dollars|de francs)|\bcombien (a |ont |avait |va )?(coute|coutait|coutera|"
         r"coutent|vaut|valait|rapporte|a rapporte|paye)|\bcombien\b.*\b(coute|coutait|paye|verse|depense|"
         r"investi|vendu|achete|rachete|finance)|\ba quel prix|\bpour quel (prix|montant)|"
         + _which("prix|cout|montant|budget|salaire|chiffre d'affaires|valeur|somme|tarif|amende"), "money"),
        (r"combien de temps|(pendant|depuis|durant|en) combien|combien (d'annees|d'ans|de mois|de jours|"
         r"de semaines|d'heures|de minutes|de siecles|de decennies)|\bduree\b|\bquel age\b", "duration"),
        (r"\bquand\b|\bdate\b|\ben quel(le)? (annee|siecle|mois|saison)|"
         + _which("annee|epoque|periode|siecle|mois|jour|decennie|heure|moment"), "date"),
        (r"\bcombien\b|" + _which("nombre|population|taille|hauteur|longueur|superficie|poids|vitesse|distance|"
                                  r"altitude|surface|capacite|quantite|profondeur|largeur|temperature|score|"
                                  r"effectif|total|numero|rang"), "number"),
        (r"\bpourquoi\b|pour quelle(s)? raison|" + _which("raison|cause|motif|motivation|origine|but|objectif")
         + r"|qu'est-ce qui (a )?(cause|explique|provoque|pousse|motive)|\ba cause de quoi", "reason"),
        (r"que (signifie|veut dire|designe)|c'est quoi|\bdefinition\b|^qu'est-ce (que|qu') ?(c'est|un|une)\b|"
         r"^(qu'est-ce (que|qu')|que) (sont|est) (un|une|des|les|le|la|l')\b", "definition"),
        (_which(_ORGANISATIONS), "organisation"),
        (r"^(d'|par |jusqu')?ou\b|\b(d'|par |jusqu')ou\b|\bou (est|sont|etait|etaient|se|s'|a |ont|avait|vit|"
         r"vivait|habite|habitait|trouve|situe|peut|va|vont|allait|sera|fut|est-ce|l'|le |la |les )|"
         + _which(_PLACES), "place"),
        # "qui" asks who when it opens the question (or a clause), follows a preposition or ends it; inside a
        # question it is mostly a relative ("un objet qui est multiplié par trois", "les villes qui entourent").
        (r"(^|, )(?<!ce )(?<!est-ce )qui\b|\b(a|de|par|pour|avec|chez|contre|selon|sur|envers|entre|sans|vers|"
         r"d'apres|aupres de|c'est) qui\b|\bqui ?\?*$|" + _which(_PERSONS), "person"),
        (r"^(est-ce (que|qu')|y a-t-il)", "yes_no"),
        # Any other question word asks for what no table names ("comment", "de quoi"): no yes-no question then.
        (r"\b(comment|quoi|que|qu'|quel(le)?s?|lequel|laquelle|lesquel(le)?s)\b|^qu'", "other"),
        (r"-t-(il|elle|on)\b|^[^ ]+-(il|elle|ils|elles|on|je|tu|nous|vous)\b|"
         r"\b(est|sont|etait|peut|peuvent|faut|existe|a|ont)-(il|elle|ils|elles|on)\b", "yes_no"),
    ),
    number_words=("deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze", "douze",
                  "treize", "quatorze", "quinze", "seize", "vingt", "trente", "quarante", "cinquante", "soixante",
                  "cent", "cents", "mille", "dizaines?", "douzaines?", "centaines?", "milliers?", "millions?",
                  "milliards?", "premier", "premiere", "deuxieme", "second", "seconde", "troisieme",
                  "plusieurs"),
    percent_words=("pour ?cent", "pourcents?", "points? de pourcentage", "la moitie", "un tiers", "deux tiers",
                   "un quart", "trois quarts", "majorite", "minorite"),
    currency_words=("euros?", "dollars?", "francs?", "livres?( sterling)?", "yens?", "yuans?", "roubles?",
                    "marks?", "pesos?", "lires?", "ecus?", "deniers?", "sous", "centimes?", "florins?",
                    "couronnes?", "dinars?", "dirhams?", "roupies?"),
    duration_units=("ans?", "annees?", "mois", "semaines?", "jours?", "journees?", "heures?", "minutes?",
                    "secondes?", "siecles?", "decennies?", "millenaires?", "saisons?", "nuits?", "trimestres?"),
    date_words=("siecle", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche", "hier",
                "aujourd'hui", "demain", "av\\. j\\.-c", "apres j\\.-c", "epoque", "annees [0-9]{2}"),
    reason_markers=("parce (que|qu')", "car", "en raison (de|du|des|d')", "a cause (de|du|des|d')",
                    "grace (a|au|aux)", "afin (de|d'|que|qu')", "pour (que|qu')", "du fait (de|du|des|d'|que|qu')",
                    "faute (de|d')", "(a la )?suite (a|au|aux|de|du|d')", "puisqu'", "puisque", "etant donne",
                    "c'est pourquoi", "raisons?", "causes?", "motifs?", "dans le but (de|d')", "pour eviter",
                    "pour permettre", "en vue (de|d')", "par crainte (de|d')", "de peur (de|d'|que|qu')",
                    "explique", "expliquent", "provoque", "provoquent", "entraine", "en effet", "ainsi",
                    "pour (proteger|lutter|obtenir|favoriser|assurer|garantir|reduire|ameliorer)"),
    definition_markers=("designe", "designent", "signifie", "signifient", "veut dire", "consiste", "consistent",
                        "se definit", "est defini", "est un", "est une", "sont des", "c'est-a-dire", "appele",
                        "appelee", "nomme", "terme", "notion"),
    person_titles=("m", "mme", "mlle", "dr", "pr", "me", "mgr", "monsieur", "madame", "president", "presidente",
                   "ministre", "roi", "reine", "prince", "princesse", "duc", "duchesse", "comte", "comtesse",
                   "general", "marechal", "capitaine", "pape", "saint", "sainte", "eveque", "cardinal", "docteur",
                   "professeur", "maire", "depute", "senateur", "empereur", "imperatrice", "chancelier", "juge",
                   "abbe", "frere", "soeur", "fils", "fille", "epouse", "mari", "acteur", "actrice", "ecrivain",
                   "auteur", "peintre", "chanteur", "chanteuse", "joueur", "entraineur", "pilote", "architecte",
                   "compositeur", "philosophe", "directeur", "directrice", "fondateur", "lord", "sir"),
    organisation_words=(*_ORGANISATIONS.split("|"), "sarl", "inc", "ltd", "fc", "cie", "ong"),
    place_words=(*_PLACES.split("|"), "mont", "golfe", "baie", "vallee", "plaine", "plateau", "foret"),
    place_prepositions=("a", "en", "au", "aux", "vers", "pres de", "depuis", "jusqu'a", "dans"),
)
