"""The engine: hybrid retrieval (FAISS + BM25), fusion, per-article cap, quotes and abstention."""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.answer.quotes import QuestionTerms, choose_quote, question_terms, with_highlights
from index.build.reindex import BuildOptions, Progress, reindex_articles, reindex_folders
from index.build.state import StateCache
from index.embedding import Embedder, identity_of
from index.errors import EmptyQuestion, QuestionTooLong
from index.lang import detect_language
from index.lang.analyzer import analyze, term_set
from index.records import Answer, Article, ArticleRef, Filters, Hit, IndexStats, Quote, ReindexSummary
from index.store.folder import IndexDir
from index.store.manifest import FORMAT_VERSION
from index.store.snapshot import Snapshot
from index.text.dates import in_range, question_dates
from index.text.normalize import fold
from index.tuning import CALIBRATION_B, CALIBRATION_K1, RRF_K, Profile, profile_for

log = logging.getLogger(__name__)
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class SearchConfig:
    """Retrieval and answering knobs. The numbers fitted per model live in index/tuning.py (profiles); a field
    here left at None takes the profile's value, one set here overrides it (a setting, an eval baseline)."""

    k: int = 3
    candidates: int = 100
    max_per_article: int = 1
    max_question_chars: int = 2000
    date_boost: float = 0.1
    duplicate_overlap: float = 0.8
    more: int = 6  # quotes kept for the "More" button
    fusion: str = "convex"  # or "rrf" (reciprocal rank fusion, kept as an evaluation baseline)
    ranking_depth: int = 20  # article ids kept in Answer.ranking, for evaluation
    rerank_depth: int = 20  # passages re-ranked by their best sentence (30 measured no better)
    # Overrides of the profile (None: the profile's value).
    dense_weight: dict | None = None
    min_confidence: float | None = None
    confidence_weights: dict | None = None
    bm25_k1: float | None = None
    bm25_b: float | None = None
    sentence_weight: float | None = None
    min_relative_score: float | None = None
    sentence_dense: float | None = None
    multilingual: bool | None = None

    def tuned(self, profile: Profile) -> Profile:
        """The profile with this config's overrides applied."""
        names = ("dense_weight", "min_confidence", "confidence_weights", "bm25_k1", "bm25_b", "sentence_weight",
                 "min_relative_score", "sentence_dense", "multilingual")  # fmt: skip
        return replace(profile, **{n: getattr(self, n) for n in names if getattr(self, n) is not None})


@dataclass(frozen=True)
class _Candidate:
    row: int
    pid: int
    dense: float
    lexical: float
    fused: float
    # The passage is in another language than the question (with a multilingual model): shared words cannot be
    # expected, so it is ranked by its dense score and its quote chosen by meaning (Engine.ask).
    cross: bool = False
    dense_n: float = 0.0  # the dense score min-max normalized over the candidates


