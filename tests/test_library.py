"""The service on SQLite and PostgreSQL with a fake embedder: ingestion, removal, logs, rebuilds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from acuerdo.index import (
    EmptyDocumentError,
    EmptyQuestionError,
    EncodingError,
    Library,
    NotFoundError,
    StorageError,
)
from acuerdo.index.models import Document, Passage, QueryLog
from acuerdo.index.pseudonyms import load_pseudonyms
from tests.conftest import HashingEmbedder

# Three paragraphs that each stand alone (at least eight words: shorter ones join a neighbour).
DOC = (
    "Primer párrafo sobre el robo de combustible en los ductos del norte.\n\n"
    "Segundo párrafo: la reunión fue cordial y duró más de dos horas.\n\n"
    "Tercer párrafo: el informe final se publicará el próximo mes."
)


def _count(library: Library, model: type) -> int:
    with library.sessions() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_seed_is_indexed_once_with_its_title(library: Library) -> None:
    documents = library.documents()
    assert len(documents) == 1
    assert documents[0].title.startswith("Comunicado conjunto")
    assert documents[0].passages == 13
    assert documents[0].first_passage_id is not None


def test_removed_seed_does_not_come_back(
    library: Library, database_url: str, settings_for, fake_embedder
) -> None:  # type: ignore[no-untyped-def]
    library.remove_document(library.documents()[0].id)
    reopened = Library.open(settings_for(DATABASE_URL=database_url), embedder=fake_embedder)
    assert reopened.documents() == []


def test_add_is_transactional_idempotent_and_searchable(library: Library) -> None:
    result = library.add_document("nota.txt", DOC.encode(), title="Nota")
    assert result.created and result.document.passages == 3
    again = library.add_document("otra.txt", DOC.encode(), title="Otra")
    assert not again.created and again.document.id == result.document.id
    assert len(library.documents()) == 2
    answer = library.ask("robo de combustible", k=3)
    assert any(h.document_title == "Nota" for h in answer.hits)
    with library.sessions() as session:
        texts = (
            session.execute(
                select(Passage.text)
                .where(Passage.document_id == result.document.id)
                .order_by(Passage.ordinal)
            )
            .scalars()
            .all()
        )
    assert texts == [p for p in DOC.split("\n\n")]


def test_identical_passages_are_not_embedded_twice(
    library: Library, fake_embedder: HashingEmbedder
) -> None:
    library.add_document("a.txt", DOC.encode())
    before = fake_embedder.embedded
    result = library.add_document(
        "b.txt",
        (DOC + "\n\nUn párrafo nuevo que también trata de otros asuntos pendientes.").encode(),
    )
    assert result.reused_embeddings == 3
    assert fake_embedder.embedded - before == 1


def test_bad_documents_change_nothing(library: Library) -> None:
    docs, passages = _count(library, Document), _count(library, Passage)
    with pytest.raises(EncodingError):
        library.add_document("x.txt", "año".encode("latin-1"))
    with pytest.raises(EmptyDocumentError):
        library.add_document("x.txt", b"   \n\n  ")
    assert (_count(library, Document), _count(library, Passage)) == (docs, passages)


def test_failure_while_embedding_leaves_no_partial_document(  # type: ignore[no-untyped-def]
    database_url, settings_for, fake_embedder, monkeypatch
) -> None:
    # One passage per batch, so the engine dies with part of the document already embedded.
    library = Library.open(
        settings_for(DATABASE_URL=database_url, ACUERDO_EMBED_BATCH=1), embedder=fake_embedder
    )
    try:
        _fails_mid_document(library, monkeypatch)
    finally:
        library.close()


def _fails_mid_document(library: Library, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls = {"n": 0}
    original = library.embedder.embed_passages

    def flaky(texts):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("engine died")
        return original(texts)

    monkeypatch.setattr(library.embedder, "embed_passages", flaky)
    docs, passages = _count(library, Document), _count(library, Passage)
    with pytest.raises(RuntimeError):
        library.add_document("nuevo.txt", DOC.encode())
    assert (_count(library, Document), _count(library, Passage)) == (docs, passages)


def test_remove_deletes_passages_and_search_forgets_them(library: Library) -> None:
    added = library.add_document("nota.txt", DOC.encode(), title="Nota").document
    library.remove_document(added.id)
    assert all(h.document_id != added.id for h in library.ask("robo de combustible", k=20).hits)
    with library.sessions() as session:
        assert (
            session.execute(
                select(func.count()).where(Passage.document_id == added.id)
            ).scalar_one()
            == 0
        )
    with pytest.raises(NotFoundError):
        library.remove_document(added.id)


def test_replace_swaps_documents_in_one_step(library: Library) -> None:
    old = library.add_document("nota.txt", DOC.encode(), title="Nota").document
    new = library.add_document(
        "nota.txt",
        (DOC + "\n\nAñadido después: un cuarto párrafo sobre las aduanas del puerto.").encode(),
        title="Nota",
        replace_id=old.id,
    )
    titles = [(d.id, d.title) for d in library.documents()]
    assert (new.document.id, "Nota") in titles and (old.id, "Nota") not in titles
    assert [d.id for d in library.documents_titled("  nota ")] == [new.document.id]


def test_questions_are_logged_and_replayable(library: Library, tmp_path: Path) -> None:
    answer = library.ask("  ¿Qué dijeron   sobre el fentanilo? ", user_id=42, channel="telegram")
    assert answer.question == "¿Qué dijeron sobre el fentanilo?"
    assert answer.query_id is not None
    replay = library.replay(answer.query_id, user_id=42)
    assert [h.passage_id for h in replay.hits] == [h.passage_id for h in answer.hits]
    # A pseudonym under the data dir's key (tests/test_pseudonyms.py), not the id.
    expected = load_pseudonyms(library.sessions, tmp_path / "data", None).user(42)
    with library.sessions() as session:
        entry = session.get(QueryLog, answer.query_id)
        assert entry is not None and entry.user_hash == expected != "42"
        assert entry.channel == "telegram" and entry.latency_ms >= 0
    with pytest.raises(EmptyQuestionError):
        library.ask("   ")
    with pytest.raises(NotFoundError):
        library.replay(999_999, user_id=42)
    with pytest.raises(NotFoundError):  # somebody else's answer looks exactly like no answer
        library.replay(answer.query_id, user_id=43)
    with pytest.raises(NotFoundError):  # the same person, in another chat
        library.replay(answer.query_id, user_id=42, chat_id=-100)


@pytest.mark.parametrize(
    "pasted",
    [
        "¿Qué dijeron sobre el fenta\x00nilo?",  # a NUL inside a word
        "\x1b[31m¿Qué dijeron sobre el \x1b[1;4mfentanilo\x1b[0m?",  # colours from a terminal
        "\x1b]0;ventana\x07¿Qué dijeron\tsobre el fentanilo?\x7f",  # a window title, a DEL
    ],
)
def test_questions_lose_control_characters_and_escape_sequences(
    library: Library, pasted: str
) -> None:
    """Pasted from a terminal, a question is still the words a person typed."""
    clean = library.ask("¿Qué dijeron sobre el fentanilo?", user_id=7)
    answer = library.ask(pasted, user_id=7)
    assert answer.question == "¿Qué dijeron sobre el fentanilo?"
    assert [h.passage_id for h in answer.hits] == [h.passage_id for h in clean.hits]
    assert answer.confidence == clean.confidence


def test_feedback_and_stats(library: Library) -> None:
    answered = library.ask("robo de combustible", user_id=1)
    other = library.ask("robo de combustible", user_id=2)
    shown = answered.hits[0].passage_id
    # A passage is rated only if the answer showed it (not when it found nothing).
    rated = library.feedback(answered.query_id or 0, user_id=1, helpful=True, passage_id=shown)
    assert rated is answered.shows_passage
    assert library.feedback(answered.query_id or 0, user_id=1, helpful=False)  # vote replaced
    assert library.feedback(other.query_id or 0, user_id=2, helpful=True)
    assert not library.feedback(answered.query_id or 0, user_id=2, helpful=True)  # not theirs
    assert not library.feedback(answered.query_id or 0, user_id=1, helpful=True, passage_id=-5)
    assert not library.feedback(999_999, user_id=1, helpful=True)
    library.ask("eval question", channel="eval")
    stats = library.stats()
    assert stats.questions == 2
    assert (stats.helpful, stats.not_helpful) == (1, 1)
    assert stats.documents == 1 and stats.passages == 13


def test_passage_view_has_neighbours(library: Library) -> None:
    first = library.documents()[0].first_passage_id
    assert first is not None
    view = library.passage(first)
    assert view.previous_id is None and view.next_id is not None
    middle = library.passage(view.next_id)
    assert middle.previous_id == first
    with pytest.raises(NotFoundError):
        library.passage(123456)


def test_model_change_reembeds_everything(database_url: str, settings_for) -> None:  # type: ignore[no-untyped-def]
    first = Library.open(
        settings_for(DATABASE_URL=database_url), embedder=HashingEmbedder(32, "m/a")
    )
    other = HashingEmbedder(48, "m/b")
    second = Library.open(settings_for(DATABASE_URL=database_url), embedder=other)
    with second.sessions() as session:
        models = set(session.execute(select(Passage.model_id)).scalars())
        sizes = {len(b) for b in session.execute(select(Passage.embedding)).scalars()}
    assert models == {"m/b"} and sizes == {48 * 4}
    assert other.embedded >= 13
    assert len(second.ask("fentanilo").hits) > 0
    second.close()
    del first


def test_index_file_is_reused_and_rebuilt_when_corrupt(
    library: Library, database_url: str, settings_for, fake_embedder
) -> None:  # type: ignore[no-untyped-def]
    path = library.vector_file
    assert path.exists()
    path.write_bytes(b"corrupt")
    embedded = fake_embedder.embedded
    reopened = Library.open(settings_for(DATABASE_URL=database_url), embedder=fake_embedder)
    assert fake_embedder.embedded == embedded  # rebuilt from stored vectors, no re-embedding
    assert len(reopened.ask("fentanilo").hits) > 0
    assert path.read_bytes() != b"corrupt"
    assert len(reopened.corpus().vectors) == 13
    reopened.close()


def test_other_process_changes_are_picked_up_by_refresh(
    library: Library, database_url: str, settings_for, fake_embedder
) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(
        DATABASE_URL=database_url, ACUERDO_DATA_DIR=Path(library.vector_file).parent / "other"
    )
    other = Library.open(settings, embedder=fake_embedder)
    other.add_document("nota.txt", DOC.encode(), title="Nota")
    assert library.refresh()
    assert any(h.document_title == "Nota" for h in library.ask("robo de combustible", k=3).hits)
    assert not library.refresh()
    other.close()


def test_unreachable_database_is_one_clear_error(settings_for) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/test")
    with pytest.raises(StorageError) as info:
        Library.open(settings, embedder=HashingEmbedder())
    assert "base de datos" in str(info.value)


def test_incremental_refresh_equals_a_full_reload(library: Library, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import acuerdo.index.served_corpus as served_module
    from acuerdo.index.corpus import load_corpus

    full_loads = []
    real = served_module.load_corpus
    monkeypatch.setattr(
        served_module, "load_corpus", lambda *a, **k: full_loads.append(1) or real(*a, **k)
    )
    seed = library.documents()[0]
    added = library.add_document("nota.txt", DOC.encode(), title="Nota").document
    library.remove_document(seed.id)
    library.add_document("otra.txt", b"Aduanas del norte.\n\nPuertos del sur.", title="Otra")
    assert full_loads == []  # every change was applied incrementally
    incremental = library.corpus()
    with library.sessions() as session:
        full = load_corpus(session, dim=library.embedder.dim)
    assert incremental.version == full.version
    assert incremental.records == full.records
    assert incremental.previous == full.previous
    for question in ("robo de combustible", "aduanas", "reunión cordial", "fentanilo"):
        query = library.embedder.embed_queries([question])[0]
        assert (
            incremental.vectors.search(query, 10)[0].tolist()
            == full.vectors.search(query, 10)[0].tolist()
        )
        got, scores = incremental.lexical.search(question, 10)
        want, want_scores = full.lexical.search(question, 10)
        assert got.tolist() == want.tolist() and np.allclose(scores, want_scores)
    assert added.id in {r.document_id for r in incremental.records.values()}


def test_index_files_follow_incremental_changes(
    library: Library, database_url: str, settings_for, fake_embedder
) -> None:  # type: ignore[no-untyped-def]
    library.add_document("nota.txt", DOC.encode(), title="Nota")
    library.wait_for_files()
    notices: list[str] = []
    reopened = Library.open(
        settings_for(DATABASE_URL=database_url),
        embedder=fake_embedder,
        notice=notices.append,
    )
    assert not any("índice vectorial" in n for n in notices)  # the files matched the database
    assert len(reopened.corpus()) == 16
