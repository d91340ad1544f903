"""The fused list's head, described and re-ordered by a small fitted model.

Rank fusion only counts positions: it cannot know that an English question's BM25 list is
noise, that "¿cuándo…?" wants the paragraph with a date, or that a cosine far above the cohort
matters more than one a hair above the next passage. The ranker (a logistic model over
`index/evidence.py`'s features, fitted by `benchmarks/calibrate.py`) re-orders the first
`RERANK_DEPTH` fused passages; without one the fused order stands.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from acuerdo.index.answer_types import holds_answer_type
from acuerdo.index.calibration import LogisticModel
from acuerdo.index.corpus import Corpus
from acuerdo.index.evidence import CandidateSignals, QuestionSignals, candidate_features
from acuerdo.index.fusion import RankedList

RERANK_DEPTH = 20


@dataclass(frozen=True)
class Candidate:
    """A passage near the top, its evidence and the ranker's probability that it answers."""

    passage_id: int
    features: Mapping[str, float]
    probability: float | None


@functools.lru_cache(maxsize=8192)
def _holds(answer_type: str | None, text: str) -> bool:
    # Passage texts never change under an id, and the same passages come back question after
    # question: the regexes run once per passage and kind.
    return holds_answer_type(answer_type, text)


def describe_candidates(
    corpus: Corpus,
    ordered: Sequence[int],
    *,
    question: QuestionSignals,
    cosine: Mapping[int, float],
    dense: RankedList,
    lexical: RankedList,
    title_terms: Callable[[str], frozenset[str]],
    with_previous: Callable[[int], frozenset[str]],
    depth: int = RERANK_DEPTH,
    only_first: bool = False,
) -> list[tuple[int, dict[str, float]]]:
    """Features of the first `depth` fused passages, in fused order (`only_first`: of the
    first alone, compared with the same head: what the answer policy reads without a ranker)."""
    head = list(ordered[:depth])
    best = sorted((cosine[pid] for pid in head), reverse=True)
    described = []
    for position, pid in enumerate(head[:1] if only_first else head, start=1):
        record = corpus.records[pid]
        own = corpus.lexical.passage_terms(pid)
        signals = CandidateSignals(
            cosine=cosine[pid],
            fused_rank=position,
            dense=dense,
            lexical=lexical,
            passage_id=pid,
            passage_terms=own,
            title_terms=title_terms(record.document_title),
            words=len(record.text.split()),
            holds_answer_type=_holds(question.answer_type, record.text),
        )
        # The best cosine among the others: the runner-up for the best, the best for the rest.
        others = best[1] if cosine[pid] == best[0] and len(best) > 1 else best[0]
        values = candidate_features(
            question, signals, next_cosine=others if len(best) > 1 else None
        )
        terms = question.terms
        values["lead_in_complete"] = float(
            bool(terms) and bool(terms & own) and terms <= with_previous(pid)
        )
        described.append((pid, values))
    return described


def rerank(
    described: Sequence[tuple[int, Mapping[str, float]]], ranker: LogisticModel | None
) -> list[Candidate]:
    """The described passages ordered by the ranker (ties and no ranker: fused order)."""
    if ranker is None:
        return [Candidate(pid, values, None) for pid, values in described]
    scored = [
        (ranker.probability(values), position, pid, values)
        for position, (pid, values) in enumerate(described)
    ]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [Candidate(pid, values, p) for p, _, pid, values in scored]
