"""Re-reading every document with the current readers and chunking, then re-embedding it all.

A document keeps its id. Its passages are matched by text: a passage whose text survives keeps
its row and id (so links, votes and logged answers still show it); new passages get new ids,
inserted before the old ones are deleted so no id is handed out twice; a passage that is gone
has its references in the query log and the feedback moved to the new passage of the same
document that holds most of its words (left alone when none holds half of them).
Documents stored with their original file are read again; older ones, added before files were
kept, are re-cut from the text of their stored passages.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from acuerdo.index import storage
from acuerdo.index.chunking import Chunk, chunk_text
from acuerdo.index.errors import DocumentError
from acuerdo.index.ingest import PreparedDocument
from acuerdo.index.models import Document, Feedback, Passage, QueryLog
from acuerdo.index.source_files import MAX_FILE_BYTES

Prepare = Callable[[str, bytes, str], PreparedDocument]
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Plan:
    """What one document becomes: its new passages, and the passage ids it had when read."""

    document_id: int
    old_ids: frozenset[int]
    chunks: tuple[Chunk, ...]
    sha256: str | None  # the new content hash, when the original file was read again


def plan_documents(session: Session, prepare: Prepare, notice: Callable[[str], None]) -> list[Plan]:
    """New passages for every document (nothing is written)."""
    documents = session.execute(select(Document.id).order_by(Document.id)).scalars().all()
    plans = []
    for number, document_id in enumerate(documents, start=1):
        document = session.get(Document, document_id)
        if document is None:
            continue
        notice(f"Releyendo documentos: {number} de {len(documents)} («{document.title}»)…")
        passages = list(document.passages)
        chunks: tuple[Chunk, ...] | None = None
        sha256 = None
        if document.source is not None:
            try:
                prepared = prepare(document.source_name, _inflate(document.source), document.title)
                chunks, sha256 = prepared.chunks, prepared.sha256
            except DocumentError as exc:  # a stricter reader: keep what the document had
                notice(f"«{document.title}» no se pudo releer ({exc}); se conserva como estaba.")
        if chunks is None:
            chunks = tuple(chunk_text(_stored_text(passages)))
        if not chunks:
            chunks = tuple(Chunk(p.ordinal, p.paragraph, p.text, p.heading) for p in passages)
        plans.append(Plan(document_id, frozenset(p.id for p in passages), chunks, sha256))
    return plans


def _inflate(source: bytes) -> bytes:
    inflater = zlib.decompressobj()
    data = inflater.decompress(source, MAX_FILE_BYTES + 1)  # never more than a file may hold
    return data


def _stored_text(passages: Sequence[Passage]) -> str:
    """A document's text from its passages: pieces of one paragraph joined, paragraphs apart."""
    paragraphs: dict[int, list[str]] = defaultdict(list)
    for passage in sorted(passages, key=lambda p: p.ordinal):
        paragraphs[passage.paragraph].append(passage.text)
    return "\n\n".join(" ".join(pieces) for _, pieces in sorted(paragraphs.items()))


def apply_plan(
    session: Session,
    plan: Plan,
    vectors: dict[str, bytes],
    *,
    model_id: str,
) -> dict[int, int] | None:
    """Replace one document's passages as planned; None when it changed meanwhile (skipped).

    Returns removed passage id → the id of its successor (see `move_references`).
    """
    document = session.get(Document, plan.document_id)
    if document is None:
        return None
    old = list(document.passages)
    if frozenset(p.id for p in old) != plan.old_ids:
        return None
    for passage in old:  # out of the way of the (document, ordinal) unique constraint
        passage.ordinal = -1 - passage.ordinal
    session.flush()
    unclaimed: dict[str, list[Passage]] = defaultdict(list)
    for passage in old:
        unclaimed[passage.sha256].append(passage)
    kept: list[Passage] = []
    fresh: list[Passage] = []
    for chunk in plan.chunks:
        sha = storage.content_hash(chunk.text)
        vector = vectors[sha]
        same = unclaimed[sha]
        row = same.pop(0) if same else Passage(document_id=document.id, text=chunk.text, sha256=sha)
        row.ordinal, row.paragraph, row.heading = chunk.ordinal, chunk.paragraph, chunk.heading
        row.embedding, row.model_id = vector, model_id
        (kept if row.id is not None else fresh).append(row)
    session.add_all(fresh)
    session.flush()  # new ids now, above every old one
    gone = [p for rows in unclaimed.values() for p in rows]
    successors = {p.id: _successor(p.text, [*kept, *fresh]) for p in gone}
    for passage in gone:
        session.delete(passage)
    if plan.sha256 is not None and plan.sha256 != document.sha256:
        try:
            with session.begin_nested():
                document.sha256 = plan.sha256
        except IntegrityError:  # another document already has this content: keep the old hash
            pass
    session.flush()
    return {old: new for old, new in successors.items() if new is not None}


def _successor(text: str, candidates: Sequence[Passage]) -> int | None:
    words = set(_WORD.findall(text.lower()))
    if not words or not candidates:
        return None

    # A heading that was a passage of its own now lives in the `heading` of what it introduces.
    def shared(passage: Passage) -> int:
        return len(words & set(_WORD.findall(f"{passage.heading or ''} {passage.text}".lower())))

    best = max(candidates, key=shared)
    return best.id if shared(best) * 2 >= len(words) else None


def move_references(session: Session, moved: dict[int, int]) -> None:
    """Point logged answers and votes at the passages that replaced the ones they named."""
    if not moved:
        return
    for old, new in moved.items():
        session.execute(update(Feedback).where(Feedback.passage_id == old).values(passage_id=new))
        session.execute(
            update(QueryLog).where(QueryLog.top_passage_id == old).values(top_passage_id=new)
        )
    rows = session.execute(
        select(QueryLog.id, QueryLog.passage_ids).where(QueryLog.passage_ids != "")
    )
    for query_id, listed in rows.all():
        ids = [int(x) for x in listed.split(",") if x]
        if any(pid in moved for pid in ids):
            # A passage shown twice after the move is listed once, where it first appeared.
            renamed = list(dict.fromkeys(moved.get(pid, pid) for pid in ids))
            session.execute(
                update(QueryLog)
                .where(QueryLog.id == query_id)
                .values(passage_ids=",".join(map(str, renamed)))
            )
