"""Embedding the whole library again: after a model change, or `rebuild` (index/rebuild.py plans
what each document becomes).

Reading and embedding happen before the transaction, so the old index serves until one swap;
writers take turns with `DocumentWriter` on the same lock, and anything added meanwhile by another
process is embedded inside the swap, so models are never mixed.
"""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from acuerdo.index import storage
from acuerdo.index.db import SessionFactory, guarded
from acuerdo.index.embedding import Embedder
from acuerdo.index.ingest import Progress, embed_passages
from acuerdo.index.models import Passage
from acuerdo.index.rebuild import Prepare, apply_plan, move_references, plan_documents
from acuerdo.index.sandbox import ReadLimits
from acuerdo.index.writer import DocumentWriter, Notice, OnStored


class Reembedder:
    """Re-embeds every passage (and re-reads every document for `rebuild`) in one swap."""

    def __init__(
        self,
        sessions: SessionFactory,
        embedder: Embedder,
        *,
        prepare: Prepare,
        write_lock: threading.Lock,
        batch_size: int = 32,
    ) -> None:
        self._sessions = sessions
        self._embedder = embedder
        self._prepare = prepare
        self._write_lock = write_lock
        self._batch_size = batch_size

    def rebuild(self, *, progress: Progress | None = None, notice: Notice | None = None) -> int:
        """Re-read and re-chunk every document (`index.rebuild`), re-embed it all, swap at once.

        Reading and embedding happen before the transaction; the old index serves until then.
        """
        model_id = self._embedder.model_id
        with guarded(self._sessions) as session:
            plans = plan_documents(
                session,
                self._prepare,
                notice or (lambda _: None),
            )
        texts = list(
            {storage.content_hash(c.text): c.text for p in plans for c in p.chunks}.items()
        )
        vectors = embed_passages(
            self._embedder,
            [text for _, text in texts],
            batch_size=self._batch_size,
            progress=progress,
        )
        by_hash = {sha: vectors[i] for i, (sha, _) in enumerate(texts)}
        with self._write_lock, guarded(self._sessions) as session, session.begin():
            state = storage.lock_state(session)
            moved: dict[int, int] = {}
            for plan in plans:
                moved.update(apply_plan(session, plan, by_hash, model_id=model_id) or {})
            move_references(session, moved)
            self._embed_stragglers(session)  # documents added or changed meanwhile
            state.model_id = model_id
            storage.bump_version(session)
            return storage.count_corpus(session)[1]

    def _embed_stragglers(self, session: Session) -> None:
        model_id = self._embedder.model_id
        stale = session.execute(select(Passage).where(Passage.model_id != model_id)).scalars()
        for passage in stale:
            self._embed_one(passage)

    def _embed_one(self, passage: Passage) -> None:
        """One passage added meanwhile by another process, embedded inside the swap: never mix
        models."""
        late = embed_passages(self._embedder, [passage.text], batch_size=1)
        passage.embedding, passage.model_id = late[0], self._embedder.model_id

    def reembed(self, *, progress: Progress | None = None) -> int:
        """Re-embed every passage with the current model; the old index serves until the swap."""
        model_id = self._embedder.model_id
        with guarded(self._sessions) as session:
            rows = session.execute(select(Passage.id, Passage.text).order_by(Passage.id)).all()
        vectors = embed_passages(
            self._embedder,
            [r.text for r in rows],
            batch_size=self._batch_size,
            progress=progress,
        )
        fresh = {r.id: i for i, r in enumerate(rows)}
        with self._write_lock, guarded(self._sessions) as session, session.begin():
            state = storage.lock_state(session)
            present = 0
            for passage in session.execute(select(Passage)).scalars():
                present += 1
                if passage.id in fresh:
                    passage.embedding, passage.model_id = vectors[fresh[passage.id]], model_id
                else:
                    self._embed_one(passage)
            state.model_id = model_id
            storage.bump_version(session)
        return present


def writers(
    sessions: SessionFactory,
    embedder: Embedder,
    *,
    batch_size: int,
    read_limits: ReadLimits | None,
    on_stored: OnStored | None,
) -> tuple[DocumentWriter, Reembedder]:
    """A document writer and a re-embedder that take turns on one lock."""
    write_lock = threading.Lock()
    writer = DocumentWriter(
        sessions,
        embedder,
        batch_size=batch_size,
        read_limits=read_limits,
        on_stored=on_stored,
        write_lock=write_lock,
    )
    reembedder = Reembedder(
        sessions,
        embedder,
        prepare=lambda name, data, title: writer.prepare(name, data, title=title),
        write_lock=write_lock,
        batch_size=batch_size,
    )
    return writer, reembedder
