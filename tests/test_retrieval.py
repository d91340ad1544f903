"""Ranking and abstention: rules on a small designed corpus, quality on the real models."""

from __future__ import annotations

from pathlib import Path

import pytest

from index import Library
from index.evaluation import evaluate
from tests.conftest import SHARED, HashingEmbedder

LEAD_IN_DOC = (
    "La ministra Ana Pérez visitó el puerto del Callao y habló con la prensa local.\n\n"
    "Después la ministra llegó a Lima para una visita oficial.\n\n"
    "A las 16:00 horas se reunirá con empresarios del sector pesquero."
)


@pytest.fixture
def lead_in_library(settings_for, tmp_path: Path) -> Library:  # type: ignore[no-untyped-def]
    empty = tmp_path / "no-seeds"
    empty.mkdir()
    library = Library.open(
        settings_for(ACUERDO_SEEDS_DIR=empty), embedder=HashingEmbedder(), secondary=None
    )
    library.add_document("visita.txt", LEAD_IN_DOC.encode(), title="Visita")
    return library


def test_a_passage_completed_by_its_lead_in_goes_first(lead_in_library: Library) -> None:
    answer = lead_in_library.ask("¿Qué hará la ministra por la tarde?")
    assert answer.hits[0].text.startswith("A las 16:00 horas")
    assert answer.answered


def test_lead_in_does_not_move_anything_when_the_top_passage_covers_the_question(
    lead_in_library: Library,
) -> None:
    answer = lead_in_library.ask("¿Qué dijo la ministra en el puerto del Callao?")
    assert "Callao" in answer.hits[0].text


def test_clock_times_match_parts_of_the_day(lead_in_library: Library) -> None:
    answer = lead_in_library.ask("reunión por la tarde")
    assert answer.hits[0].text.startswith("A las 16:00 horas")


def test_unrelated_question_is_not_answered(lead_in_library: Library) -> None:
    answer = lead_in_library.ask("receta de tacos al pastor")
    assert not answer.answered
    assert answer.hits  # results are still listed for the JSON output


@pytest.mark.slow
@pytest.mark.skipif(
    not (SHARED / "eval" / "dev_qa.jsonl").exists(), reason="shared eval set not present"
)
def test_dev_set_quality_with_the_shipped_models(seeded_e5_library: Library) -> None:
    report = evaluate(
        seeded_e5_library, SHARED / "eval" / "dev_qa.jsonl", SHARED / "eval" / "dev_keys.json"
    )
    assert report.recall_at(1) >= 0.90
    assert report.recall_at(3) >= 0.95
    assert all(not r.answered for r in report.out_of_scope)
    assert sum(r.answered for r in report.in_scope) >= 0.9 * len(report.in_scope)


@pytest.mark.slow
def test_best_sentence_is_the_one_sharing_the_question_terms(seeded_e5_library: Library) -> None:
    answer = seeded_e5_library.ask("¿Qué dijeron de los marcos legales?")
    hit = answer.hits[0]
    assert hit.highlighted_sentence.startswith("Todo dentro de nuestros respectivos marcos legales")
