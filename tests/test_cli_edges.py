"""Edges of `acuerdo ask`, `chat` and `stats` found by a hostile pass, run in process through
`bot.cli.main` on a copy of the seeded data dir (the real model loads once per process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acuerdo.bot.cli import main
from acuerdo.index import Library, Settings
from acuerdo.index.question_text import clean_question, names_only_a_topic

EMPTY = "La pregunta está vacía"


@pytest.fixture
def seeded(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """conftest's `seeded`, as the environment and working folder of this process."""
    tmp_path = seeded
    for name in ("ACUERDO_DATABASE_URL", "DATABASE_URL", "TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ACUERDO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("question", ["", "   ", "\x01", "\x1b[31m\x00"])
def test_a_question_with_nothing_to_ask_is_one_error_whatever_way_it_is_empty(
    seeded: Path, question: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", question]) == 1
    out, err = capsys.readouterr()
    assert out == "" and EMPTY in err
    assert main(["ask", "--json", question]) == 1
    out, err = capsys.readouterr()
    record = json.loads(out)
    assert EMPTY in record["error"] and record["results"] == [] and not record["answered"]


def test_blank_and_control_only_lines_in_a_batch_get_the_same_empty_object(
    seeded: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("\n\x01\nfentanilo\n"))
    assert main(["ask", "--json", "-"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["results"] == [] and "error" not in r for r in records] == [True, True, False]
    assert "fentanilo" in records[2]["results"][0]["text"]


@pytest.mark.parametrize("farewell", ["salir", "/salir", "Salir.", "/quit"])
def test_chat_ends_on_a_farewell_with_or_without_a_slash(
    seeded: Path, farewell: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(f"{farewell}\nfentanilo\n"))
    assert main(["chat"]) == 0
    out = capsys.readouterr().out
    assert "fentanilo" not in out.lower(), "the chat went on after the farewell"


def test_stats_shows_a_pasted_wall_of_text_as_a_short_preview(
    seeded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(_env_file=None, ACUERDO_DATA_DIR=seeded / "data")  # type: ignore[call-arg]
    library = Library.open(settings)
    wall = "¿cuántos kilómetros de vías férreas tiene Mongolia? " * 2_400
    library.ask(wall)
    library.ask("¿qué opina del tipo de cambio del yen?")
    library.close()
    assert main(["stats"]) == 0
    out = capsys.readouterr().out
    assert len(out) < 3_000
    assert "yen" in out, "a short unanswered question is hidden by a long one"
    assert "Mongolia" in out and "…" in out


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("fenta\x00nilo", "fentanilo"),
        ("fenta\u200bnilo", "fentanilo"),
        ("\x1b[31mfentanilo\x1b[0m", "fentanilo"),
        ("\x1b]0;título\x07armas", "armas"),
        ("tráfico\tde\narmas", "tráfico de armas"),
        ("\ufeff¿qué dijeron?", "¿qué dijeron?"),
        # Bidi marks from right-to-left pages: inside a word they split it.
        ("fenta\u200enilo", "fentanilo"),
        ("\u202e¿qué dijeron?\u202c", "¿qué dijeron?"),
        ("\u2067armas\u2069\u200f\u061c", "armas"),
    ],
)
def test_what_a_keyboard_or_terminal_slips_into_a_question_is_dropped(
    typed: str, meant: str
) -> None:
    assert clean_question(typed) == meant


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("México", True),
        ("2025", True),
        ("robo de gasolina", True),
        ("¿fentanilo?", False),
        ("¿Hubo conferencia de prensa?", False),
        ("qué dijeron del fentanilo", False),
    ],
)
def test_up_to_three_words_without_a_question_mark_name_a_topic(text: str, topic: bool) -> None:
    assert names_only_a_topic(text) is topic


def test_a_keyword_is_offered_as_the_closest_passage_never_as_the_answer(
    seeded: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    questions = ["2025", "Estados Unidos", "¿Hubo conferencia de prensa?"]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(questions) + "\n"))
    assert main(["ask", "--json", "-"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["answered"] for r in records] == [False, False, True]
    assert records[0]["results"] and records[1]["results"]
