"""Every tuned number of the answer pipeline, in one place, with where it was measured.

Two blocks. First the numbers fitted on evaluation data with one embedding model, kept per model in a
`Profile`: a number fitted with one model's cosines means nothing for another (the dense weight in the
fusion, the abstention model and its threshold, the re-ranking weights). Profiles are keyed by the model of
the embedder's identity (index/embedding `identity_of`); a model without a profile gets DEFAULT and a warning,
and should be measured with `newsdesk eval` on a dev set before it is trusted to abstain. Then, below the
profiles, the numbers that hold for every model: set by hand or measured once, each with its source.

Dev sets only: piaf.dev, piaf_abstain, xquad_en, squad2_dev (docs/quality.md); piaf.test is for the report,
never for fitting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Profile:
    """The fitted numbers of one embedding model."""

    model: str
    measured: str  # the command and sets that fitted them
    # Weight of the (min-max normalized) dense score in the fusion, per question language; BM25 gets the
    # rest. "*" is any other language.
    dense_weight: dict
    # Logistic model of the abstention features (index/answer/evidence.py), per question language; "x"
    # is used when the best passage is in another language than the question (lexical features say nothing).
    confidence_weights: dict
    min_confidence: float
    bm25_k1: float
    bm25_b: float
    sentence_weight: float  # the best sentence's score added to a passage's fused score when re-ranking
    min_relative_score: float  # later quotes must score at least this share of the first
    # Weight of the sentence's cosine with the question, for quotes from a passage in another language than
    # the question (0: words only).
    sentence_dense: float = 0.0
    # The same for a passage in the question's language, beside its words (0: words only).
    sentence_dense_same: float = 0.0
    # Re-ranking: weight of a passage's best sentence cosine with the question, min-max normalized over the
    # re-rank pool (0: none; above 0 every passage of the pool has its sentences embedded at question time).
    rerank_dense: float = 0.0
    # Re-ranking by a fitted formula instead (index/answer/rerank.py): per case, a weight per feature of
    # rerank.FEATURES, keyed like confidence_weights ("x": a passage in another language than the question);
    # a case without a table keeps the formula above. None: that formula for every passage.
    rerank_weights: dict | None = None
    # The model maps languages into one space: a passage in another language than the question is judged by
    # its dense score where shared words cannot be expected. False for an English-only model, whose cosines
    # with another language are noise.
    multilingual: bool = False
    # Two questions whose vectors have at least this cosine are one question to readers' "wrong quote" votes
    # (index/feedback/): measured on paraphrases, same-story questions and unrelated pairs, fr + en, by
    # tests/index/feedback/test_same_question.py (`pytest -s` prints the cosines).
    same_question: float = 0.95
    notes: dict = field(default_factory=dict)

    def weight(self, lang: str) -> float:
        return self.dense_weight.get(lang, self.dense_weight.get("*", 0.3))

    def confidence(self, lang: str, cross: bool) -> dict:
        table = self.confidence_weights
        if cross and "x" in table:
            return table["x"]
        return table.get(lang) or table.get("*") or {}


MINILM = Profile(
    model="all-MiniLM-L6-v2 (bundled)",
    measured="make eval, 2026-12-01 (piaf.dev, piaf_abstain, xquad_en, squad2_dev; docs/quality.md)",
    # English-trained: on French it mostly adds noise, so it gets little weight there.
    dense_weight={"en": 0.5, "fr": 0.2, "*": 0.3},
    # Fitted on piaf_abstain for French (and other languages), the bias set so that 0.5 answers 90% of its
    # answerable questions; on squad2_dev for English, answering 94% there.
    confidence_weights={
        "en": {"bias": -2.24, "dense": 2.73, "sentence_coverage": 0.41, "margin": 0.17, "names": 0.42,
               "numbers": 0.87, "max_unmatched": -1.12},
        "*": {"bias": -5.13, "dense": 4.79, "lexical": 6.81, "coverage": 0.84, "coverage_rare": 0.44,
              "sentence_coverage": 0.1, "margin": 2.67, "names": 1.52, "numbers": 0.77, "unknown": -0.87,
              "max_unmatched": -1.67},
    },
    min_confidence=0.5,
    # Lower than the usual 1.2 / 0.75, which suits short passages: piaf.dev R@1 +0.3, quote hit@1 +0.3, and
    # the fusion stays ahead of BM25 alone on piaf_abstain, which 0.6 / 0.6 did not.
    bm25_k1=0.9,
    bm25_b=0.6,
    sentence_weight=0.6,
    min_relative_score=0.6,
    # Barely told apart: the same words without capitals or question mark from 0.916, rewordings 0.83 to 0.99,
    # another question on the same story up to 0.909 (unrelated ones at most 0.49).
    same_question=0.91,
)

E5_SMALL = Profile(
    model="multilingual-e5-small",
    measured="python -m benchmarks.fit_profile, 2026-12-01, int8 ONNX vectors (benchmarks/fit_results.json)",
    # Grid 0.2-0.8 on 500 questions each: piaf.dev R@1 0.762 (0.2) .. 0.786 (0.7); xquad_en 0.968 .. 0.980 (0.8).
    # Unlike MiniLM, the model reads French: the dense side earns most of the weight in both languages.
    dense_weight={"en": 0.8, "fr": 0.7, "*": 0.7},
    # Logistic models with fixed signs, fitted on standardized features (weights shown for the raw ones),
    # each bias set so that 0.5 answers 91% of the answerable questions of its sets: "*" on piaf_abstain
    # (abstains on 0.748 of its unanswerable questions in sample, 0.763 two-fold by article, fitted 2026-12-01);
    # "en" on squad2_dev's adversarial questions plus English XQuAD questions whose article is left out; "x" on
    # English questions over German XQuAD paragraphs with half of the articles left out (figures of the last
    # refit below). The cosine carries most of it: e5's cosines sit in a narrow band (about 0.75 unrelated, 0.85
    # related), hence the large weights.
    confidence_weights={
        "*": {"bias": -50.32, "dense": 56.9, "lexical": 5.29, "coverage": 1.58, "coverage_rare": 0.2,
              "sentence_coverage": 0.77, "margin": 0.93, "names": 1.99, "numbers": 0.12, "max_unmatched": -0.98},
        # Refitted 2026-12-02 under the shipped pipeline (sentence vectors stored at index time, quotes by meaning
        # in the question's language too, the fitted re-ranking below), the best sentence's cosine
        # (`sentence_dense`) and the answer-type features offered, piaf.test's questions left out of piaf_abstain
        # (263 of its 1,000 share their text): `python -m benchmarks.fit_profile --only "*,en,x"` and the
        # comparisons of docs/quality.md ("What was tried"). At 91% answered, two-fold by article:
        # "x" 0.908 -> 0.935 abstained with the cosine (kept). "*" gains nothing from it (0.749 in sample with it,
        # 0.757 without, on the questions left): unchanged. "en" gains a point two-fold with it (0.487 -> 0.496) but
        # moves the answered share from XQuAD to SQuAD (answered XQuAD 0.925 -> 0.909, under its floor): refitted
        # without it, for the new ranking (squad2_dev 0.198 abstained at 0.903 answered; before 0.197 at 0.901), and
        # again when a name matched in lower case came to count a quarter (LOWERCASE_NAME; `python -m
        # benchmarks.fit_profile --only en --without sentence_dense,answer_type,answer_type_sentence`: two-fold 0.484
        # abstained at 0.909 answered, before 0.488 at 0.904; squad2_dev 0.198 at 0.899).
        "en": {"bias": -19.84, "dense": 21.23, "sentence_coverage": 0.68, "margin": 1.72, "names": 0.83,
               "numbers": 0.72, "unknown": -0.46, "max_unmatched": -0.18},
        "x": {"bias": -108.81, "dense": 47.97, "margin": 4.32, "numbers": 0.47, "sentence_dense": 87.46,
              "answer_type": 0.11},
    },
    min_confidence=0.5,
    bm25_k1=0.9,
    bm25_b=0.6,
    sentence_weight=0.6,
    min_relative_score=0.6,
    # Quotes from a passage in another language, on 500 answerable English questions over German paragraphs
    # (first quote holds the answer): 0.0 (words only) .. 2.0, see benchmarks/fit_results.json.
    sentence_dense=2.0,
    # In the question's language (python -m benchmarks.eval_all --sets piaf.dev,xquad_en,xquad_en2de,xquad_en2es,
    # xquad_es2en --no-write --no-baselines --config sentence_dense_same=W [--config rerank_dense=V], 2026-12-02):
    # W 0.25 / 0.5 / 1.0 lifts piaf.dev quote@1 0.648 -> 0.667 / 0.670 / 0.670, xquad_en 0.864 -> 0.866 / 0.866 /
    # 0.864; with W 0.5, rerank_dense 0.1 / 0.2 / 0.3 lifts R@1 on en->de 0.848 -> 0.857 / 0.864 / 0.873 (the
    # other pairs and xquad_en alike) and costs piaf.dev R@1 0 / 0.2 / 0.9 points. Embedded at question time
    # they cost ask() p50 7 -> 157 ms (the first 3 passages) or 477 ms (the re-rank pool); read from the sentence
    # vectors stored at index time (index/store/sentence_vectors.py), 12.4 -> 13.2 ms. W 0.5 ships; the
    # re-ranking by meaning is the fitted one below (rerank_dense stays 0: French gained nothing from it).
    sentence_dense_same=0.5,
    rerank_dense=0.0,
    # The fitted re-ranking (index/answer/rerank.py FEATURES; `python -m benchmarks.fit_rerank`, 2026-12-02, about
    # 3 min): a conditional logit over the pool of 20 (the gold passage the positive, L2 0.001, weights >= 0),
    # each table then scaled and offset onto the hand-set scores. Two-fold by article, asked through the real
    # pipeline, R@1 / R@5 / quote@1 against the hand-set one: en->de 0.848 / 0.967 / 0.736 -> 0.891 / 0.994 / 0.770, en->es
    # 0.895 / 0.987 / 0.770 -> 0.921 / 0.991 / 0.791, es->en 0.883 / 0.981 / 0.784 -> 0.916 / 0.987 / 0.806,
    # xquad_en 0.971 / 0.997 / 0.864 -> 0.973 / 0.998 / 0.867. Nearly all of it is the best sentence's cosine over
    # the pool (left out: en->de R@1 -3.9 points, en->es -1.8, es->en -1.6, en -0.3; every other feature moves
    # less than 0.5); the answer types earn nothing. French keeps the hand-set formula: no table beat it on piaf.dev,
    # out of sample (0.779 / 0.918 / 0.648 against 0.781 / 0.919 / 0.648) nor in sample. The pool's sentence
    # cosines: embedded at question time they cost ask() p50 3 -> 460 ms (en) and 130 -> 520 ms (en->de); read
    # from sentence vectors stored at index time, 3.2 -> 3.7 and 3.3 -> 4.0 ms. Without them the tables rank
    # about as the hand-set formula does (R@1 within half a point on the four sets). A pool mixing passages in
    # the question's language and in another keeps the hand-set formula (rerank.MIXED_POOLS: the tables rank a
    # corpus in two languages better, but quoted a timeline's background instead of its lead). Whatever ranks, the
    # quotes' cut-off reads the hand-set scores (Reranked.cutoff).
    rerank_weights={
        "x": {"bias": 0.4709, "fused": 0.1793, "dense": 0.0923, "lexical": 0.1169, "sentence": 0.1538,
              "sentence_dense": 0.0361, "sentence_dense_pool": 0.3877, "answer_type": 0.0084},
        "en": {"bias": 0.2275, "fused": 0.0914, "dense": 0.1862, "lexical": 0.1884, "sentence": 0.5725,
               "sentence_dense": 0.0111, "sentence_dense_pool": 0.2878, "answer_type_quote": 0.0338},
    },
    multilingual=True,
    # A narrow band again: the same words typed otherwise from 0.98, rewordings 0.96 to 0.99, another question on
    # the same story 0.92 to 0.98 ("who won the final?" / "who scored in the final?"), unrelated ones at most 0.83.
    same_question=0.96,
)

# For a model nobody measured: MiniLM's numbers (the defaults before profiles existed), whose abstention model
# reads cosines on another model's scale; `newsdesk eval` on an abstention set says how far off it is.
DEFAULT = replace(MINILM, model="*", measured="not measured: all-MiniLM-L6-v2's numbers")

PROFILES = {p.model: p for p in (MINILM, E5_SMALL)}
_warned: set[str] = set()


def profile_for(identity: dict) -> Profile:
    """The profile of the embedder with this identity; DEFAULT (with one warning per model) when none is kept."""
    model = str(identity.get("model", ""))
    found = PROFILES.get(model)
    if found is None:
        if model not in _warned:
            _warned.add(model)
            log.warning("no tuned profile for model %s: using default fusion and abstention numbers "
                        "(measure them with `newsdesk eval`)", model)  # fmt: skip
        return DEFAULT
    return found


# --- The same for every model: set by hand or measured once ---------------------------------------------------

# BM25 as the abstention features read it: the usual k1 / b (Robertson's; bm25s' and Lucene's defaults), which
# the logistic models above were fitted with, whatever a profile's ranking uses (its bm25_k1 / bm25_b).
CALIBRATION_K1 = 1.2
CALIBRATION_B = 0.75
RRF_K = 60  # reciprocal rank fusion's usual constant (Cormack et al. 2009); an evaluation baseline only

CANDIDATES = 100  # dense and BM25 candidates each (set by hand: docs/quality.md, "What the engine does" 2)
RERANK_DEPTH = 20  # passages re-ranked by their best sentence (docs/quality.md: 15 / 20 / 30 / 50 identical)
# Added to the fused score of passages dated in the range a question names ("en mai 2025"); set by hand, a
# no-op on the evaluation sets, whose passages have no dates (docs/quality.md, "What the engine does" 6).
DATE_BOOST = 0.1
DUPLICATE_OVERLAP = 0.8  # share of a quote's words found in a kept quote that makes it a repeat (set by hand)
# An article readers marked outdated (index/feedback/) loses to a newer article's passage re-ranked at least this
# share of its own score: one the answer would quote beside it (the profiles' min_relative_score, 0.6) answers
# the same question, so it is taken as the same story told later. Set by hand; the outdated article stays in the
# answer, behind it, so a newer article that is merely related costs it one place, not its quote.
OUTDATED_SAME_STORY = 0.6
# Re-ranking a passage in another language than the question (multilingual profiles): words cannot be expected
# there, so this flat credit stands in for them beside its best sentence's score; the same for every such
# passage, so among them the words still decide (make eval on the XQuAD pairs: ranking them by the dense score
# alone lost 1.3 to 1.9 points of R@1 against dense + word re-ranking; half credit for words, 0.5 to 1.0).
CROSS_SENTENCE_CREDIT = 0.5

# Quotes (index/answer/quotes.py; docs/quality.md, "What was tried").
MAX_QUOTE_WORDS = 75  # a quote grows to neighbouring sentences while it stays under this (60 -> 75: quote@1 +3)
MAX_QUOTE_SENTENCES = 3  # (4 sentences at 75 words: +1.4 quote@1, but past "readable")
# Credit for a question word found only by its prefix ("exiler" in "exila"): gold-passage quote hit +0.4 to +1.0.
PREFIX_MATCH = 0.5
# A name of the question ("Euro" in "Qui a gagné l'Euro 2024 ?") found in a text only in lower case ("la zone euro")
# counts this share of a match (QuestionTerms.matched): most often another thing of the same word. Measured
# (make eval's sets, --no-write, 2026-12-02), 1 / 0.5 / 0.25 / 0: piaf.dev quote@1 0.670 / 0.670 / 0.670 / 0.668,
# xquad_en 0.866 / 0.863 / 0.861 / 0.859, piaf_abstain abstained 0.746 / 0.752 / 0.752 / 0.752, squad2_dev
# 0.198 at 0.903 answered / 0.202 at 0.900 / 0.204 at 0.898 / 0.204 at 0.896, before the "en" abstention model was
# refitted for it (0.25: xquad_en 0.866, squad2_dev 0.198 at 0.899); the samples' "Qui a gagné l'Euro 2024 ?"
# stops quoting the ECB article from 0.25 (confidence 0.86 / 0.57 / 0.38 / 0.23, abstaining under 0.5).
LOWERCASE_NAME = 0.25
# Answer-type cues added to a sentence's score when the question asks for that kind of answer and the sentence
# holds one (a number for "combien", a date for "quand", a name for "qui"); set by hand with the cues.
NUMBER_CUE = 0.15
DATE_CUE = 0.2
NAME_CUE = 0.05
# A lead sentence states the story's main facts: each later sentence (up to the fifth) loses this much.
LATER_SENTENCE = 0.01
LATER_SENTENCES_COUNTED = 5

# --- Follow-up questions (index/answer/conversation.py; issue 15) -------------------------------------------
# Chosen on tests/index/answer/followups.py (16 conversations of our own over samples/articles, fr + en, 33
# follow-ups) with multilingual-e5-small: `python -m tests.index.answer.followups` prints each step and the
# follow-ups' hit rate (first quote from the expected article, holding the expected span): 26/33 with the
# context, 16/33 without. The grids below were run on a first draft of the set (34 follow-ups, 17 hit alone).
# A question with at most this many content stems of its own is a follow-up whatever its own answer; a longer
# one keeps its own answer when it answers (the profile's min_confidence). 1 / 2 / 3 stems: 26 / 27 / 27 hits;
# a standalone bar of 0.5 .. 0.95 gave the same 27, and only 0.5 kept "Which team won the Euro 2024 final in
# Berlin?" (0.56 alone) from being answered from the article of an unrelated conversation.
FOLLOWUP_OWN_TERMS = 2
# An earlier question's content stems and names, as a share of an own stem's weight one turn back. They pick
# the article; the question's own words must still pick the sentence: at 0.5 / 0.5 the quotes went back to the
# article's lead (13/25 on a smaller draft, under the 15 without context). Terms 0.05 / 0.1 / 0.2 with names
# 0.1 / 0.3: 26-27 / 27 / 24-26 hits.
FOLLOWUP_TERM_WEIGHT = 0.1
FOLLOWUP_NAME_WEIGHT = 0.3
FOLLOWUP_DECAY = 0.5  # each turn further back lends this share of what the next one lends (0.3 / 0.5 / 0.8: 27 / 27 / 27)
# Added to the fused score of the passages of the articles quoted one turn back (the first of them; the n-th
# quoted gets 1/n of it). 0.05 / 0.1 / 0.2: 26-27 hits each; without the vector below, only 1.0 helped (25).
FOLLOWUP_ARTICLE_BOOST = 0.1
# The dense side: the question's vector plus this share of each earlier question's vector (decayed), normalized.
# It does most of the work: 0 / 0.25 / 0.5 / 1.0 gave 17 / 27 / 27 / 27 (25 at decay 0.8). Encoding the earlier
# question and the follow-up as one text instead: 23 (all earlier turns) or 24 (the last one).
FOLLOWUP_VECTOR_WEIGHT = 0.5
FOLLOWUP_LEXICAL_REPEATS = 4  # own terms repeated so that borrowed ones count in quarters in the BM25 query
