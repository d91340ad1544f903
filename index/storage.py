"""Database operations below the service boundary: each takes the caller's `session`."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from acuerdo.index.chunking import Chunk
from acuerdo.index.db import rowcount
from acuerdo.index.hits import DocumentInfo, UnansweredQuestion
from acuerdo.index.models import Document, Feedback, IdBlock, IndexState, Passage, QueryLog

EVAL_CHANNEL = "eval"
"""Questions asked by `acuerdo eval`: logged like any other, left out of usage figures."""


def content_hash(text: str) -> str:
    """sha256 of a text, the key that makes re-adding identical content a no-op."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ensure_state(session: Session, model_id: str) -> IndexState:
    """The index-state row, created on first use (a racing replica's insert is tolerated)."""
    state = session.get(IndexState, 1)
    if state is not None:
        return state
    try:
        with session.begin_nested():
            session.add(IndexState(id=1, model_id=model_id, version=0, seeded=False))
    except IntegrityError:
        pass
    state = session.get(IndexState, 1, populate_existing=True)
    assert state is not None
    return state


def lock_state(session: Session) -> IndexState:
    """The state row locked for update, so writers to the index take turns (PostgreSQL)."""
    state = session.execute(
        select(IndexState).where(IndexState.id == 1).with_for_update()
    ).scalar_one()
    return state


def bump_version(session: Session) -> int:
    """Mark the passage set as changed; replicas rebuild when they see a new version."""
    session.execute(
        update(IndexState).where(IndexState.id == 1).values(version=IndexState.version + 1)
    )
    return int(session.execute(select(IndexState.version).where(IndexState.id == 1)).scalar_one())


def document_info(session: Session, document: Document) -> DocumentInfo:
    """A document with its passage count and first passage id."""
    count, first = session.execute(
        select(func.count(Passage.id), func.min(Passage.id)).where(
            Passage.document_id == document.id
        )
    ).one()
    return DocumentInfo(
        id=document.id,
        title=document.title,
        source_name=document.source_name,
        passages=int(count),
        added_at=document.added_at,
        first_passage_id=first,
        sha256=document.sha256,
    )


def list_documents(session: Session) -> list[DocumentInfo]:
    """Every document, oldest first, with passage counts."""
    rows = session.execute(
        select(Document, func.count(Passage.id), func.min(Passage.id))
        .outerjoin(Passage, Passage.document_id == Document.id)
        .group_by(Document.id)
        .order_by(Document.id)
    ).all()
    return [
        DocumentInfo(
            doc.id, doc.title, doc.source_name, int(count), doc.added_at, first, doc.sha256
        )
        for doc, count, first in rows
    ]


def find_by_hash(session: Session, sha256: str) -> Document | None:
    return session.execute(select(Document).where(Document.sha256 == sha256)).scalar_one_or_none()


def find_by_title(session: Session, title: str) -> list[Document]:
    """Documents whose title matches, ignoring case and surrounding spaces."""
    wanted = title.strip().lower()
    return list(
        session.execute(
            select(Document).where(func.lower(func.trim(Document.title)) == wanted)
        ).scalars()
    )


def stored_embeddings(session: Session, hashes: Sequence[str], model_id: str) -> dict[str, bytes]:
    """Embeddings already computed for identical passage texts with the same model."""
    if not hashes:
        return {}
    rows = session.execute(
        select(Passage.sha256, Passage.embedding).where(
            Passage.sha256.in_(set(hashes)), Passage.model_id == model_id
        )
    ).all()
    return {row.sha256: row.embedding for row in rows}


def present_hashes(session: Session, hashes: Sequence[str]) -> set[str]:
    """Which of these passage texts the library holds already (in any document)."""
    unique = sorted(set(hashes))
    found: set[str] = set()
    for start in range(0, len(unique), 500):  # keep IN lists short for every backend
        found.update(
            session.execute(
                select(Passage.sha256).where(Passage.sha256.in_(unique[start : start + 500]))
            ).scalars()
        )
    return found


def insert_document(
    session: Session,
    *,
    title: str,
    source_name: str,
    sha256: str,
    chunks: Sequence[Chunk],
    embeddings: Sequence[bytes],
    model_id: str,
    source: bytes | None = None,
) -> Document:
    """Add a document and its passages; the caller's transaction makes it all or nothing."""
    document = Document(
        title=title,
        source_name=source_name,
        sha256=sha256,
        source=None if source is None else zlib.compress(source, 6),
    )
    document.passages = [
        Passage(
            ordinal=chunk.ordinal,
            paragraph=chunk.paragraph,
            text=chunk.text,
            heading=chunk.heading,
            sha256=content_hash(chunk.text),
            embedding=vector,
            model_id=model_id,
        )
        for chunk, vector in zip(chunks, embeddings, strict=True)
    ]
    session.add(document)
    session.flush()
    return document


