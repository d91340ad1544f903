"""What the library holds: its documents, listed and looked up, and a passage in its place."""

from __future__ import annotations

from sqlalchemy import select

from acuerdo.index import storage
from acuerdo.index.db import SessionFactory, guarded
from acuerdo.index.errors import NotFoundError
from acuerdo.index.hits import DocumentInfo, Hit, PassageView
from acuerdo.index.models import Passage
from acuerdo.index.served_corpus import ServedCorpus


class Catalogue:
    """Read-only look-ups over the stored documents and the served passages."""

    def __init__(self, sessions: SessionFactory, served: ServedCorpus) -> None:
        self._sessions = sessions
        self._served = served

    def documents(self) -> list[DocumentInfo]:
        with guarded(self._sessions) as session:
            return storage.list_documents(session)

    def with_content(self, sha256: str) -> DocumentInfo | None:
        """The stored document whose text has this hash (`PreparedDocument.sha256`), if any."""
        with guarded(self._sessions) as session:
            found = storage.find_by_hash(session, sha256)
            return None if found is None else storage.document_info(session, found)

    def titled(self, title: str) -> list[DocumentInfo]:
        """Documents with this title (case-insensitive), to ask before adding a namesake."""
        with guarded(self._sessions) as session:
            return [
                storage.document_info(session, d) for d in storage.find_by_title(session, title)
            ]

    def passage(self, passage_id: int) -> PassageView:
        """One passage with the ids of its neighbours in the same document."""
        corpus = self._served.get()
        if passage_id not in corpus.records:
            raise NotFoundError("Ese pasaje no existe o fue retirado.")
        record = corpus.records[passage_id]
        with guarded(self._sessions) as session:
            rows = session.execute(
                select(Passage.ordinal, Passage.id).where(
                    Passage.document_id == record.document_id,
                    Passage.ordinal.in_([record.ordinal - 1, record.ordinal + 1]),
                )
            ).all()
        neighbours = {ordinal: pid for ordinal, pid in rows}
        return PassageView(
            hit=Hit.of_passage(record),
            previous_id=neighbours.get(record.ordinal - 1),
            next_id=neighbours.get(record.ordinal + 1),
        )
