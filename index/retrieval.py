"""Question → ranked hits: dense and lexical search, rank fusion, outcome."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np

from acuerdo.index.answer_types import question_type
from acuerdo.index.calibration import Calibration, Outcome
from acuerdo.index.chunking import sentence_spans
from acuerdo.index.cohort import Cohort
from acuerdo.index.corpus import Corpus
from acuerdo.index.embedding import Embedder, Matrix, calibration_for
from acuerdo.index.evidence import QuestionSignals, with_ranking
from acuerdo.index.fusion import (
    ENGLISH_LEXICAL_WEIGHT,
    ONE_STEM_LEXICAL_WEIGHT,
    RankedList,
    lexical_trust,
    one_stem_votes,
    reciprocal_rank_fusion,
)
from acuerdo.index.hits import Hit
from acuerdo.index.language import is_english_aside, looks_english
from acuerdo.index.ordering import ties_by_coverage, with_lead_in, with_previous
from acuerdo.index.question_text import names_only_a_topic, unshouted
from acuerdo.index.reranking import RERANK_DEPTH, describe_candidates, rerank

MAX_QUESTION_CHARS = 1000


@dataclass(frozen=True)
class Retrieval:
    """Ranked hits (always listed), what to do with them and how sure we are.

    `confidence` is the calibrated probability that the first hit answers the question;
    `features` is the evidence it was computed from (for calibration and diagnostics).
    """

    hits: tuple[Hit, ...]
    outcome: Outcome
    confidence: float
    features: Mapping[str, float] = field(default_factory=dict)
    # The fused head before re-ranking, with each passage's features (to fit the ranker).
    candidates: tuple[tuple[int, Mapping[str, float]], ...] = ()

    @property
    def answered(self) -> bool:
        return self.outcome is Outcome.CONFIDENT

    @property
    def tentative(self) -> bool:
        return self.outcome is Outcome.TENTATIVE


class Retriever:
    """Hybrid search over a `Corpus` snapshot: reciprocal rank fusion of a dense and a lexical
    list."""

    def __init__(
        self,
        embedder: Embedder,
        *,
        candidates: int = 100,
        cohort: Cohort | None = None,
        calibration: Calibration | None = None,
        english_lexical_weight: float = ENGLISH_LEXICAL_WEIGHT,
        weigh_lexical_by_rarity: bool = False,
        one_stem_lexical_weight: float = ONE_STEM_LEXICAL_WEIGHT,
    ) -> None:
        self._weigh_lexical = weigh_lexical_by_rarity
        self._one_stem_weight = one_stem_lexical_weight
        self._embedder = embedder
        self._english_lexical_weight = english_lexical_weight
        self._candidates = candidates
        self._cohort = (
            cohort if cohort is not None else Cohort.for_embedder(embedder, cache_dir=None)
        )
        self._calibration = calibration or calibration_for(embedder.model_id)
        self._titles: dict[str, frozenset[str]] = {}

    @property
    def calibration(self) -> Calibration:
        return self._calibration

    def search(
        self,
        corpus: Corpus,
        question: str,
        *,
        k: int = 5,
        among: Collection[int] | None = None,
        explain: bool = False,
    ) -> Retrieval:
        """The top `k` passages for `question`, fused from every available search.

        With `among`, only those passages are returned (a followed topic against the passages new
        in a document), but they are ranked and judged against the whole library, as a question
        is: the best of them is described as if first, beside the library's best other passages,
        so a lone new passage cannot look certain only because nothing else may compete.
        `candidates` holds every passage of the fused head with its features when there is a
        ranker to read them or with `explain` (to fit one); else only the first, which the policy
        reads.
        """
        question = unshouted(question[:MAX_QUESTION_CHARS])
        allowed = None if among is None else sorted(set(among) & corpus.records.keys())
        if len(corpus) == 0 or allowed == []:
            return Retrieval(hits=(), outcome=Outcome.NOTHING, confidence=0.0)
        query = self._embedder.embed_queries([question])[0]
        dense = self._dense(corpus.vectors, query)
        # The question is analysed once; BM25, coverage, lead-in and highlight share the terms.
        terms = corpus.lexical.analyzer.terms(question)
        term_set = frozenset(terms)
        lexical_ids, lexical_scores = corpus.lexical.search_terms(terms, self._candidates)
        lexical = RankedList.of(lexical_ids.tolist(), lexical_scores.tolist())

        english = looks_english(question)
        # Language-aware fusion: BM25 over Spanish text says little about an English question.
        lexical_weight = self._english_lexical_weight if english else 1.0
        rarity = corpus.lexical.rarity(term_set)
        if self._weigh_lexical and lexical.ids:
            lexical_weight *= lexical_trust(rarity, corpus.lexical.passage_terms(lexical.ids[0]))
        # A passage sharing one stem of a longer question is a weak lexical match, however
        # high BM25 ranks it (short texts, rare stems): its vote shrinks.
        one_stem = (
            one_stem_votes(
                lexical, term_set, corpus.lexical.passage_terms, weight=self._one_stem_weight
            )
            if self._one_stem_weight != 1.0
            else {}
        )
        fused = reciprocal_rank_fusion(
            [dense, lexical], weights=[1.0, lexical_weight], vote_scales=[{}, one_stem]
        )
        cosine = dict(dense.scores)
        # A passage found only lexically still needs its cosine for ties (one FAISS call).
        missing = [pid for pid in fused if pid not in cosine]
        for pid, vector in zip(missing, corpus.vectors.vectors(missing), strict=True):
            cosine[pid] = float(np.dot(vector, query))
        # Rank fusion makes exact ties on small corpora: the share of question terms breaks them
        # near the top (below), the dense cosine everywhere.
        ordered = sorted(fused, key=lambda pid: (-fused[pid], -cosine[pid], pid))
        ordered = ties_by_coverage(corpus, term_set, ordered, fused, cosine, depth=k)
        ordered = with_lead_in(corpus, term_set, ordered)
        if allowed is not None:
            eligible = set(allowed)
            chosen = [pid for pid in ordered if pid in eligible]
            if not chosen:  # none of them is near the top of the library: no match
                return Retrieval(hits=(), outcome=Outcome.NOTHING, confidence=0.0)
            # Old passages above it on the same topic do not make it less relevant: it is compared
            # with what ranks below it, with its library-wide ranks in each list.
            ordered = ordered[ordered.index(chosen[0]) :]
        question_signals = QuestionSignals(
            cohort=self._cohort.scores(query),
            terms=term_set,
            english=english,
            answer_type=question_type(question),
            best_cosine=max(cosine[pid] for pid in ordered[:RERANK_DEPTH]),
            best_lexical=max(lexical.scores.values(), default=0.0),
            rarity=rarity,
        )
        described = describe_candidates(
            corpus,
            ordered,
            question=question_signals,
            cosine=cosine,
            dense=dense,
            lexical=lexical,
            title_terms=lambda title: self._title_terms(corpus, title),
            with_previous=lambda pid: with_previous(corpus, pid),
            # A followed topic's chosen passage stays first: a ranker may not swap in an old one.
            only_first=allowed is not None or (not explain and self._calibration.ranker is None),
        )
        candidates = rerank(described, self._calibration.ranker)
        ranked_ids = [c.passage_id for c in candidates] + ordered[len(candidates) :]
        if allowed is not None:
            ranked_ids = [pid for pid in ranked_ids if pid in eligible]
        hits = tuple(
            self._hit(
                corpus,
                pid,
                question,
                term_set,
                fused[pid],
                cosine[pid],
                lexical.scores.get(pid, 0.0),
            )
            for pid in ranked_ids[:k]
        )
        first = candidates[0]
        runner_up = candidates[1].probability if len(candidates) > 1 else None
        values = with_ranking(
            first.features,
            probability=first.probability if first.probability is not None else 0.5,
            next_probability=runner_up,
        )
        # A followed topic is a topic by design: exempt from the keyword rule. A Spanish quote is
        # the promise: an English caption (it may hold the fact asked) is offered, not quoted.
        outcome, confidence = self._calibration.decide(
            values,
            at_most_tentative=(allowed is None and names_only_a_topic(question))
            or is_english_aside(corpus, first.passage_id),
        )
        return Retrieval(
            hits=hits,
            outcome=outcome,
            confidence=confidence,
            features=values,
            candidates=tuple(described),
        )

    def _title_terms(self, corpus: Corpus, title: str) -> frozenset[str]:
        cached = self._titles.get(title)
        if cached is None:
            cached = frozenset(corpus.lexical.analyzer.terms(title))
            if len(self._titles) > 10_000:
                self._titles.clear()
            self._titles[title] = cached
        return cached

    def _dense(self, vectors_index, query: Matrix) -> RankedList:  # type: ignore[no-untyped-def]
        ids, scores = vectors_index.search(query, self._candidates)
        return RankedList.of(ids.tolist(), scores.tolist())

    def _hit(
        self,
        corpus: Corpus,
        pid: int,
        question: str,
        terms: frozenset[str],
        score: float,
        dense: float,
        lexical: float,
    ) -> Hit:
        record = corpus.records[pid]
        return Hit(
            passage_id=pid,
            document_id=record.document_id,
            document_title=record.document_title,
            paragraph=record.paragraph,
            ordinal=record.ordinal,
            text=record.text,
            score=score,
            dense=dense,
            lexical=lexical,
            highlight=self.highlight(corpus, question, record.text, terms=terms),
        )

    def highlight(
        self,
        corpus: Corpus,
        question: str,
        text: str,
        *,
        terms: frozenset[str] | None = None,
    ) -> tuple[int, int] | None:
        """The sentence sharing most question terms; ties go to the first tied sentence."""
        spans = sentence_spans(text)
        if len(spans) <= 1:
            return spans[0] if spans else None
        analyzer = corpus.lexical.analyzer
        if terms is None:
            terms = frozenset(analyzer.terms(question))
        overlaps = [len(terms & set(analyzer.terms(text[s:e]))) for s, e in spans]
        return spans[overlaps.index(max(overlaps))]
