"""`index rebuild`: every document read again with today's readers and chunking, nothing lost."""

from __future__ import annotations

from sqlalchemy import select, update

from acuerdo.index import Library
from acuerdo.index.models import Document, Feedback, Passage, QueryLog
from acuerdo.index.storage import content_hash

GUIDE = (
    "# Guía del programa\n\n"
    "## Requisitos\n\n"
    "Para inscribirse en el programa de becas binacionales hace falta lo siguiente:\n"
    "- un pasaporte vigente expedido por México o por Estados Unidos\n"
    "- una carta de la universidad de origen que acepte el intercambio\n\n"
    "…\n\n"
    "## Plazos\n\n"
    "Las solicitudes para las becas binacionales se reciben hasta el 30 de marzo de 2026.\n"
)
# What the readers before issue 15 made of GUIDE: one passage per blank-line paragraph.
OLD_PASSAGES = [
    "Guía del programa",
    "Requisitos",
    "Para inscribirse en el programa de becas binacionales hace falta lo siguiente:",
    "- un pasaporte vigente expedido por México o por Estados Unidos\n"
    "- una carta de la universidad de origen que acepte el intercambio",
    "…",
    "Plazos",
    "Las solicitudes para las becas binacionales se reciben hasta el 30 de marzo de 2026.",
]


def _passages(library: Library, document_id: int) -> list[tuple[int, str, str | None]]:
    with library.sessions() as session:
        rows = session.execute(
            select(Passage.id, Passage.text, Passage.heading)
            .where(Passage.document_id == document_id)
            .order_by(Passage.ordinal)
        ).all()
    return [(row.id, row.text, row.heading) for row in rows]


def test_a_document_without_its_file_is_recut_from_its_passages(library: Library) -> None:
    added = library.add_document("guía.md", GUIDE.encode(), title="Guía").document
    with library.sessions() as session, session.begin():
        # Make it look like a document of an older release: no file kept, old passages.
        session.execute(update(Document).where(Document.id == added.id).values(source=None))
        session.execute(
            update(Passage).where(Passage.document_id == added.id).values(ordinal=-Passage.id)
        )
        old = [p for p in session.execute(select(Passage)).scalars() if p.document_id == added.id]
        for passage in old:
            session.delete(passage)
        session.flush()
        for ordinal, text in enumerate(OLD_PASSAGES):
            session.add(
                Passage(
                    document_id=added.id,
                    ordinal=ordinal,
                    paragraph=ordinal + 1,
                    text=text,
                    sha256=content_hash(text),
                    embedding=library.embedder.embed_passages([text])[0].tobytes(),
                    model_id=library.embedder.model_id,
                )
            )
    library.refresh(force=True)
    before = _passages(library, added.id)
    lone_heading, deadline = before[1][0], before[6][0]
    answer = library.ask("¿requisitos?", k=3, user_id=5)
    library.flush_log()
    with library.sessions() as session, session.begin():
        session.execute(
            update(QueryLog)
            .where(QueryLog.id == answer.query_id)
            .values(top_passage_id=lone_heading, passage_ids=f"{lone_heading},{deadline}")
        )
    # Only the asker rates, and only a passage the answer showed.
    assert library.feedback(answer.query_id or 0, user_id=5, helpful=True, passage_id=lone_heading)
    questions_before = library.stats().questions
    notices: list[str] = []

    count = library.rebuild(notice=notices.append)

    after = _passages(library, added.id)
    texts = [text for _, text, _ in after]
    assert "Requisitos" not in texts and "Plazos" not in texts and "…" not in texts
    assert texts[0].startswith("Para inscribirse") and "- un pasaporte" in texts[0]
    # Plain text does not say how headings nest: each guessed one stands alone.
    assert after[0][2] == "Requisitos"
    assert after[-1] == (deadline, OLD_PASSAGES[-1], "Plazos")  # the same row, the same id
    assert count == library.stats().passages
    assert library.stats().questions == questions_before  # the query log is all there
    with library.sessions() as session:
        vote = session.execute(select(Feedback)).scalar_one()
        logged = session.get(QueryLog, answer.query_id)
        assert logged is not None
        assert vote.passage_id == after[0][0]  # the passage the heading now introduces
        assert logged.top_passage_id == after[0][0]
        assert logged.passage_ids == f"{after[0][0]},{deadline}"
    assert any("Releyendo documentos: " in n for n in notices)
    replay = library.replay(answer.query_id or 0, user_id=5)
    assert [h.passage_id for h in replay.hits] == [after[0][0], deadline]
    assert replay.hits[0].heading == "Requisitos"


def test_a_kept_file_is_read_again_and_unchanged_passages_keep_their_ids(
    library: Library,
) -> None:
    added = library.add_document("guía.md", GUIDE.encode(), title="Guía").document
    seed_before = _passages(library, 1)
    before = _passages(library, added.id)
    version = library.corpus().version
    library.rebuild()
    assert _passages(library, added.id) == before
    assert _passages(library, 1) == seed_before
    assert library.corpus().version > version
    hit = library.ask("¿Hasta cuándo se reciben las solicitudes de becas?").hits[0]
    assert hit.heading == "Guía del programa › Plazos"
    again = library.add_document("guía.md", GUIDE.encode(), title="Guía")
    assert not again.created  # the stored hash is today's: the same file is recognised
