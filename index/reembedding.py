"""Embedding the whole library again: after a model change, a second encoder enabled or
upgraded, or `rebuild` (index/rebuild.py plans what each document becomes).

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
        secondary: Embedder | None = None,
        batch_size: int = 32,
    ) -> None:
        self._sessions = sessions
        self._embedder = embedder
        self._prepare = prepare
        self._write_lock = write_lock
        self._secondary = secondary
        self._batch_size = batch_size

    def backfill_secondary(self, notice: Notice | None) -> None:
        """Give every passage a vector of the current second encoder (once enabled or upgraded)."""
        if self._secondary is None:
            return
        aux_id = self._secondary.model_id
        with guarded(self._sessions) as session:
            rows = session.execute(
                select(Passage.id, Passage.text).where(
                    (Passage.aux_model_id.is_(None)) | (Passage.aux_model_id != aux_id)
                )
            ).all()
        if not rows:
            return
        if notice:
            notice(f"Calculando {len(rows)} vectores del segundo modelo ({aux_id})…")
        vectors = self._secondary.embed_passages([r.text for r in rows])
        with self._write_lock, guarded(self._sessions) as session, session.begin():
            storage.lock_state(session)
            for row, vector in zip(rows, vectors, strict=True):
                passage = session.get(Passage, row.id)
                if passage is not None:
                    passage.aux_embedding = vector.tobytes()
                    passage.aux_model_id = aux_id
            storage.bump_version(session)

    def rebuild(self, *, progress: Progress | None = None, notice: Notice | None = None) -> int:
        """Re-read and re-chunk every document (`index.rebuild`), re-embed it all, swap at once.

        Reading and embedding happen before the transaction; the old index serves until then.
        """
        model_id = self._embedder.model_id
        aux_id = self._secondary.model_id if self._secondary else None
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
            secondary=self._secondary,
            progress=progress,
        )
        by_hash = {
            sha: (vectors.primary[i], vectors.secondary[i] if vectors.secondary else None)
            for i, (sha, _) in enumerate(texts)
        }
        with self._write_lock, guarded(self._sessions) as session, session.begin():
            state = storage.lock_state(session)
            moved: dict[int, int] = {}
            for plan in plans:
                moved.update(
                    apply_plan(session, plan, by_hash, model_id=model_id, aux_model_id=aux_id) or {}
                )
            move_references(session, moved)
            self._embed_stragglers(session)  # documents added or changed meanwhile
            state.model_id = model_id
            storage.bump_version(session)
            return storage.count_corpus(session)[1]

    def _embed_stragglers(self, session: Session) -> None:
        model_id = self._embedder.model_id
        aux_id = self._secondary.model_id if self._secondary else None
        stale = session.execute(
            select(Passage).where(
                (Passage.model_id != model_id)
                | (Passage.aux_model_id.is_(None) if aux_id else Passage.aux_model_id.isnot(None))
            )
        ).scalars()
        for passage in stale:
            late = embed_passages(
                self._embedder, [passage.text], batch_size=1, secondary=self._secondary
            )
            passage.embedding, passage.model_id = late.primary[0], model_id
            passage.aux_embedding = late.secondary[0] if late.secondary else None
            passage.aux_model_id = aux_id

    def reembed(self, *, progress: Progress | None = None) -> int:
        """Re-embed every passage with the current model; the old index serves until the swap."""
        model_id = self._embedder.model_id
        with guarded(self._sessions) as session:
            rows = session.execute(select(Passage.id, Passage.text).order_by(Passage.id)).all()
        vectors = embed_passages(
            self._embedder,
            [r.text for r in rows],
            batch_size=self._batch_size,
            secondary=self._secondary,
            progress=progress,
        )
        aux_id = self._secondary.model_id if self._secondary else None
        fresh = {r.id: i for i, r in enumerate(rows)}
        with self._write_lock, guarded(self._sessions) as session, session.begin():
            state = storage.lock_state(session)
            present = 0
            for passage in session.execute(select(Passage)).scalars():
                present += 1
                if passage.id in fresh:
                    passage.embedding = vectors.primary[fresh[passage.id]]
                    aux = vectors.secondary[fresh[passage.id]] if vectors.secondary else None
                else:  # added meanwhile by another process: embed it here, never mix models
                    late = embed_passages(
                        self._embedder, [passage.text], batch_size=1, secondary=self._secondary
                    )
                    passage.embedding = late.primary[0]
                    aux = late.secondary[0] if late.secondary else None
                passage.model_id = model_id
                passage.aux_embedding, passage.aux_model_id = aux, aux_id
            state.model_id = model_id
            storage.bump_version(session)
        return present


def writers(
    sessions: SessionFactory,
    embedder: Embedder,
    *,
    secondary: Embedder | None,
    batch_size: int,
    read_limits: ReadLimits | None,
    on_stored: OnStored | None,
) -> tuple[DocumentWriter, Reembedder]:
    """A document writer and a re-embedder that take turns on one lock."""
    write_lock = threading.Lock()
    writer = DocumentWriter(
        sessions,
        embedder,
        secondary=secondary,
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
        secondary=secondary,
        batch_size=batch_size,
    )
    return writer, reembedder
