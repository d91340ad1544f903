"""`acuerdo` given bad inputs a hostile tester found: an unreadable seed, a bad file among
several in `index add`, an unusable ACUERDO_DATA_DIR and malformed `eval` question sets. Each
gets one clear Spanish line naming what to fix, and the rest of the work goes on."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from acuerdo.index import AcuerdoError
from acuerdo.index.evaluation import load_labelled
from tests.cli_support import InProcessCli

pytestmark = pytest.mark.slow

GOOD_TEXT = (
    "El Ayuntamiento aprobó el presupuesto municipal para el año próximo. La partida de "
    "bibliotecas públicas crece un diez por ciento y se abrirán dos salas de estudio nuevas."
)


def corrupt_docx(path: Path) -> Path:
    """A .docx whose main part is not XML: the reader refuses it as damaged."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document <<< no es XML")
    return path


def test_an_unreadable_seed_is_skipped_with_a_warning_once_and_removed_seeds_stay_removed(
    tmp_path: Path, cli: InProcessCli
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    corrupt_docx(seeds / "badxml.docx")
    (seeds / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    env = {"ACUERDO_SEEDS_DIR": str(seeds)}

    first = cli("stats", env=env)
    assert first.returncode == 0, first.stderr
    assert "Documentos: 1 " in first.stdout
    warning = [
        line for line in first.stderr.splitlines() if "badxml.docx" in line and "Aviso" in line
    ]
    assert len(warning) == 1 and "ACUERDO_SEEDS_DIR" in warning[0] and "index add" in warning[0]
    assert "inesperado" not in first.stderr

    # Seeding is remembered: the broken file is not tried again, and a seed the admin removes
    # does not come back (nor alert its followers again) at the next start.
    listed = cli("index", "list", env=env)
    assert listed.returncode == 0 and "Aviso" not in listed.stderr
    assert listed.stdout.count("good") == 1
    assert cli("index", "remove", listed.stdout.split("\t")[0], env=env).returncode == 0
    after = cli("index", "list", env=env)
    assert after.returncode == 0 and "No hay documentos indexados." in after.stdout


@pytest.mark.parametrize(
    "manifest", ['[{"title": "sin archivo"}]', '[{"file": "good.txt", "title": 123}]']
)
def test_a_broken_seed_manifest_is_a_warning_not_a_dead_command(
    tmp_path: Path, cli: InProcessCli, manifest: str
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (seeds / "manifest.json").write_text(manifest, encoding="utf-8")
    result = cli("index", "list", env={"ACUERDO_SEEDS_DIR": str(seeds)})
    assert result.returncode == 0, result.stderr
    assert "manifest.json" in result.stderr and "ACUERDO_SEEDS_DIR" in result.stderr


def test_index_add_tries_every_file_and_reports_each_failure(
    tmp_path: Path, cli: InProcessCli
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    corrupt_docx(tmp_path / "roto.docx")
    env = {"ACUERDO_SEEDS_DIR": str(seeds)}

    result = cli("index", "add", "empty.txt", "good.txt", "missing.txt", "roto.docx", env=env)
    assert result.returncode == 1
    assert "good" in result.stdout and "añadido" in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 3, result.stderr
    for name, line in zip(["empty.txt", "missing.txt", "roto.docx"], errors, strict=True):
        assert line.startswith("Error: ") and name in line
    listed = cli("index", "list", env=env)
    assert len(listed.stdout.splitlines()) == 1 and "good" in listed.stdout

    all_good = cli("index", "add", "good.txt", env=env)
    assert all_good.returncode == 0 and "ya estaba indexado" in all_good.stdout


@pytest.mark.parametrize("where", ["file", "under_a_file", "/proc/nope"])
def test_an_unusable_data_dir_is_one_line_naming_the_setting(
    tmp_path: Path, cli: InProcessCli, where: str
) -> None:
    (tmp_path / "a_file").write_text("x", encoding="utf-8")
    data_dir = {
        "file": str(tmp_path / "a_file"),
        "under_a_file": str(tmp_path / "a_file" / "data"),
    }.get(where, where)
    result = cli("index", "list", env={"ACUERDO_DATA_DIR": data_dir})
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: Configuración no válida")
    assert "ACUERDO_DATA_DIR" in lines[0] and data_dir in lines[0]
    assert "inesperado" not in lines[0] and "Errno" not in lines[0]


KEYS = {"k": "presupuesto municipal", "otra": "salas de estudio"}


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"question": null, "relevant": ["k"]}', "«question» debe ser un texto"),
        ('{"question": 12, "relevant": ["k"]}', "«question» debe ser un texto"),
        ('{"question": "   ", "relevant": ["k"]}', "«question» debe ser un texto"),
        ('{"question": "¿presupuesto?", "relevant": ["k"], "kind": ["x"]}', "«kind»"),
        ('{"question": "¿presupuesto?", "relevant": ["k"], "lang": 3}', "«lang»"),
        ('{"question": "¿presupuesto?", "relevant": [1]}', "«relevant» tiene 1"),
        ('{"question": "¿presupuesto?", "relevant": [""]}', '«relevant» tiene ""'),
        ('{"question": "¿presupuesto?", "relevant": "k"}', "«relevant» debe ser una lista"),
        ('{"question": "¿presupuesto?"}', "«relevant» debe ser una lista"),
        ('{"question": "¿presupuesto?", "relevant": ["nada"]}', "la clave «nada» no está"),
        ('["¿presupuesto?", ["k"]]', "debe ser un objeto JSON"),
        ('{"question": "¿presupuesto?", ', "no es JSON válido"),
    ],
)
def test_eval_names_the_line_and_the_problem_of_a_malformed_question(
    tmp_path: Path, cli: InProcessCli, line: str, problem: str
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (tmp_path / "keys.json").write_text(json.dumps(KEYS), encoding="utf-8")
    good = '{"question": "¿Qué pasa con las salas de estudio?", "relevant": ["otra"]}'
    (tmp_path / "qa.jsonl").write_text(f"{good}\n\n{line}\n", encoding="utf-8")
    result = cli("eval", "qa.jsonl", "--keys", "keys.json", env={"ACUERDO_SEEDS_DIR": str(seeds)})
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: qa.jsonl, línea 3: ") and problem in lines[0]


@pytest.mark.parametrize("keys", [{"k": ""}, {"k": "  "}, {"k": 3}, ["k"]])
def test_eval_refuses_a_keys_file_whose_keys_would_match_anything_or_nothing(
    tmp_path: Path, keys: object
) -> None:
    (tmp_path / "keys.json").write_text(json.dumps(keys), encoding="utf-8")
    (tmp_path / "qa.jsonl").write_text('{"question": "¿y?", "relevant": ["k"]}\n', "utf-8")
    with pytest.raises(AcuerdoError, match=r"keys\.json debe ser un objeto JSON"):
        load_labelled(tmp_path / "qa.jsonl", tmp_path / "keys.json")


def test_eval_still_reads_a_well_formed_set_with_optional_fields_left_out_or_null(
    tmp_path: Path,
) -> None:
    (tmp_path / "keys.json").write_text(json.dumps(KEYS), encoding="utf-8")
    lines = [
        {"question": "¿Presupuesto?", "relevant": ["k"], "lang": "es", "kind": "own"},
        {"question": "¿Tacos?", "relevant": [], "kind": None},
    ]
    (tmp_path / "qa.jsonl").write_text("\n".join(map(json.dumps, lines)), encoding="utf-8")
    first, second = load_labelled(tmp_path / "qa.jsonl", tmp_path / "keys.json")
    assert first.needles == ("presupuesto municipal",) and first.kind == "own"
    assert second.needles == () and second.kind == "" and second.lang == "es"
