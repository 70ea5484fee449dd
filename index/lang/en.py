"""English: the words Newsdesk matches (the shape is `index.lang.vocabulary.Vocabulary`)."""

from __future__ import annotations

from index.lang.vocabulary import Vocabulary


# "which country", "what is the name of the company": a "which" question about one of `nouns`.
def _which(nouns: str) -> str:
    return (rf"\b(what|which)( (is|was|are|were) the( name of the)?)? ({nouns})(s|es)?\b|"
            rf"\bname of the ({nouns})\b")


_PERSONS = ("person|man|woman|player|president|king|queen|author|artist|writer|scientist|actor|actress|singer|"
            "leader|emperor|general|pope|architect|composer|founder|director|coach|minister|official|doctor|"
            "poet|philosopher|manager|ruler|prime minister|chancellor|member|governor|mayor|inventor|explorer|"
            "musician|physicist|chemist|engineer|saint|prince|princess|duke|son|daughter|father|mother|wife|"
            "husband|brother|sister|successor|quarterback|owner|ceo")
_ORGANISATIONS = ("company|compan|firm|organi[sz]ation|group|party|team|club|agency|university|school|bank|brand|"
                  "newspaper|network|institution|corporation|business|band|government|union|league|manufacturer|"
                  "airline|studio|publisher|channel|station|ministry|department|association|federation|council|"
                  "committee|court|army|navy|church|order|college|institute|academy|label|foundation|"
                  "alliance|coalition|dynasty|tribe|franchise")
_PLACES = ("country|countr|city|citi|state|region|place|town|village|continent|area|province|county|location|"
           "island|river|mountain|street|district|neighbou?rhood|capital|site|venue|building|territory|nation|"
           "stadium|ocean|sea|lake|port|kingdom|empire|border|border|desert|valley|park|airport|destination")

