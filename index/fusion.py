"""Ranked lists and reciprocal rank fusion, as pure functions over plain data."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

RRF_K = 60  # the textbook constant: any k from 1 to 60 gave the same Recall@1 within one question
# The lexical list's weight for a question that looks English (index/language.py). BM25 over
# Spanish passages only matches an English question's names and cognates ("Mexico", "US"),
# so it votes for whichever paragraph repeats them. Chosen by cross-validation on the fit part
# of benchmarks/eval (grid 0, 0.3, 1; benchmarks/results/ranking.md): 0 lifted English
# Recall@1 on the fit part from 0.34 to 0.50 and held-out Recall@3 from 0.69 to 0.81, with
# Spanish questions untouched. The list still supplies candidates and evidence.
ENGLISH_LEXICAL_WEIGHT = 0.0
# The lexical vote of a passage that holds only one of the question's stems (when it has two or
# more). BM25 ranks such a passage high when it is short or the stem is rare: a proverb sharing
# "trabajo", a help page sharing "reunión". Chosen on the fit part of benchmarks/eval over 0,
# 0.25, 0.5 and 1 (with word limits for the passage of 25, 40, 60 or none; no limit won), at
# the evaluation library alone and with ~1,350 passages of other fields
# (benchmarks/results/library_growth.md, "One-stem lexical votes").
ONE_STEM_LEXICAL_WEIGHT = 0.25


@dataclass(frozen=True)
class RankedList:
    """Passage ids best first, with each one's score in that list."""

    ids: list[int]
    scores: dict[int, float]
    ranks: dict[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ranks", {pid: rank for rank, pid in enumerate(self.ids, start=1)})

    @classmethod
    def of(cls, ids: Sequence[int], scores: Sequence[float]) -> RankedList:
        id_list = [int(i) for i in ids]
        return cls(id_list, dict(zip(id_list, (float(s) for s in scores), strict=True)))

    def rank(self, passage_id: int) -> int | None:
        """1-based position of a passage, None when the list does not hold it."""
        return self.ranks.get(passage_id)


def reciprocal_rank_fusion(
    lists: Sequence[RankedList],
    *,
    k: int = RRF_K,
    weights: Sequence[float] | None = None,
    vote_scales: Sequence[Mapping[int, float]] | None = None,
) -> dict[int, float]:
    """Σ weight·scale/(k + rank) over the lists that hold each passage (every weight 1 by
    default; `vote_scales`, one mapping per list, scales single passages' votes, 1 if absent).

    A list at weight 0 still contributes its passages as candidates (score 0), so a passage
    only it found can still be described and shown lower down. A scaled vote leaves the other
    passages' ranks in that list as they were.
    """
    if weights is None:
        weights = [1.0] * len(lists)
    scales: Sequence[Mapping[int, float]] = vote_scales or [{} for _ in lists]
    fused: dict[int, float] = {}
    for ranked, weight, scale in zip(lists, weights, scales, strict=True):
        for rank, pid in enumerate(ranked.ids, start=1):
            fused[pid] = fused.get(pid, 0.0) + weight * scale.get(pid, 1.0) / (k + rank)
    return fused


def one_stem_votes(
    lexical: RankedList,
    terms: frozenset[str],
    passage_terms: Callable[[int], frozenset[str]],
    *,
    weight: float = ONE_STEM_LEXICAL_WEIGHT,
) -> dict[int, float]:
    """The lexical list's passages that share at most one stem with a question of two or more,
    each with its reduced vote (for `reciprocal_rank_fusion`'s `vote_scales`)."""
    if len(terms) < 2:
        return {}
    return {pid: weight for pid in lexical.ids if len(terms & passage_terms(pid)) <= 1}


def lexical_trust(rarity: Mapping[str, float], top_terms: frozenset[str]) -> float:
    """How far to trust BM25's vote: the share of the question's rarity (`LexicalIndex.rarity`)
    that BM25's own first passage holds.

    A paraphrase keeps the question's common words ("presidenta", "México") and swaps the
    distinctive ones, so BM25 then ranks first whichever paragraph repeats the common words,
    and an equal vote lets it outvote the dense list. When BM25's winner holds the question's
    rare words (the document's own words), the vote keeps its full weight. Measured in
    benchmarks/results/ranking.md (chosen on the fit part against a floor of 0.5). With no
    rarity to share (every term in every passage), nothing is known and the vote stands.
    """
    total = sum(rarity.values())
    if total <= 0.0:
        return 1.0
    return sum(value for term, value in rarity.items() if term in top_terms) / total
