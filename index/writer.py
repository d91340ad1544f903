"""Changing the documents: seed, add, replace, remove. Each change is one transaction.

Embedding happens before the transaction, so a process killed while embedding leaves nothing
behind; every change bumps the index version, which is how every replica learns of it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from acuerdo.index import storage
from acuerdo.index.db import SessionFactory, guarded
from acuerdo.index.embedding import Embedder
from acuerdo.index.errors import ModelError, NotFoundError
from acuerdo.index.hits import AddResult, DocumentInfo
from acuerdo.index.ingest import PreparedDocument, Progress, embed_passages, prepare_document
from acuerdo.index.models import Document
from acuerdo.index.sandbox import ReadLimits
from acuerdo.index.source_files import check_size, read_source

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
        batch_size: int = 32,
        read_limits: ReadLimits | None = None,
        on_stored: OnStored | None = None,
        write_lock: threading.Lock | None = None,
    ) -> None:
        self._on_stored = on_stored
        self._read_limits = read_limits or ReadLimits()
        self._sessions = sessions
        self._embedder = embedder
        self._batch_size = batch_size
        # Within a process writers take turns here (shared with `Reembedder`); across processes
        # the state row's lock does.
        self._write_lock = threading.Lock() if write_lock is None else write_lock

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
        texts = [c.text for c in prepared.chunks]
        vectors = embed_passages(
            self._embedder,
            texts,
            batch_size=self._batch_size,
            known=known,
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
                        embeddings=vectors,
                        model_id=model_id,
                        source=prepared.source,
                    )
                    replaced = replace_id is not None and storage.delete_document(
                        session, replace_id
                    )
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
            info,
            created=True,
            reused_embeddings=len(known),
            notifications=notifications,
            replaced=replace_id if replaced else None,
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
