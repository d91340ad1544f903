"""Order rules applied to the fused list, as pure functions of the corpus and the question's
terms: exact ties broken by term coverage, and a passage completed by its lead-in paragraph
moved first. `Retriever` composes them; benchmarks call them on their own lists."""

from __future__ import annotations

import math

from acuerdo.index.corpus import Corpus

# How deep in the fused list a passage may be moved to the top when, read with its previous
# paragraph, it holds every question term and the top passage (with its own) does not. Depth 2
# never fired on the 80 in-scope dev+synthetic questions; 3 and 5 gave the same results (one
# correct move, no wrong one), so the shallower one is kept.
LEAD_IN_CANDIDATES = 3


def ties_by_coverage(
    corpus: Corpus,
    terms: frozenset[str],
    ordered: list[int],
    fused: dict[int, float],
    cosine: dict[int, float],
    *,
    depth: int,
) -> list[int]:
    """Within a run of equal fused scores in the top `depth`, more question terms come first.

    Two lists that swap two passages give both the same fused score; the one holding more of
    the question's terms (Lucene's old "coord" factor) is then the likelier answer, whichever
    encoder prefers the other. Only exact ties move, so the fusion itself is unchanged.
    """
    if not terms:
        return ordered
    result = list(ordered)
    start = 0
    while start < min(depth, len(result)):
        end = start + 1
        while end < len(result) and math.isclose(
            fused[result[end]], fused[result[start]], rel_tol=1e-9
        ):
            end += 1
        if end - start > 1:
            result[start:end] = sorted(
                result[start:end],
                key=lambda pid: (-corpus.lexical.coverage(terms, pid), -cosine[pid], pid),
            )
        start = end
    return result


def with_lead_in(corpus: Corpus, terms: frozenset[str], ordered: list[int]) -> list[int]:
    """Put first a near-top passage completing the question only with its previous paragraph.

    Spanish drops subjects: "¿qué hará la ministra por la tarde?" is answered by "A las 16:00
    se reunirá…", whose subject is named only in the paragraph before, while the dense models
    prefer whichever paragraph names the minister. Every voter scores a paragraph alone, and a
    fourth voter over paragraph + lead-in could not outvote two lists agreeing on the other, so
    this is a rule with a strict condition instead: every content term of the question in the
    passage plus its lead-in, at least one in the passage itself, and the current top passage
    (with its own lead-in) lacking some. Partial coverage was tried and moved wrong passages.
    The evidence for the answer policy sees the same completion as `lead_in_complete`
    (index/reranking.py).
    """
    if not terms or len(ordered) < 2:
        return ordered
    if terms <= with_previous(corpus, ordered[0]):
        return ordered
    for pid in ordered[1:LEAD_IN_CANDIDATES]:
        own = corpus.lexical.passage_terms(pid)
        if terms & own and terms <= with_previous(corpus, pid):
            return [pid, *(other for other in ordered if other != pid)]
    return ordered


def with_previous(corpus: Corpus, pid: int) -> frozenset[str]:
    """The passage's terms with those of the paragraph before it (its lead-in)."""
    terms = corpus.lexical.passage_terms(pid)
    previous = corpus.previous.get(pid)
    return terms if previous is None else terms | corpus.lexical.passage_terms(previous)
