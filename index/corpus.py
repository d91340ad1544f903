"""The in-memory, searchable copy of the stored passages: built from the database, swapped whole."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from index.embedding import Embedder, Matrix
from index.lexical import LexicalIndex
from index.models import Document, IndexState, Passage
from index.vectors import IndexMeta, VectorIndex


@dataclass(frozen=True)
class PassageRecord:
    """What a hit needs to show a passage without another database round trip."""

    id: int
    document_id: int
    document_title: str
    ordinal: int
    paragraph: int
    text: str
    heading: str | None = None


def lexical_text(text: str, heading: str | None) -> str:
    """What BM25 indexes for a passage: its headings count as its words too.

    Only the lexical side: adding titles or neighbours to the embedded text made ranking worse.
    """
    return text if not heading else f"{heading}\n{text}"


@dataclass(frozen=True)
class Corpus:
    """One consistent version of the searchable passages (FAISS + BM25 + texts)."""

    model_id: str
    version: int
    vectors: VectorIndex
    lexical: LexicalIndex
    records: dict[int, PassageRecord]
    secondary: VectorIndex | None = None
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
    secondary: Embedder | None = None,
    vector_file: Path | None = None,
    on_rebuild: Callable[[str], None] | None = None,
) -> Corpus:
    """Read passages and stored vectors; reuse the saved FAISS file only when it matches exactly."""
    state = read_state(session)
    model_id = state.model_id if state else ""
    version = state.version if state else 0
    rows = session.execute(
        _passage_query().where(Passage.model_id == model_id).order_by(Passage.id)
    ).all()
    records = {row.id: _record(row) for row in rows}
    ids = np.fromiter((row.id for row in rows), dtype=np.int64, count=len(rows))
    vectors = _vectors_from(
        rows,
        path=vector_file,
        meta=IndexMeta(model_id, version, len(rows), dim),
        column="embedding",
        on_rebuild=on_rebuild,
    )
    aux = None
    if secondary is not None and all(row.aux_model_id == secondary.model_id for row in rows):
        aux = _vectors_from(
            rows,
            path=secondary_file(vector_file),
            meta=IndexMeta(secondary.model_id, version, len(rows), secondary.dim),
            column="aux_embedding",
        )
    lexical = LexicalIndex()
    lexical.build(ids.tolist(), [lexical_text(row.text, row.heading) for row in rows])
    return Corpus(
        model_id=model_id,
        version=version,
        vectors=vectors,
        lexical=lexical,
        records=records,
        secondary=aux,
        previous=previous_passages(records.values()),
    )


def update_corpus(
    session: Session,
    current: Corpus,
    *,
    secondary: Embedder | None = None,
) -> Corpus | None:
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
    if secondary is not None and (
        current.secondary is None or any(row.aux_model_id != secondary.model_id for row in rows)
    ):
        return None
    dim = current.vectors.dim
    vectors = current.vectors.copy()
    vectors.remove(removed)
    vectors.add(added, _stack([row.embedding for row in rows], dim=dim))
    aux = None
    if secondary is not None and current.secondary is not None:
        aux = current.secondary.copy()
        aux.remove(removed)
        aux.add(added, _stack([row.aux_embedding for row in rows], dim=secondary.dim))
    gone = set(removed)
    records = {pid: record for pid, record in current.records.items() if pid not in gone}
    records.update((row.id, _record(row)) for row in rows)
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
        secondary=aux,
        previous=previous_passages(records.values()),
    )


def _passage_rows(session: Session, ids: Sequence[int]) -> list[Any]:
    rows: list[Any] = []
    for start in range(0, len(ids), 500):  # keep IN lists short for every backend
        rows += session.execute(
            _passage_query().where(Passage.id.in_(ids[start : start + 500]))
        ).all()
    return sorted(rows, key=lambda row: row.id)


def _passage_query():  # type: ignore[no-untyped-def]
    return select(
        Passage.id,
        Passage.document_id,
        Document.title,
        Passage.ordinal,
        Passage.paragraph,
        Passage.text,
        Passage.heading,
        Passage.embedding,
        Passage.aux_embedding,
        Passage.aux_model_id,
    ).join(Document, Document.id == Passage.document_id)


def _record(row: Any) -> PassageRecord:
    return PassageRecord(
        row.id, row.document_id, row.title, row.ordinal, row.paragraph, row.text, row.heading
    )


def previous_passages(records: Iterable[PassageRecord]) -> dict[int, int]:
    """Passage id → the id of the passage with the preceding ordinal in the same document."""
    by_position = {(r.document_id, r.ordinal): r.id for r in records}
    return {
        pid: by_position[(document_id, ordinal - 1)]
        for (document_id, ordinal), pid in by_position.items()
        if (document_id, ordinal - 1) in by_position
    }


def save_corpus(corpus: Corpus, vector_file: Path, *, secondary: Embedder | None) -> None:
    """Write both vector indexes with the state they reflect (atomically, file by file)."""
    corpus.vectors.save(
        vector_file,
        IndexMeta(corpus.model_id, corpus.version, len(corpus.vectors), corpus.vectors.dim),
    )
    if corpus.secondary is not None and secondary is not None:
        meta = IndexMeta(secondary.model_id, corpus.version, len(corpus.secondary), secondary.dim)
        corpus.secondary.save(vector_file.with_name("vectors-secondary.faiss"), meta)


def secondary_file(vector_file: Path | None) -> Path | None:
    """Where the second encoder's index is saved, beside the main one."""
    return None if vector_file is None else vector_file.with_name("vectors-secondary.faiss")


def _vectors_from(
    rows: Sequence[Any],
    *,
    path: Path | None,
    meta: IndexMeta,
    column: str,
    on_rebuild: Callable[[str], None] | None = None,
) -> VectorIndex:
    """The saved index when it matches `meta` exactly; else one built from the stored vectors."""
    loaded = VectorIndex.load(path) if path is not None else None
    if loaded is not None and loaded[1] == meta:
        return loaded[0]
    if on_rebuild is not None and rows:
        on_rebuild(
            f"Construyendo el índice vectorial desde la base de datos ({len(rows)} pasajes)…"
        )
    matrix = _stack([getattr(row, column) for row in rows], dim=meta.dim)
    vectors = VectorIndex.build(meta.dim, [row.id for row in rows], matrix)
    if path is not None:
        vectors.save(path, meta)
    return vectors


def _stack(rows_embedding: Sequence[bytes], dim: int) -> Matrix:
    if not rows_embedding:
        return np.zeros((0, dim), dtype=np.float32)
    return np.frombuffer(b"".join(rows_embedding), dtype=np.float32).reshape(-1, dim).copy()
