"""The evidence that a candidate passage answers the question, as named numbers.

Every signal is relative to something, so it means the same thing for Spanish and English
questions, short and long ones, small and large libraries: the cosine against the question's
own cosines with a fixed cohort of unrelated texts (`index/cohort.py`), the margin over the
best other candidate, each list's rank, how many of the question's stems the passage holds,
whether it holds the kind of thing asked for (`index/answer_types.py`). The ranker
(`index/calibration.py`) orders candidates by them; the answer policy reads them for the first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from acuerdo.index.cohort import CohortScores
from acuerdo.index.fusion import RankedList


@dataclass(frozen=True)
class QuestionSignals:
    """What is known about the question itself."""

    cohort: CohortScores
    terms: frozenset[str]
    english: bool
    answer_type: str | None  # "when", "where", "who", "how_many", "how_often" or None
    best_cosine: float  # best cosine over all candidates
    best_lexical: float  # best BM25 score over all candidates (0 when none matched)
    # Each term's rarity in the library (`LexicalIndex.rarity`); a term missing reads as 1.
    rarity: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CandidateSignals:
    """What is known about one candidate passage."""

    cosine: float
    fused_rank: int
    dense: RankedList
    lexical: RankedList
    passage_id: int
    passage_terms: frozenset[str]  # its stems (with its lead-in's when it was moved for it)
    title_terms: frozenset[str]  # its document title's stems
    words: int
    holds_answer_type: bool


def candidate_features(
    question: QuestionSignals, candidate: CandidateSignals, *, next_cosine: float | None
) -> dict[str, float]:
    """Signals → the named numbers the ranker and the answer policy read."""
    cohort = question.cohort
    terms = question.terms
    matched = len(terms & candidate.passage_terms)
    dense_rank = candidate.dense.rank(candidate.passage_id)
    lexical_rank = candidate.lexical.rank(candidate.passage_id)
    lexical_score = candidate.lexical.scores.get(candidate.passage_id, 0.0)
    margin = candidate.cosine - next_cosine if next_cosine is not None else 0.1
    typed = question.answer_type is not None
    # A lone topical word ("armas") matched in a passage is strong evidence when few passages
    # hold it and weak when every passage does: coverage weighted by rarity, and the rarest
    # shared term, say so in a way a plain share of terms cannot.
    weight = {term: question.rarity.get(term, 1.0) for term in terms}
    shared = terms & candidate.passage_terms
    total_weight = sum(weight.values())
    return {
        "cos": candidate.cosine,
        "cohort_z": (candidate.cosine - cohort.mean) / cohort.std,
        "cohort_gap": (candidate.cosine - cohort.top) / cohort.std,
        "margin_z": margin / cohort.std,
        "below_best_z": (question.best_cosine - candidate.cosine) / cohort.std,
        "coverage": matched / len(terms) if terms else 0.0,
        "matched": math.log1p(matched),
        "terms": math.log1p(len(terms)),
        "idf_coverage": sum(weight[t] for t in shared) / total_weight if total_weight else 0.0,
        "focus": max((weight[t] for t in shared), default=0.0),
        "title_coverage": len(terms & candidate.title_terms) / len(terms) if terms else 0.0,
        "dense_first": float(dense_rank == 1),
        "dense_rank": 1.0 / dense_rank if dense_rank else 0.0,
        "lexical_first": float(lexical_rank == 1),
        "lexical_rank": 1.0 / lexical_rank if lexical_rank else 0.0,
        "lexical_share": lexical_score / question.best_lexical if question.best_lexical else 0.0,
        "fused_rank": 1.0 / candidate.fused_rank,
        "english": float(question.english),
        "english_lexical": float(question.english) * (1.0 / lexical_rank if lexical_rank else 0),
        "typed": float(typed),
        "type_match": float(typed and candidate.holds_answer_type),
        "type_miss": float(typed and not candidate.holds_answer_type),
        "words": math.log1p(candidate.words),
        "short": float(candidate.words < 8),
    }


def with_ranking(
    values: Mapping[str, float], *, probability: float, next_probability: float | None
) -> dict[str, float]:
    """The first passage's features plus what the ranker thought of it and the runner-up."""
    return {
        **values,
        "rank_p": probability,
        "rank_gap": probability - (next_probability if next_probability is not None else 0.0),
    }
