"""The `acuerdo` console script, run as a user would, with the real bundled model."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli_support import InProcessCli, acuerdo, cli_environment, run_subprocess
from tests.conftest import ROOT, SHARED

pytestmark = pytest.mark.slow


def test_ask_quotes_the_fentanyl_passage_verbatim(tmp_path: Path) -> None:
    """Smoke test of the installed console script in its own process (seeding from scratch)."""
    result = run_subprocess(tmp_path, "ask", "¿qué dijeron sobre el fentanilo?", "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["answered"] or record["tentative"]  # quoted, confidently or as the closest
    top = record["results"][0]
    assert "fentanilo" in top["text"]
    seed = (ROOT / "seeds" / "000_b49162d02398fd27.txt").read_text(encoding="utf-8")
    assert top["text"] in seed  # verbatim, not paraphrased
    assert set(top) == {"passage_id", "document", "text", "score"}
    assert len(record["results"]) == 3


def test_ask_json_from_stdin_keeps_order_and_lists_results_when_abstaining(
    tmp_path: Path, cli: InProcessCli
) -> None:
    questions = ["fentanilo", "Dame una receta de tacos", "", "¿Hubo conferencia de prensa?"]
    result = cli("ask", "--json", "-", "--k", "2", stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in lines] == questions
    assert lines[1]["answered"] is False and len(lines[1]["results"]) == 2
    assert lines[1]["tentative"] is False  # unrelated: nothing, not even the closest passage
    assert lines[1]["confidence"] < lines[0]["confidence"]
    assert all(0.0 <= r["confidence"] <= 1.0 for r in lines)
    assert lines[2] == {
        "question": "",
        "answered": False,
        "tentative": False,
        "confidence": 0.0,
        "results": [],
    }
    assert "conferencia de prensa" in lines[3]["results"][0]["text"]


def test_index_add_list_remove_and_rebuild(tmp_path: Path, cli: InProcessCli) -> None:
    doc = tmp_path / "agua.txt"
    doc.write_text(
        "México entregará agua del río Bravo cada cinco años a Estados Unidos.\n\n"
        "Habrá inspecciones conjuntas en las presas internacionales cada verano.",
        encoding="utf-8",
    )
    added = cli("index", "add", str(doc), "--title", "Tratado de aguas")
    assert added.returncode == 0, added.stderr
    assert "Tratado de aguas" in added.stdout and "2 pasajes" in added.stdout
    again = cli("index", "add", str(doc))
    assert "sin cambios" in again.stdout
    listed = cli("index", "list")
    lines = listed.stdout.strip().splitlines()
    assert len(lines) == 2 and "Tratado de aguas" in lines[1]
    answer = json.loads(cli("ask", "¿Cuándo entregará agua México?", "--json").stdout)
    assert "río Bravo" in answer["results"][0]["text"]
    rebuilt = cli("index", "rebuild")
    assert rebuilt.returncode == 0 and "15 pasajes" in rebuilt.stdout
    doc_id = lines[1].split("\t")[0]
    assert cli("index", "remove", doc_id).returncode == 0
    assert "Tratado" not in cli("index", "list").stdout


def test_errors_are_one_line_without_traceback(tmp_path: Path, cli: InProcessCli) -> None:
    missing = cli("index", "add", str(tmp_path / "nope.txt"))
    assert (
        missing.returncode == 1
        and "nope.txt" in missing.stderr
        and "Traceback" not in missing.stderr
    )
    binary = tmp_path / "raro.txt"
    binary.write_bytes(b"\x00\x01\x02\xff" * 100)
    bad = cli("index", "add", str(binary))
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    no_db = cli("index", "list", env={"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/test"})
    assert no_db.returncode == 1
    assert "base de datos" in no_db.stderr and "Traceback" not in no_db.stderr
    assert len(no_db.stderr.strip().splitlines()) == 1
    unknown = cli("index", "remove", "9999")
    assert unknown.returncode == 1 and "9999" in unknown.stderr


def test_chat_answers_and_shows_the_next_passage(tmp_path: Path, cli: InProcessCli) -> None:
    result = cli("chat", stdin="¿Qué dijeron sobre el fentanilo?\notro\nsalir\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("— Comunicado conjunto") == 2
    assert "fentanilo" in result.stdout


@pytest.mark.skipif(
    not (SHARED / "eval" / "dev_qa.jsonl").exists(), reason="shared eval set not present"
)
def test_eval_reports_the_four_figures(tmp_path: Path, cli: InProcessCli) -> None:
    result = cli(
        "eval",
        str(SHARED / "eval" / "dev_qa.jsonl"),
        "--keys",
        str(SHARED / "eval" / "dev_keys.json"),
    )
    assert result.returncode == 0, result.stderr
    for label in ("Recall@1", "Recall@3", "MRR", "Abstention accuracy"):
        assert label in result.stdout


def test_a_lone_number_country_or_greeting_is_never_quoted_as_the_answer(
    tmp_path: Path, cli: InProcessCli
) -> None:
    questions = ["3", "México", "hola", "2025", "Estados Unidos"]
    result = cli("ask", "--json", "-", stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in records] == questions
    # At most "the closest passage" (said as such), never a confident quote.
    assert all(r["answered"] is False for r in records), records
    assert [r["tentative"] for r in records][:1] == [False]  # "3" is not even close


def test_a_reader_that_goes_away_ends_the_batch_quietly(seeded: Path) -> None:
    tmp_path = seeded
    questions = "".join(f"fentanilo {i}\n" for i in range(200))
    process = subprocess.Popen(
        [acuerdo(), "ask", "--json", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=cli_environment(tmp_path),
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(questions.encode())
    process.stdin.close()
    process.stdout.readline()  # one answer, then the reader leaves (as `| head -n 1` does)
    process.stdout.close()
    process.wait(timeout=300)
    stderr = process.stderr.read().decode() if process.stderr else ""
    assert "Error inesperado" not in stderr and "Traceback" not in stderr, stderr
    assert process.returncode == 141