class Engine:
    """Answers questions from an index folder; reindexes it; never touches Discord.

    Thread-safe for queries: `ask` and `search` may run in several worker threads while `reindex` runs in
    another; the serving snapshot is swapped in one assignment once a new version is published.
    """

    def __init__(
        self,
        index_dir: Path | str,
        embedder: Embedder,
        config: SearchConfig | None = None,
        build: BuildOptions | None = None,
        successor: Callable[[], Embedder] | None = None,
    ):
        self.dir = IndexDir(index_dir)
        self.config = config or SearchConfig()
        self.build = build or BuildOptions()
        self._use(embedder)
        # What a forced rebuild moves the index to, when it was not chosen by the operator: an index is served
        # with the model it was built with until `reindex --force` (see bot/compose.py).
        self._successor = successor
        self._snapshot: Snapshot | None = None
        self._load_lock = threading.Lock()
        self._built = StateCache()  # this folder's state after each reindex: the next one need not read it

    def _use(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.profile = self.config.tuned(profile_for(identity_of(embedder)))

    @property
    def upgrade(self) -> str | None:
        """The model a forced reindex would move this index to, when that is not the model it serves with."""
        if self._successor is None:
            return None
        nxt = self._successor()
        return nxt.name if identity_of(nxt) != identity_of(self.embedder) else None

    # --- index lifecycle ---------------------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot:
        """The version being served; picks up a version published by another process."""
        snap = self._snapshot
        if snap is not None:
            try:
                if self.dir.current.resolve() == snap.path:
                    return snap
            except OSError:
                return snap
        with self._load_lock:
            if self._snapshot is None or self.dir.current_path() != self._snapshot.path:
                snap = self.dir.load(self._snapshot)
                snap.manifest.check_model(identity_of(self.embedder))
                self._snapshot = snap
            return self._snapshot

    def warm_up(self) -> None:
        """Load what the first question would otherwise load: the model, the language identifier, the index.

        Some of it holds the GIL for most of a second; done before serving, no one waits for it later.
        """
        # Imports a first reindex would otherwise run in a worker thread, holding the GIL for up to half a
        # second each (trafilatura compiles large regexes): the event loop of the bot would stall meanwhile.
        import markdown_it  # noqa: F401
        import trafilatura  # noqa: F401
        import yaml  # noqa: F401

        from index.lang import _identifier

        _identifier()
        analyze("warm up", "fr")
        analyze("warm up", "en")
        self.embedder.encode_queries(["warm up"])
        if self.has_index():
            _ = self.snapshot

    def has_index(self) -> bool:
        return self.dir.exists()

    def outdated(self) -> bool:
        """True when the index was written by an older Newsdesk: the next reindex updates it, reusing vectors."""
        manifest = self.dir.manifest() if self.dir.exists() else None
        return manifest is not None and manifest.format < FORMAT_VERSION

    def reindex(
        self,
        folders: Sequence[Path],
        *,
        force: bool = False,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
        who: str = "",
    ) -> ReindexSummary:
        embedder = self.embedder
        if force and self._successor is not None:
            embedder = self._successor()
        summary = reindex_folders(
            self.dir, folders, embedder, self.build, force=force, progress=progress, cancel=cancel, who=who,
            cache=self._built,
        )
        with self._load_lock:
            if embedder is not self.embedder:
                self._use(embedder)  # the new version was written by it: serve with it from now on
                self._snapshot = None
        self._refresh()
        return summary

    def add_articles(self, articles: Sequence[Article], *, prune: bool = False, force: bool = False,
                     who: str = "") -> ReindexSummary:  # fmt: skip
        summary = reindex_articles(self.dir, articles, self.embedder, self.build, prune=prune, force=force, who=who,
                                   cache=self._built)
        self._refresh()
        return summary

    def _refresh(self) -> None:
        with self._load_lock:
            if self.dir.exists() and (self._snapshot is None or self.dir.current_path() != self._snapshot.path):
                self._snapshot = self.dir.load(self._snapshot)

    def stats(self) -> IndexStats:
        return replace(self.snapshot.stats(), upgrade=self.upgrade)

    def articles(self, query: str | None = None) -> list[ArticleRef]:
        """Indexed articles, newest first; `query` keeps those whose title or source contains it."""
        refs = list(self.snapshot.articles.values())
        if query:
            q = fold(query)
            refs = [r for r in refs if q in fold(r.title) or q in fold(r.source or "")]
        return sorted(refs, key=lambda r: (r.date or "", r.id), reverse=True)

    # --- retrieval ---------------------------------------------------------------------------------------

    def _validate(self, question: str) -> str:
        q = " ".join((question or "").split())
        if not q:
            raise EmptyQuestion()
        if len(q) > self.config.max_question_chars:
            raise QuestionTooLong(len(q), self.config.max_question_chars)
        return q

    def _mask(self, snap: Snapshot, filters: Filters | None) -> np.ndarray | None:
        """Per-row 0/1 weights: the live rows that pass the filters; None when every row counts."""
        if filters is not None and filters.exclude_articles:  # scoped asking (see _without, below)
            return _without(snap, self._mask(snap, replace(filters, exclude_articles=frozenset())), filters)
        if filters is None or filters.is_empty():
            return snap.weights()
        allowed = set()
        src = fold(filters.source) if filters.source else None
        for aid, ref in snap.articles.items():
            if src and src not in fold(ref.source or "") and src not in fold(ref.url or "") and src not in fold(
                ref.title
            ):
                continue
            if filters.lang and (ref.lang or "") != filters.lang:
                continue
            if not in_range(ref.date, filters.since, filters.until):
                continue
            allowed.add(aid)
        return snap.weights(allowed)

    def _bm25(self, snap: Snapshot):
        return snap.bm25(self.profile.bm25_k1, self.profile.bm25_b)

    def _idf(self, snap: Snapshot, stems: Sequence[str]) -> dict[str, float]:
        if not snap.size:
            return {}
        bm25 = self._bm25(snap)
        return {s: bm25.idf(s) for s in stems}

    def _retrieve(self, snap: Snapshot, question: str, lang: str, mask: np.ndarray | None,
                  date_hint, qvec: np.ndarray | None = None) -> list[_Candidate]:  # fmt: skip
        """Fuse dense and BM25 candidates; return them best first."""
        n = snap.size
        if n == 0:
            return []
        c = min(self.config.candidates, n)
        if qvec is None:
            qvec = self.embedder.encode_queries([question])
        if mask is not None and not mask.any():
            return []
        dense = snap.dense_search(qvec, c, mask)

        lex_all = np.zeros(n, dtype=np.float32)
        terms = analyze(question, lang)
        bm25 = self._bm25(snap)
        known = [t for t in terms if t in bm25]
        if known:
            lex_all = bm25.scores(known, mask)
        top_lex = np.argpartition(-lex_all, min(c, n - 1))[:c] if n > c else np.arange(n)
        rows = {int(r) for r in snap.rows_of(list(dense)) if r >= 0} | {int(r) for r in top_lex if lex_all[r] > 0}
        if mask is not None:
            rows = {r for r in rows if mask[r] > 0}
        if not rows:
            return []
        rows_l = sorted(rows)
        pids = [int(snap.rows[r]) for r in rows_l]
        missing = [p for p in pids if p not in dense]
        if missing:
            for p, s in zip(missing, snap.reconstruct(missing) @ qvec[0], strict=True):
                dense[p] = float(s)
        d = np.array([dense[p] for p in pids], dtype=np.float32)
        lx = lex_all[rows_l]
        w = self.profile.weight(lang)
        cross = np.array([self.profile.multilingual and _other_language(lang, snap.articles.get(int(snap.row_article[r])))
                          for r in rows_l], dtype=bool)  # fmt: skip
        d_n = (d - d.min()) / (d.max() - d.min()) if d.max() > d.min() else np.ones_like(d)
        if self.config.fusion == "rrf":
            fused = 1 / (RRF_K + _ranks(-d)) + 1 / (RRF_K + _ranks(-lx))
        else:
            l_n = lx / lx.max() if lx.max() > 0 else np.zeros_like(lx)
            fused = w * d_n + (1 - w) * l_n
            # Across languages BM25 only finds shared names and numbers, often in the wrong passage (make eval:
            # letting it add cost 1.3 to 1.9 points of R@1 against dense alone on the three XQuAD pairs): a passage
            # in another language is ranked by its dense score alone.
            fused = np.where(cross, d_n, fused)
        if date_hint is not None and self.config.date_boost:
            for j, r in enumerate(rows_l):
                ref = snap.articles.get(int(snap.row_article[r]))
                if ref and ref.date and in_range(ref.date, date_hint.since, date_hint.until):
                    fused[j] += self.config.date_boost
        order = np.argsort(-fused, kind="stable")
        return [_Candidate(rows_l[j], pids[j], float(d[j]), float(lx[j]), float(fused[j]), bool(cross[j]),
                           float(d_n[j])) for j in order]  # fmt: skip

    def _diverse(self, snap: Snapshot, cands: list[_Candidate], limit: int) -> list[_Candidate]:
        """Keep at most `max_per_article` passages per article, best first."""
        per: dict[int, int] = {}
        out = []
        for cand in cands:
            aid = int(snap.row_article[cand.row])
            if per.get(aid, 0) >= self.config.max_per_article:
                continue
            per[aid] = per.get(aid, 0) + 1
            out.append(cand)
            if len(out) >= limit:
                break
        return out

    def search(self, query: str, k: int = 5, filters: Filters | None = None) -> list[Hit]:
        """Return the `k` best passages for `query` (a lookup: no quote selection, no abstention)."""
        if k < 1:
            raise ValueError(f"k must be at least 1, not {k}")
        query = self._validate(query)
        snap = self.snapshot
        lang = detect_language(query)
        cands = self._retrieve(snap, query, lang, self._mask(snap, filters), None)
        cands = self._diverse(snap, cands, k)
        passages = snap.passages(c.pid for c in cands)
        return [
            Hit(passage=passages[c.pid], article=snap.articles[passages[c.pid].article_id], score=c.fused,
                dense=c.dense, lexical=c.lexical)
            for c in cands if c.pid in passages
        ]  # fmt: skip

    def ask(self, question: str, k: int | None = None, filters: Filters | None = None, *,
            query_vector: np.ndarray | None = None) -> Answer:  # fmt: skip
        """Answer `question` with up to `k` verified quotes, or abstain and list related articles.

        `query_vector` is the question's embedding when the caller keeps it (a follow's topic), so it is not
        encoded again. Raises EmptyQuestion, QuestionTooLong, IndexMissing, ModelMismatch.
        """
        started = time.perf_counter()
        question = self._validate(question)
        k = self.config.k if k is None else k
        if k < 1:
            raise ValueError(f"k must be at least 1, not {k}")
        snap = self.snapshot
        lang = detect_language(question)
        hint = question_dates(question) if filters is None or not (filters.since or filters.until) else None
        qvec = (self.embedder.encode_queries([question]) if query_vector is None else _query_row(query_vector)) \
            if snap.size else None  # fmt: skip
        cands = self._retrieve(snap, question, lang, self._mask(snap, filters), hint, qvec)
        terms = question_terms(question, lang)
        terms = replace(terms, weights=self._idf(snap, list(terms.weights)) or dict(terms.weights))
        # Re-rank the best passages by how well their best sentence answers: the passage that holds the
        # answer usually has one sentence that covers the question, not just the same topic words.
        pool = cands[: self.config.rerank_depth]
        passages = snap.passages(c.pid for c in pool)
        chosen: dict[int, Quote | None] = {}
        final: dict[int, float] = {}
        for cand in pool:
            p = passages.get(cand.pid)
            if p is None:
                continue
            quote, sentence = choose_quote(terms, p, snap.article_text(p.article_id), snap.articles[p.article_id],
                                           cand.fused, highlight=False)  # fmt: skip
            chosen[cand.pid] = quote
            if cand.cross:
                # Words cannot be expected across languages: a flat half point stands in for them, and the shared
                # names and numbers count as usual. The same for every such passage, so among them the words still
                # decide (make eval on the XQuAD pairs: ranking them by the dense score alone lost 1.3 to 1.9
                # points of R@1 against dense + word re-ranking; half credit for words, 0.5 to 1.0).
                sentence += 0.5
            final[cand.pid] = cand.fused + self.profile.sentence_weight * sentence
        pool = sorted((c for c in pool if c.pid in final), key=lambda c: -final[c.pid])
        ranked = self._diverse(snap, pool + cands[self.config.rerank_depth :],
                               max(self.config.ranking_depth, k + self.config.more))  # fmt: skip
        evidence = self._evidence(snap, question, lang, terms, ranked, final, passages) if ranked else None
        confidence = self._confidence(evidence, lang, ranked[0].cross) if evidence else 0.0
        self._requote_across_languages(snap, terms, ranked[:k], passages, chosen, qvec)
        quotes: list[Quote] = []
        for cand in ranked:
            quote = chosen.get(cand.pid)
            if quote is None or self._is_duplicate(quote, quotes):
                continue
            if quotes and final[cand.pid] < self.profile.min_relative_score * quotes[0].score:
                break  # the rest is much weaker than the best: related at most, not an answer
            quote = with_highlights(terms, quote, passages[cand.pid].lang)
            quotes.append(replace(quote, score=final[cand.pid]))
            if len(quotes) >= k + self.config.more:
                break
        answered = bool(quotes) and confidence >= self.profile.min_confidence
        related: list[ArticleRef] = []
        if not answered:
            seen = set()
            for cand in ranked:
                aid = int(snap.row_article[cand.row])
                if aid not in seen:
                    seen.add(aid)
                    related.append(snap.articles[aid])
                if len(related) >= 3:
                    break
        took = (time.perf_counter() - started) * 1000
        log.debug("ask: %d chars, lang %s, confidence %.3f, %.1f ms", len(question), lang, confidence, took)
        return Answer(
            question=question,
            answered=answered,
            quotes=tuple(quotes[:k]) if answered else (),
            more=tuple(quotes[k:]) if answered else (),
            related=tuple(related),
            took_ms=took,
            articles_searched=len(snap.articles),
            lang=lang,
            confidence=confidence,
            date_hint=hint.phrase if hint else None,
            terms=tuple(terms.weights),
            ranking=tuple(int(snap.row_article[c.row]) for c in ranked[: self.config.ranking_depth]),
            evidence=dict(evidence or {}, cross=float(ranked[0].cross)) if ranked else None,
        )

    def _requote_across_languages(self, snap: Snapshot, terms: QuestionTerms, cands: list[_Candidate], passages,
                                  chosen: dict[int, Quote | None], qvec: np.ndarray | None) -> None:  # fmt: skip
        """Choose the quotes of passages in another language than the question by meaning, not shared words.

        Their sentences share no words with the question, so the word-based choice falls back to the first
        sentence. The sentences of the best such passages are embedded (one batch, the first `k` only: the
        cost is about one passage's embedding) and their cosine with the question leads the choice.
        """
        weight = self.profile.sentence_dense
        todo = [c for c in cands if c.cross and c.pid in passages and c.pid in chosen]
        if not todo or qvec is None or weight <= 0:
            return
        spans = []
        for cand in todo:
            p = passages[cand.pid]
            text = snap.article_text(p.article_id)
            spans.append((cand, p, text, [text[a:b] for a, b in p.sentences]))
        flat = [t for *_, sents in spans for t in sents]
        if not flat:
            return
        sims = self.embedder.encode_documents(flat) @ qvec[0]
        i = 0
        for cand, p, text, sents in spans:
            part = sims[i : i + len(sents)]
            i += len(sents)
            quote, _ = choose_quote(terms, p, text, snap.articles[p.article_id], cand.fused, highlight=False,
                                    similarity=part, similarity_weight=weight)  # fmt: skip
            if quote is not None:
                chosen[cand.pid] = quote

    def _evidence(self, snap: Snapshot, question: str, lang: str, terms: QuestionTerms, ranked: list[_Candidate],
                  final: dict[int, float], passages) -> dict[str, float] | None:  # fmt: skip
        """What the abstention decision looks at: how well the best passage covers the question, and how clearly.

        All features are in about 0..1 whatever the index size: idf-weighted coverage of the question's stems
        by the passage (and with idf squared, which favours rare words) and by its best sentence, the dense
        cosine, the BM25 score as a share of the most the question could score, the lead over the next
        passage, the shares of the question's names and numbers found, the weight of the most important
        question word left unmatched, and the share of the question's weight no indexed passage contains.
        """
        best = ranked[0]
        p = passages.get(best.pid)
        if p is None or not terms.weights:
            return None
        found = terms.matched(term_set(f"{snap.articles[p.article_id].title}\n{p.text}", p.lang))
        text = snap.article_text(p.article_id)
        best_sentence = max((terms.matched(term_set(text[a:b], p.lang)) for a, b in p.sentences),
                            key=lambda m: sum(terms.weights[s] * v for s, v in m.items()), default={})  # fmt: skip
        unmatched = [w for s, w in terms.weights.items() if s not in found]
        numbers = set(_NUMBER.findall(question))
        squared = {s: w * w for s, w in terms.weights.items()}
        bm25 = self._bm25(snap)
        unknown = sum(w for s, w in terms.weights.items() if s not in bm25 and terms.prefixes.get(s) not in bm25)
        names = [s for s in terms.names if s in terms.weights]
        # The BM25 score as the abstention model was fitted with it (k1 1.2, b 0.75), whatever ranks.
        calibration = snap.bm25(CALIBRATION_K1, CALIBRATION_B)
        analyzed = analyze(question, lang)
        query = [t for t in analyzed if t in calibration]
        lexical = float(calibration.score_rows(query, [best.row])[0]) if query else 0.0
        ceiling = (CALIBRATION_K1 + 1) * sum(calibration.idf(t) for t in analyzed)  # the most each term scores
        second = next((final[c.pid] for c in ranked[1:] if c.pid in final), 0.0)
        top = final.get(best.pid, best.fused)
        return {
            "coverage": sum(terms.weights[s] * m for s, m in found.items()) / terms.total,
            "coverage_rare": sum(squared[s] * m for s, m in found.items()) / (sum(squared.values()) or 1.0),
            "dense": best.dense,
            "lexical": lexical / ceiling if ceiling > 0 else 0.0,
            "margin": min(max(top - second, 0.0), 1.0),
            "names": sum(found.get(s, 0.0) for s in names) / len(names) if names else 1.0,
            "unknown": unknown / terms.total,
            "max_unmatched": max(unmatched, default=0.0) / terms.total,
            "numbers": len(numbers & set(_NUMBER.findall(p.text))) / len(numbers) if numbers else 1.0,
            "sentence_coverage": sum(terms.weights[s] * v for s, v in best_sentence.items()) / terms.total,
        }

    def _confidence(self, evidence: dict[str, float], lang: str, cross: bool = False) -> float:
        """Probability-like confidence (0..1) that the best passage answers: a logistic model of the evidence."""
        weights = self.profile.confidence(lang, cross)
        z = sum(w * (1.0 if k == "bias" else evidence.get(k, 0.0)) for k, w in weights.items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def _is_duplicate(self, quote: Quote, kept: list[Quote]) -> bool:
        """True when `quote` says what a kept quote already says (the same story twice, overlapping windows)."""
        words = _word_set(quote.text)
        for other in kept:
            if other.article.id == quote.article.id and not (quote.end <= other.start or quote.start >= other.end):
                return True
            theirs = _word_set(other.text)
            if words and theirs and len(words & theirs) / min(len(words), len(theirs)) >= self.config.duplicate_overlap:
                return True
        return False


# --- Scoped asking: the public hook of index/stories/follows.py and index/stories/timeline.py (issue 14) ------------------
# `Filters.exclude_articles` leaves articles out of retrieval (a followed story's known articles, so a new
# article is judged against the rest of the corpus, as an answer would be); `ask(query_vector=...)` reuses a
# kept embedding. Nothing else in this file depends on them.


def _without(snap: Snapshot, mask: np.ndarray | None, filters: Filters) -> np.ndarray:
    """`mask` (None: every row) with the rows of `filters.exclude_articles` set to 0."""
    out = np.ones(snap.size, dtype=np.float32) if mask is None else mask.copy()
    out[np.isin(snap.row_article, np.fromiter(filters.exclude_articles, dtype=np.int64))] = 0
    return out


def _query_row(vector: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(vector, dtype=np.float32).reshape(1, -1))


def _other_language(lang: str, ref: ArticleRef | None) -> bool:
    """True when the passage's article is known to be in another language than the question."""
    return bool(ref is not None and ref.lang and lang and ref.lang != lang)


@lru_cache(maxsize=4096)
def _word_set(text: str) -> frozenset[str]:
    return frozenset(fold(text).split())


def _ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of `values`, smallest first."""
    ranks = np.empty(len(values), dtype=np.float32)
    ranks[np.argsort(values, kind="stable")] = np.arange(1, len(values) + 1)
    return ranks