def delete_document(session: Session, document_id: int) -> bool:
    """Remove a document and (explicitly, whatever the backend's cascade support) its passages;
    False when there was no such document (already removed)."""
    session.execute(delete(Passage).where(Passage.document_id == document_id))
    return rowcount(session.execute(delete(Document).where(Document.id == document_id))) > 0


def reserve_query_ids(session: Session, count: int) -> int:
    """The first of `count` query-log ids that now belong to the caller alone.

    Raises IntegrityError when another process created the counter at the same moment; the
    caller tries again in a new transaction.
    """
    name = QueryLog.__tablename__
    blocks = cast(Table, IdBlock.__table__)
    # A Core statement: the ORM's bulk UPDATE path took 40 ms to compile, paid at start-up.
    reserved = session.execute(
        update(blocks)
        .where(blocks.c.name == name)
        .values(next_id=blocks.c.next_id + count)
        .returning(blocks.c.next_id)
    ).scalar_one_or_none()
    if reserved is not None:
        return int(reserved) - count
    # First reservation: start above any row written before ids were reserved.
    first = int(session.scalar(select(func.max(QueryLog.id))) or 0) + 1
    session.add(IdBlock(name=name, next_id=first + count))
    session.flush()
    return first


def record_feedback(
    session: Session, *, query_id: int, user_hash: str, helpful: bool, passage_id: int | None
) -> bool:
    """Store one vote (replacing that user's earlier vote); False if the query is unknown."""
    if session.get(QueryLog, query_id) is None:
        return False
    mine = select(Feedback).where(Feedback.query_id == query_id, Feedback.user_hash == user_hash)
    existing = session.execute(mine).scalar_one_or_none()
    if existing is None:
        try:
            with session.begin_nested():
                session.add(
                    Feedback(
                        query_id=query_id,
                        user_hash=user_hash,
                        helpful=helpful,
                        passage_id=passage_id,
                    )
                )
            return True
        except IntegrityError:
            # 👍 and 👎 tapped at once: the other tap's row was committed between our read and
            # our insert. It is there now (READ COMMITTED; SQLite serialises), and ours is later.
            existing = session.execute(mine).scalar_one()
    existing.helpful = helpful
    existing.passage_id = passage_id
    return True


def count_queries(session: Session) -> tuple[int, int, int]:
    """(questions asked, answered with confidence, answered tentatively)."""
    total, answered, tentative = session.execute(
        select(
            func.count(QueryLog.id),
            func.count(QueryLog.id).filter(QueryLog.answered),
            func.count(QueryLog.id).filter(~QueryLog.answered, QueryLog.tentative.is_(True)),
        ).where(QueryLog.channel != EVAL_CHANNEL)
    ).one()
    return int(total), int(answered), int(tentative)


def count_feedback(session: Session) -> tuple[int, int]:
    """(helpful votes, unhelpful votes)."""
    helpful, unhelpful = session.execute(
        select(
            func.count(Feedback.id).filter(Feedback.helpful),
            func.count(Feedback.id).filter(~Feedback.helpful),
        )
    ).one()
    return int(helpful), int(unhelpful)


def top_unanswered(session: Session, limit: int) -> list[UnansweredQuestion]:
    """The most frequent questions that found nothing, grouped case-insensitively."""
    key = func.lower(func.trim(QueryLog.question))
    rows = session.execute(
        select(func.min(QueryLog.question), func.count(QueryLog.id))
        .where(
            ~QueryLog.answered,
            QueryLog.tentative.is_not(True),
            QueryLog.channel != EVAL_CHANNEL,
        )
        .group_by(key)
        .order_by(func.count(QueryLog.id).desc(), func.min(QueryLog.question))
        .limit(limit)
    ).all()
    return [UnansweredQuestion(question, int(count)) for question, count in rows]


def count_corpus(session: Session) -> tuple[int, int]:
    """(documents, passages)."""
    documents = session.execute(select(func.count(Document.id))).scalar_one()
    passages = session.execute(select(func.count(Passage.id))).scalar_one()
    return int(documents), int(passages)