VOCABULARY = Vocabulary(
    code="en",
    snowball="english",
    stopwords="STOPWORDS_EN_PLUS",
    function_words=frozenset({
        "the", "a", "an", "of", "and", "is", "are", "was", "were", "who", "what", "which", "when", "where",
        "why", "how", "many", "much", "in", "on", "for", "by", "with", "without", "this", "that", "these",
        "those", "it", "he", "she", "they", "we", "you", "i", "has", "have", "had", "did", "does", "do",
        "not", "be", "been", "to", "from"
    }),
    question_words=frozenset({
        "how", "many", "much", "what", "which", "who", "whom", "whose", "when", "where", "why", "did", "does",
        "do", "is", "are", "was", "were"
    }),
    question_openers=("who", "what", "when", "where", "why", "how", "which", "is", "are", "was", "were",
                      "did", "does", "do", "can", "could", "should", "will"),
    abbreviations=frozenset({
        "dr", "drs", "prof", "st", "sr", "jr", "mr", "mrs", "ms", "messrs", "gen", "col", "lt", "sgt", "capt",
        "gov", "sen", "rep", "etc", "cf", "ed", "eds", "apr", "approx", "vs", "viz", "al", "inc", "ltd", "co",
        "corp", "dept", "jan", "feb", "mar", "aug", "sep", "oct", "nov", "dec", "ave", "blvd", "rd"
    }),
    number_abbreviations=frozenset({"no", "nos", "p", "pp", "vol", "art", "chap", "fig"}),
    months=("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
            "november", "december"),
    month_abbreviations={"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
                         "oct": 10, "nov": 11, "dec": 12},
    relative_dates={"yesterday": 1, "today": 0, "last week": 7, "past week": 7, "this week": 7,
                    "last month": 31, "this month": 31, "last year": 366},
    month_prefixes=("in ",),
    year_prefixes=("in", "during"),
    number_questions=("how (many|much)", "what (percentage|number|amount)"),
    date_questions=("when", "what year", "which year", "what date", "in what year"),
    who_questions=("who", "whom", "whose", "by whom"),
    where_questions=("where",),
    quantity_words=("thousands?", "hundreds?", "dozens?", "millions?", "billions?", "trillions?"),
    # The most specific first: "how much did it cost" asks for money before "how much" asks for a number.
    answer_types=(
        (r"\bpercent(age)?s?\b|per cent|(what|which) (share|proportion|fraction|portion|part) of|"
         r"what (is|was) the (share|proportion)\b", "percentage"),
        (r"how much money|how many (dollars|euros|pounds)|\bhow much\b.*\b(cost|costs|pay|paid|spend|spent|earn|"
         r"earned|sell|sold|worth|charge|charged|raise|raised|invest|invested|fund|funding|price|fine|fined|"
         r"budget|revenue|owe|owed|bid)\b|at what (price|cost)|for how much|"
         + _which("price|cost|budget|salary|revenue|value|fee|fine|amount of money|sum|wage|income|profit"),
         "money"),
        (r"how long|for how many|how many (years|months|days|weeks|hours|minutes|decades|centuries|seasons)|"
         r"how much time|\bhow old\b|" + _which("duration|length of time|period of time|age"), "duration"),
        (r"\bwhen\b|\bdate\b|\bsince when|\buntil when|"
         + _which("year|day|month|century|decade|time|period|era|season|age|week"), "date"),
        (r"how (many|much)\b|how (tall|high|far|big|large|deep|wide|heavy|fast|often)\b|"
         + _which("number|population|size|height|length|area|weight|speed|distance|capacity|amount|total|count|"
                  "score|depth|width|temperature|rank|ranking|frequency|quantity"), "number"),
        (r"\bwhy\b|for what (reason|purpose)|how come\b|"
         + _which("reason|cause|motive|purpose|motivation|goal|aim|origin")
         + r"|\bwhat (caused|led to|prompted|motivated|drove|made)\b", "reason"),
        (r"^what (is|are|was|were) (a|an)\b|\bwhat (does|did) .* mean\b|what is meant by|"
         r"(definition|meaning) of\b|\bstand for\b|^define\b|^what (is|are|was|were) [a-z-]+\s*\??$", "definition"),
        (_which(_ORGANISATIONS), "organisation"),
        (r"\bwhere\b|" + _which(_PLACES) + r"|\b(in|from|to|at) (what|which) (country|city|state|place|town)",
         "place"),
        (r"\bwho(m|se)?\b|\bby whom\b|" + _which(_PERSONS), "person"),
        (r"^(is|are|was|were|do|does|did|can|could|will|would|should|shall|has|have|had|may|might|must|isn't|"
         r"aren't|wasn't|didn't|doesn't)\b", "yes_no"),
    ),
    number_words=("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
                  "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
                  "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundreds?", "thousands?",
                  "dozens?", "millions?", "billions?", "trillions?", "first", "second", "third", "fourth",
                  "fifth", "several", "once", "twice"),
    percent_words=("percent", "per cent", "percentage points?", "half", "a third", "two thirds", "a quarter",
                   "three quarters", "majority", "minority"),
    currency_words=("dollars?", "euros?", "pounds?( sterling)?", "francs?", "yen", "yuan", "rupees?", "pesos?",
                    "marks?", "guineas?", "shillings?", "pence", "cents?", "usd", "gbp", "eur"),
    duration_units=("years?", "months?", "weeks?", "days?", "hours?", "minutes?", "seconds?", "decades?",
                    "centuries", "century", "millennia", "seasons?", "nights?", "quarters?"),
    date_words=("century", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
                "yesterday", "today", "tomorrow", "[0-9]+(st|nd|rd|th)", "bc", "ad", "bce", "the [0-9]{2,4}s",
                "era", "age"),
    reason_markers=("because", "due to", "owing to", "as a result", "in order to", "so that", "so as to",
                    "thanks to", "led to", "caused", "causes", "cause", "reason", "reasons", "since", "therefore",
                    "hence", "to avoid", "to allow", "to prevent", "to ensure", "motivated", "aimed", "for fear",
                    "explains", "resulted"),
    definition_markers=("refers to", "refer to", "means", "meaning", "is defined", "are defined", "is a", "is an",
                        "are a", "are the", "is the term", "known as", "called", "denotes", "consists of",
                        "is any", "term"),
    person_titles=("mr", "mrs", "ms", "miss", "dr", "prof", "sir", "lord", "lady", "president", "king", "queen",
                   "prince", "princess", "duke", "earl", "count", "general", "colonel", "captain", "pope", "saint",
                   "st", "bishop", "cardinal", "professor", "mayor", "governor", "senator", "minister",
                   "chancellor", "emperor", "judge", "justice", "father", "brother", "sister", "son", "daughter",
                   "wife", "husband", "coach", "quarterback", "player", "actor", "actress", "author", "writer",
                   "artist", "composer", "architect", "director", "founder", "ceo", "chairman"),
    organisation_words=(*_ORGANISATIONS.split("|"), "inc", "ltd", "llc", "corp", "co", "plc", "fc"),
    place_words=(*_PLACES.split("|"), "mount", "bay", "gulf", "lake", "river", "cape", "fort", "north", "south",
                 "east", "west", "new"),
    place_prepositions=("in", "at", "near", "from", "across", "into", "outside", "inside"),
)
