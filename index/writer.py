"""Changing the documents: add, replace, remove, re-embed. Each change is one transaction.

Embedding happens before the transaction, so a process killed while embedding leaves nothing
behind; every change bumps the index version, which is how every replica learns of it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from index import storage
from index.db import SessionFactory, guarded
from index.embedding import Embedder
from index.errors import ModelError, NotFoundError
from index.hits import AddResult, DocumentInfo
from index.ingest import PreparedDocument, Progress, embed_passages, prepare_document
from index.loaders import SUPPORTED_EXTENSIONS
from index.models import Document, Passage
from index.rebuild import apply_plan, move_references, plan_documents
from index.sandbox import ReadLimits
from index.source_files import check_size, read_source

Notice = Callable[[str], None]
"""Receives short status lines (e.g. for the CLI's stderr)."""

OnStored = Callable[[Session, Document, list[int]], int]
"""Called inside the transaction storing a document with the ids of its passages whose text is
new to the library; returns how many notifications it queued (index/follow_matching.py)."""


class DocumentWriter:
    """Writes documents, passages and their vectors; readers pick changes up by version."""

    def __init__(
        self,
        sessions: SessionFactory,
        embedder: Embedder,
        *,
        secondary: Embedder | None = None,
        batch_size: int = 32,
        read_limits: ReadLimits | None = None,
        on_stored: OnStored | None = None,
    ) -> None:
        self._on_stored = on_stored
        self._read_limits = read_limits or ReadLimits()
        self._sessions = sessions
        self._embedder = embedder
        self._secondary = secondary
        self._batch_size = batch_size
        # Within a process writers take turns here; across processes the state row's lock does.
        self._write_lock = threading.Lock()

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

    def seed(self, seeds_dir: Path | None, notice: Notice | None) -> None:
        """Index the seed documents, then remember it: removed seeds never come back.

        The flag is set only after the documents are in, so a crash mid-way seeds again on the
        next start; replicas seeding together are harmless (identical content is added once).
        """
        for path, title in seed_files(seeds_dir):
            if notice:
                notice(f"Indexando el documento inicial «{title or path.name}»…")
            self.add_document(path.name, path.read_bytes(), title=title)
        with guarded(self._sessions) as session, session.begin():
            storage.lock_state(session).seeded = True

    def add_document(
        self,
        name: str,
        data: bytes,
        *,
        title: str | None = None,
        replace_id: int | None = None,
        progress: Progress | None = None,
    ) -> AddResult:
        """Read, chunk, embed (new passages only) and store a document in one transaction."""
        prepared = self.prepare(name, data, title=title)
        return self.add_prepared(prepared, replace_id=replace_id, progress=progress)

    def add_prepared(
        self,
        prepared: PreparedDocument,
        *,
        replace_id: int | None = None,
        progress: Progress | None = None,
    ) -> AddResult:
        """Embed (new passages only) and store a document `prepare` has read, in one transaction."""
        model_id = self._embedder.model_id
        with guarded(self._sessions) as session:
            existing = storage.find_by_hash(session, prepared.sha256)
            if existing is not None:
                return AddResult(storage.document_info(session, existing), created=False)
            hashes = [storage.content_hash(c.text) for c in prepared.chunks]
            known = storage.stored_embeddings(session, hashes, model_id)
            aux_id = self._secondary.model_id if self._secondary else None
            known_aux = storage.stored_secondary(session, hashes, aux_id)
        texts = [c.text for c in prepared.chunks]
        vectors = embed_passages(
            self._embedder,
            texts,
            batch_size=self._batch_size,
            secondary=self._secondary,
            known=known,
            known_secondary=known_aux,
            progress=progress,
        )
        with self._write_lock:
            try:
                with guarded(self._sessions) as session, session.begin():
                    state = storage.lock_state(session)
                    if state.model_id != model_id:
                        raise ModelError(
                            f"El índice usa ahora el modelo «{state.model_id}» y este proceso "
                            f"calcula vectores con «{model_id}»: no he cambiado nada. Reinicie "
                            "este proceso con el mismo ACUERDO_EMBEDDING_MODEL y vuelva a "
                            "enviar el documento."
                        )
                    known_texts = storage.present_hashes(session, hashes)
                    document = storage.insert_document(
                        session,
                        title=prepared.title,
                        source_name=prepared.source_name,
                        sha256=prepared.sha256,
                        chunks=prepared.chunks,
                        embeddings=vectors.primary,
                        model_id=model_id,
                        secondary=vectors.secondary,
                        secondary_model_id=aux_id,
                        source=prepared.source,
                    )
                    if replace_id is not None:
                        storage.delete_document(session, replace_id)
                    notifications = 0
                    if self._on_stored is not None:
                        session.flush()
                        fresh = [p.id for p in document.passages if p.sha256 not in known_texts]
                        notifications = self._on_stored(session, document, fresh)
                    storage.bump_version(session)
                    info = storage.document_info(session, document)
            except IntegrityError:
                # Someone added identical content between our check and our commit.
                with guarded(self._sessions) as session:
                    existing = storage.find_by_hash(session, prepared.sha256)
                    if existing is None:
                        raise
                    return AddResult(storage.document_info(session, existing), created=False)
        return AddResult(
            info, created=True, reused_embeddings=len(known), notifications=notifications
        )

    def prepare(self, name: str, data: bytes, *, title: str | None = None) -> PreparedDocument:
        """Read and chunk a file within the configured limits (nothing is stored)."""
        check_size(len(data))
        return prepare_document(name, data, title=title, limits=self._read_limits)

    def prepare_path(self, path: Path, *, title: str | None = None) -> PreparedDocument:
        """`prepare` for a file on disk, read within the size and time limits."""
        data = read_source(path, timeout=self._read_limits.timeout_seconds)
        # A file name need not be UTF-8 (it arrives surrogate-escaped); the stored name must be.
        name = path.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return self.prepare(name, data, title=title)

    def remove_document(
        self, document_id: int, *, sha256_prefix: str | None = None
    ) -> DocumentInfo:
        """Delete a document with its passages and vectors; with `sha256_prefix`, only if its
        content hash still starts so (a confirmation asked earlier never removes another)."""
        with self._write_lock, guarded(self._sessions) as session, session.begin():
            storage.lock_state(session)
            document = session.get(Document, document_id)
            if document is None:
                raise NotFoundError(f"No existe ningún documento con id {document_id}.")
            if sha256_prefix is not None and not document.sha256.startswith(sha256_prefix):
                raise NotFoundError(
                    f"El documento {document_id} ya no es el de esta confirmación (se retiró o "
                    "se reemplazó): no he borrado nada. Consulte /documentos."
                )
            info = storage.document_info(session, document)
            storage.delete_document(session, document_id)
            storage.bump_version(session)
        return info

    def rebuild(self, *, progress: Progress | None = None, notice: Notice | None = None) -> int:
        """Re-read and re-chunk every document (`index.rebuild`), re-embed it all, swap at once.

        Reading and embedding happen before the transaction; the old index serves until then.
        """
        model_id = self._embedder.model_id
        aux_id = self._secondary.model_id if self._secondary else None
        with guarded(self._sessions) as session:
            plans = plan_documents(
                session,
                lambda name, data, title: self.prepare(name, data, title=title),
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


def seed_files(seeds_dir: Path | None) -> list[tuple[Path, str | None]]:
    """Seed documents with their titles from `manifest.json`, or every supported file."""
    if seeds_dir is None or not seeds_dir.is_dir():
        return []
    manifest = seeds_dir / "manifest.json"
    if manifest.is_file():
        entries = json.loads(manifest.read_text(encoding="utf-8"))
        return [(seeds_dir / e["file"], e.get("title")) for e in entries]
    return [
        (p, None)
        for p in sorted(seeds_dir.iterdir())
        if p.suffix.lower() in SUPPORTED_EXTENSIONS and p.is_file()
    ]
