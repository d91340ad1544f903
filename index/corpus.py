"""The in-memory, searchable copy of the stored passages: built from the database, swapped whole."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from acuerdo.index.cached_indexes import (
    LEXICAL_FILE,
    lexical_file,
    lexical_from,
    lexical_text,
    vectors_from,
)
from acuerdo.index.embedding import Matrix
from acuerdo.index.lexical import LexicalIndex, SpanishAnalyzer
from acuerdo.index.lexical_file import LexicalMeta, save_lexical
from acuerdo.index.models import Document, IndexState, Passage
from acuerdo.index.vectors import IndexMeta, VectorIndex


class PassageRecord(NamedTuple):
    """What a hit needs to show a passage without another database round trip.

    A named tuple rather than a frozen dataclass: a corpus holds one per passage, and 100,000 of
    them took 0.5 s and 30 MB more to build as dataclasses (benchmarks/scale.py).
    """

    id: int
    document_id: int
    document_title: str
    ordinal: int
    paragraph: int
    text: str
    heading: str | None = None


@dataclass(frozen=True)
class Corpus:
    """One consistent version of the searchable passages (FAISS + BM25 + texts)."""

    model_id: str
    version: int
    vectors: VectorIndex
    lexical: LexicalIndex
    records: dict[int, PassageRecord]
    # Passage id → id of the passage just before it in the same document. Spanish drops the
    # subject ("A las 13:30 horas se reunirá…"), so a paragraph is often read with its lead-in.
    previous: Mapping[int, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.records)


def read_state(session: Session) -> IndexState | None:
    """The single index-state row, if the database has been initialised."""
    return session.get(IndexState, 1)


def load_corpus(
    session: Session,
    *,
    dim: int,
    vector_file: Path | None = None,
    on_rebuild: Callable[[str], None] | None = None,
) -> Corpus:
    """Read the passages; reuse the saved vector and BM25 files only when they match exactly,
    else build them from the stored vectors and texts (and save them)."""
    state = read_state(session)
    model_id = state.model_id if state else ""
    version = state.version if state else 0
    # Texts only: the vectors (1.5 KB a passage) are read from the database only to rebuild.
    # Core rows, titles apart: the ORM's row handling and a title string per passage were a
    # third of the restart at 100k passages (benchmarks/scale.py).
    connection = session.connection()
    titles = {pid: title for pid, title in connection.execute(select(Document.id, Document.title))}
    rows = connection.execute(
        select(
            Passage.id,
            Passage.document_id,
            Passage.ordinal,
            Passage.paragraph,
            Passage.text,
            Passage.heading,
        )
        .where(Passage.model_id == model_id)
        .order_by(Passage.id)
    ).all()
    records = {
        pid: PassageRecord(pid, document, titles[document], ordinal, paragraph, text, heading)
        for pid, document, ordinal, paragraph, text, heading in rows
    }
    ids = np.fromiter(records, dtype=np.int64, count=len(records))
    vectors = vectors_from(
        session,
        ids,
        path=vector_file,
        meta=IndexMeta(model_id, version, len(ids), dim),
        model_id=model_id,
        on_rebuild=on_rebuild,
    )
    lexical = lexical_from(
        ids,
        (lexical_text(r.text, r.heading) for r in records.values()),  # read only to rebuild
        path=lexical_file(vector_file),
        meta=LexicalMeta(model_id, version, len(ids), SpanishAnalyzer().fingerprint),
    )
    return Corpus(
        model_id=model_id,
        version=version,
        vectors=vectors,
        lexical=lexical,
        records=records,
        previous=previous_passages(
            ids,
            np.fromiter((row[1] for row in rows), dtype=np.int64, count=len(rows)),
            np.fromiter((row[2] for row in rows), dtype=np.int64, count=len(rows)),
        ),
    )


def update_corpus(session: Session, current: Corpus) -> Corpus | None:
    """`current` with the database's later changes applied, or None when a full load is due.

    Only added passages are read; the indexes are copied and changed, never the ones serving.
    Nothing is written to disk here: see `save_corpus`.
    """
    state = read_state(session)  # the version first: a change landing meanwhile is seen next time
    if state is None or state.model_id != current.model_id:
        return None
    present = set(
        session.execute(select(Passage.id).where(Passage.model_id == state.model_id)).scalars()
    )
    removed = [pid for pid in current.records if pid not in present]
    added = sorted(present.difference(current.records))
    if len(added) + len(removed) > max(1000, len(current) // 4):
        return None  # a reload is cheaper than many small changes
    rows = _passage_rows(session, added)
    if len(rows) != len(added):
        return None  # removed again while we read: start from a consistent snapshot instead
    dim = current.vectors.dim
    vectors = current.vectors.copy()
    vectors.remove(removed)
    vectors.add(added, _stack([row.embedding for row in rows], dim=dim))
    gone = set(removed)
    records = {pid: record for pid, record in current.records.items() if pid not in gone}
    records.update((row.id, _record(row)) for row in rows)
    count = len(records)
    return Corpus(
        model_id=state.model_id,
        version=state.version,
        vectors=vectors,
        lexical=current.lexical.updated(
            removed=removed,
            added_ids=added,
            added_texts=[lexical_text(row.text, row.heading) for row in rows],
        ),
        records=records,
        previous=previous_passages(
            np.fromiter(records, dtype=np.int64, count=count),
            np.fromiter((r.document_id for r in records.values()), dtype=np.int64, count=count),
            np.fromiter((r.ordinal for r in records.values()), dtype=np.int64, count=count),
        ),
    )


def _passage_rows(session: Session, ids: Sequence[int]) -> list[Any]:
    rows: list[Any] = []
    for start in range(0, len(ids), 500):  # keep IN lists short for every backend
        rows += session.execute(
            _passage_query().where(Passage.id.in_(ids[start : start + 500]))
        ).all()
    return sorted(rows, key=lambda row: row.id)


def _passage_query():  # type: ignore[no-untyped-def]
    return select(*_RECORD_COLUMNS, Passage.embedding).join(
        Document, Document.id == Passage.document_id
    )


def _record_query():  # type: ignore[no-untyped-def]
    return select(*_RECORD_COLUMNS).join(Document, Document.id == Passage.document_id)


_RECORD_COLUMNS = (
    Passage.id,
    Passage.document_id,
    Document.title,
    Passage.ordinal,
    Passage.paragraph,
    Passage.text,
    Passage.heading,
)


def _record(row: Any) -> PassageRecord:
    return PassageRecord(
        row.id, row.document_id, row.title, row.ordinal, row.paragraph, row.text, row.heading
    )


def previous_passages(
    ids: npt.NDArray[np.int64], documents: npt.NDArray[np.int64], ordinals: npt.NDArray[np.int64]
) -> dict[int, int]:
    """Passage id → the id of the passage with the preceding ordinal in the same document
    (passage i is `ids[i]`, at `ordinals[i]` in `documents[i]`)."""
    order = np.lexsort((ordinals, documents))
    ids, documents, ordinals = ids[order], documents[order], ordinals[order]
    follows = (documents[1:] == documents[:-1]) & (ordinals[1:] == ordinals[:-1] + 1)
    return dict(zip(ids[1:][follows].tolist(), ids[:-1][follows].tolist(), strict=True))


def save_corpus(corpus: Corpus, vector_file: Path) -> None:
    """Write the vector index and the BM25 postings with the state they reflect (atomically,
    file by file)."""
    corpus.vectors.save(
        vector_file,
        IndexMeta(corpus.model_id, corpus.version, len(corpus.vectors), corpus.vectors.dim),
    )
    save_lexical(
        vector_file.with_name(LEXICAL_FILE),
        corpus.lexical,
        LexicalMeta(
            corpus.model_id,
            corpus.version,
            len(corpus.lexical),
            corpus.lexical.analyzer.fingerprint,
        ),
    )


def _stack(rows_embedding: Sequence[bytes], dim: int) -> Matrix:
    if not rows_embedding:
        return np.zeros((0, dim), dtype=np.float32)
    return np.frombuffer(b"".join(rows_embedding), dtype=np.float32).reshape(-1, dim).copy()
