"""The indexes a corpus is searched with, read from their saved files or rebuilt from the database.

The database is the truth; the files beside it (FAISS vectors, BM25 postings) are caches that
spare a restart from reading every vector and analysing every passage again. A file is used only
when it reflects exactly the database state being loaded; otherwise the index is built from the
stored rows and the file written again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from acuerdo.index.embedding import Matrix
from acuerdo.index.errors import StorageError
from acuerdo.index.lexical import LexicalIndex
from acuerdo.index.lexical_file import LexicalMeta, load_lexical, save_lexical
from acuerdo.index.models import Passage
from acuerdo.index.vectors import IndexMeta, VectorIndex

LEXICAL_FILE = "lexical.bm25"


def lexical_text(text: str, heading: str | None) -> str:
    """What BM25 indexes for a passage: its headings count as its words too.

    Only the lexical side: adding titles or neighbours to the embedded text made ranking worse.
    """
    return text if not heading else f"{heading}\n{text}"


def lexical_file(vector_file: Path | None) -> Path | None:
    """Where the BM25 postings are saved, beside the vector index."""
    return None if vector_file is None else vector_file.with_name(LEXICAL_FILE)


def vectors_from(
    session: Session,
    ids: npt.NDArray[np.int64],
    *,
    path: Path | None,
    meta: IndexMeta,
    model_id: str,
    on_rebuild: Callable[[str], None] | None = None,
) -> VectorIndex:
    """The saved index when it matches `meta` exactly; else one built from the stored vectors."""
    loaded = VectorIndex.load(path) if path is not None else None
    if loaded is not None and loaded[1] == meta:
        return loaded[0]
    if on_rebuild is not None and len(ids):
        on_rebuild(f"Construyendo el índice vectorial desde la base de datos ({len(ids)} pasajes)…")
    matrix = stored_vectors(session, ids, model_id=model_id, dim=meta.dim)
    vectors = VectorIndex.build(meta.dim, ids, matrix)
    if path is not None:
        vectors.save(path, meta)
    return vectors


def stored_vectors(
    session: Session, ids: npt.NDArray[np.int64], *, model_id: str, dim: int
) -> Matrix:
    """The vectors of `ids` streamed from the database into one matrix (the session's snapshot
    is the one the passages were read in: index/db.py)."""
    matrix = np.empty((len(ids), dim), dtype=np.float32)
    query = (
        select(Passage.id, Passage.embedding)
        .where(Passage.model_id == model_id)
        .order_by(Passage.id)
        .execution_options(yield_per=5000)
    )
    count = 0
    for pid, blob in session.execute(query):
        if count >= len(ids) or pid != ids[count]:
            raise StorageError("Los pasajes cambiaron durante la lectura del índice.")
        matrix[count] = np.frombuffer(blob, dtype=np.float32)
        count += 1
    if count != len(ids):
        raise StorageError("Los pasajes cambiaron durante la lectura del índice.")
    return matrix


def lexical_from(
    ids: npt.NDArray[np.int64], texts: Iterable[str], *, path: Path | None, meta: LexicalMeta
) -> LexicalIndex:
    """The saved postings when they match; else the passages analysed again (and saved)."""
    loaded = load_lexical(path, meta, ids) if path is not None else None
    if loaded is not None:
        return loaded
    lexical = LexicalIndex()
    lexical.build(ids.tolist(), list(texts))
    if path is not None:
        save_lexical(path, lexical, meta)
    return lexical
