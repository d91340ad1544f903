"""Okapi BM25 (Lucene's variant) over a sparse passage × term matrix that can grow and shrink.

bm25s scores the same formula but can only be rebuilt whole: 2.7 s for 100k passages on this
machine, against a 2 s budget for adding one document to such a corpus. Here adding rows costs
~70 ms (a CSR append and one CSC conversion) and removing rows only flips a mask, so an admin's
upload is searchable at once. Scores match bm25s(method="lucene") (tests/test_bm25.py).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

# Standard Lucene/Elasticsearch defaults.
K1 = 1.2
B = 0.75
# Removed rows are only masked; past this share of dead rows the matrix is compacted.
COMPACT_ABOVE = 0.25


@dataclass(frozen=True)
class BM25:
    """An immutable index: every change returns a new one, so searches never see half an update."""

    vocabulary: dict[str, int]
    rows: sp.csr_matrix  # term frequencies, one row per document
    columns: sp.csc_matrix  # the same matrix, for fast access by term
    alive: npt.NDArray[np.bool_]
    lengths: npt.NDArray[np.float32]
    document_frequency: npt.NDArray[np.int64]

    @classmethod
    def empty(cls) -> BM25:
        matrix = sp.csr_matrix((0, 0), dtype=np.float32)
        return cls(
            {},
            matrix,
            matrix.tocsc(),
            np.zeros(0, bool),
            np.zeros(0, np.float32),
            np.zeros(0, np.int64),
        )

    @classmethod
    def build(cls, documents: Sequence[Sequence[str]]) -> BM25:
        return cls.empty().appended(documents)

    def __len__(self) -> int:
        return self._live

    @property
    def row_count(self) -> int:
        return int(self.rows.shape[0])

    def appended(self, documents: Sequence[Sequence[str]]) -> BM25:
        """A new index with `documents` added as rows after the existing ones."""
        vocabulary = dict(self.vocabulary)
        row_index, col_index = [], []
        for row, terms in enumerate(documents):
            for term in terms:
                row_index.append(row)
                col_index.append(vocabulary.setdefault(term, len(vocabulary)))
        width = len(vocabulary)
        new = sp.csr_matrix(
            (np.ones(len(col_index), np.float32), (row_index, col_index)),
            shape=(len(documents), width),
        )
        new.sum_duplicates()
        old = sp.csr_matrix(
            (self.rows.data, self.rows.indices, self.rows.indptr), shape=(self.row_count, width)
        )
        rows = sp.vstack([old, new], format="csr")
        frequency = np.zeros(width, np.int64)
        frequency[: len(self.document_frequency)] = self.document_frequency
        frequency += np.bincount(new.indices, minlength=width)
        return BM25(
            vocabulary=vocabulary,
            rows=rows,
            columns=rows.tocsc(),
            alive=np.concatenate([self.alive, np.ones(len(documents), bool)]),
            lengths=np.concatenate(
                [self.lengths, np.asarray(new.sum(axis=1)).ravel().astype(np.float32)]
            ),
            document_frequency=frequency,
        )

    def without(self, row_numbers: Iterable[int]) -> BM25:
        """A new index where these rows no longer count or score."""
        dead = np.asarray(sorted(set(row_numbers)), dtype=np.int64)
        dead = dead[self.alive[dead]] if len(dead) else dead
        if len(dead) == 0:
            return self
        alive = self.alive.copy()
        alive[dead] = False
        removed = self.rows[dead]
        frequency = self.document_frequency - np.bincount(
            removed.indices, minlength=len(self.document_frequency)
        )
        return BM25(self.vocabulary, self.rows, self.columns, alive, self.lengths, frequency)

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        """Every array of the index by name (the vocabulary apart), for `from_arrays`."""
        return {
            "rows_indptr": self.rows.indptr,
            "rows_indices": self.rows.indices,
            "rows_data": self.rows.data,
            "columns_indptr": self.columns.indptr,
            "columns_indices": self.columns.indices,
            "columns_data": self.columns.data,
            "alive": self.alive,
            "lengths": self.lengths,
            "document_frequency": self.document_frequency,
        }

    @classmethod
    def from_arrays(
        cls, vocabulary: dict[str, int], arrays: Mapping[str, npt.NDArray[Any]]
    ) -> BM25:
        """The index `arrays` described; ValueError when they do not fit together."""
        shape = (len(arrays["alive"]), len(vocabulary))
        if not (
            len(arrays["lengths"]) == shape[0]
            and len(arrays["document_frequency"]) == shape[1]
            and len(arrays["rows_indptr"]) == shape[0] + 1
            and len(arrays["columns_indptr"]) == shape[1] + 1
        ):
            raise ValueError("saved BM25 arrays of mismatched sizes")
        # The columns are stored too: converting rows to columns costs ~0.5 s at 100k passages.
        rows = sp.csr_matrix(
            (arrays["rows_data"], arrays["rows_indices"], arrays["rows_indptr"]), shape=shape
        )
        columns = sp.csc_matrix(
            (arrays["columns_data"], arrays["columns_indices"], arrays["columns_indptr"]),
            shape=shape,
        )
        return cls(
            vocabulary,
            rows,
            columns,
            arrays["alive"],
            arrays["lengths"],
            arrays["document_frequency"],
        )

    def needs_compaction(self) -> bool:
        return self.row_count > 0 and 1 - len(self) / self.row_count > COMPACT_ABOVE

    def compacted(self) -> tuple[BM25, npt.NDArray[np.int64]]:
        """Drop dead rows; returns the index and, for each kept row, its old row number."""
        kept = np.flatnonzero(self.alive)
        rows = self.rows[kept]
        return (
            BM25(
                self.vocabulary,
                rows,
                rows.tocsc(),
                np.ones(len(kept), bool),
                self.lengths[kept],
                self.document_frequency,
            ),
            kept,
        )

    def scores(self, terms: Sequence[str]) -> npt.NDArray[np.float32]:
        """The BM25 score of every row (dead rows score 0) for a bag of query terms."""
        scores = np.zeros(self.row_count, dtype=np.float32)
        live = self._live
        if live == 0:
            return scores
        denominators = self._denominators
        for term in terms:  # repeated query terms count again, as in bm25s
            column = self.vocabulary.get(term)
            if column is None or self.document_frequency[column] == 0:
                continue
            start, end = self.columns.indptr[column], self.columns.indptr[column + 1]
            rows = self.columns.indices[start:end]
            tf = self.columns.data[start:end]
            df = self.document_frequency[column]
            idf = np.log(1.0 + (live - df + 0.5) / (df + 0.5))
            scores[rows] += (idf * tf / denominators[start:end]).astype(np.float32)
        if live < self.row_count:
            scores[~self.alive] = 0.0
        return scores

    def ready(self) -> BM25:
        """This index with its per-version arrays computed, so no question pays for them."""
        self._denominators  # noqa: B018  # computed and kept (cached property)
        return self

    # Computed once per (immutable) index rather than for every question: each is a pass over
    # every passage (benchmarks/scale.py).
    @functools.cached_property
    def _live(self) -> int:
        return int(self.alive.sum())

    @functools.cached_property
    def _average_length(self) -> float:
        return float(self.lengths[self.alive].mean()) or 1.0

    @functools.cached_property
    def _denominators(self) -> npt.NDArray[np.float32]:
        """tf + K1·(1 − B + B·length/average) of every posting, in `columns` order: the part of
        a term's score that does not depend on the question (the same float32 arithmetic as
        computing it per question, so scores are unchanged)."""
        rows = self.columns.indices
        norm = K1 * (1.0 - B + B * self.lengths[rows] / self._average_length)
        return np.asarray(self.columns.data + norm, dtype=np.float32)

    def rarity(self, term: str) -> float:
        """How few live rows hold the term: log(N/df) / log(N), 1 for a term in one row only
        (or in none), 0 for a term in every row. Scaled by log(N) so it reads the same in a
        library of a hundred passages and of a hundred thousand."""
        live = self._live
        column = self.vocabulary.get(term)
        df = int(self.document_frequency[column]) if column is not None else 0
        if live <= 1 or df <= 1:
            return 1.0
        return max(0.0, math.log(live / df) / math.log(live))

    def row_terms(self, row: int) -> frozenset[int]:
        """Column numbers of the terms in one row."""
        start, end = self.rows.indptr[row], self.rows.indptr[row + 1]
        return frozenset(self.rows.indices[start:end].tolist())
