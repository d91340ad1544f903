"""Question → ranked hits: dense and lexical search, rank fusion, abstention, best sentence."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from index.chunking import sentence_spans
from index.corpus import Corpus
from index.embedding import Embedder
from index.hits import Hit

MAX_QUESTION_CHARS = 1000


@dataclass(frozen=True)
class Retrieval:
    """Ranked hits (always listed) and whether they are good enough to quote."""

    hits: tuple[Hit, ...]
    answered: bool
    confidence: float


@dataclass(frozen=True)
class AbstentionModel:
    """Logistic model over (top dense cosine, query-term coverage of the top hit)."""

    bias: float = -22.0
    dense_weight: float = 25.0
    coverage_weight: float = 4.0
    threshold: float = 0.5

    def confidence(self, dense: float, coverage: float) -> float:
        z = self.bias + self.dense_weight * dense + self.coverage_weight * coverage
        return 1.0 / (1.0 + math.exp(-z))


class Retriever:
    """Hybrid search over a `Corpus` snapshot."""

    def __init__(
        self,
        embedder: Embedder,
        *,
        candidates: int = 50,
        rrf_k: int = 60,
        abstention: AbstentionModel | None = None,
    ) -> None:
        self._embedder = embedder
        self._candidates = candidates
        self._rrf_k = rrf_k
        self._abstention = abstention or AbstentionModel()

    def search(self, corpus: Corpus, question: str, *, k: int = 5) -> Retrieval:
        """The top `k` passages for `question`, fused from both searches."""
        question = question[:MAX_QUESTION_CHARS]
        if len(corpus) == 0:
            return Retrieval(hits=(), answered=False, confidence=0.0)
        query = self._embedder.embed_queries([question])[0]
        dense_ids, dense_scores = corpus.vectors.search(query, self._candidates)
        lexical_ids, lexical_scores = corpus.lexical.search(question, self._candidates)
        fused: dict[int, float] = {}
        for ranked in (dense_ids, lexical_ids):
            for rank, pid in enumerate(ranked.tolist()):
                fused[pid] = fused.get(pid, 0.0) + 1.0 / (self._rrf_k + rank + 1)
        dense_by_id = dict(zip(dense_ids.tolist(), dense_scores.tolist(), strict=True))
        lexical_by_id = dict(zip(lexical_ids.tolist(), lexical_scores.tolist(), strict=True))
        # Lexical-only candidates still need a cosine, both for tie-breaking and for display.
        for pid in fused:
            if pid not in dense_by_id:
                dense_by_id[pid] = float(np.dot(corpus.vectors.vector(pid), query))
        ranked_ids = sorted(fused, key=lambda pid: (-fused[pid], -dense_by_id[pid], pid))[:k]
        hits = []
        for pid in ranked_ids:
            record = corpus.records[pid]
            hits.append(
                Hit(
                    passage_id=pid,
                    document_id=record.document_id,
                    document_title=record.document_title,
                    paragraph=record.paragraph,
                    ordinal=record.ordinal,
                    text=record.text,
                    score=fused[pid],
                    dense=dense_by_id[pid],
                    lexical=lexical_by_id.get(pid, 0.0),
                    highlight=self.highlight(corpus, question, record.text),
                )
            )
        top = hits[0]
        coverage = corpus.lexical.term_overlap(question, top.passage_id)
        confidence = self._abstention.confidence(max(dense_scores.tolist() or [0.0]), coverage)
        return Retrieval(
            hits=tuple(hits),
            answered=confidence >= self._abstention.threshold,
            confidence=confidence,
        )

    def highlight(self, corpus: Corpus, question: str, text: str) -> tuple[int, int] | None:
        """Span of the sentence sharing most query terms (the first on ties); None if one sentence."""
        spans = sentence_spans(text)
        if len(spans) <= 1:
            return spans[0] if spans else None
        analyzer = corpus.lexical.analyzer
        terms = set(analyzer.terms(question))
        best, best_score = spans[0], -1
        for span in spans:
            score = len(terms & set(analyzer.terms(text[span[0] : span[1]])))
            if score > best_score:
                best, best_score = span, score
        return best
