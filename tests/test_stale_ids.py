"""Ids are never reused: removed documents and passages stay gone for every old reference."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from acuerdo.index import Library, NotFoundError
from tests.botkit import ADMIN_ID, RunningBot
from tests.cli_support import InProcessCli
from tests.conftest import SEEDS, HashingEmbedder
from tests.test_admin_bot import buttons, command, outcome, plain, press, to_chat, upload

# Two passages each (paragraphs of at least eight words stand alone).
WATER = (
    "México entregará agua del río Bravo cada cinco años a Estados Unidos.\n\n"
    "Habrá inspecciones conjuntas en las presas internacionales cada verano."
)
TREES = (
    "Se plantarán tres millones de mezquites a lo largo de la frontera.\n\n"
    "Los viveros serán públicos y abrirán en cada municipio fronterizo."
)


@pytest.mark.slow
async def test_a_stale_confirmation_or_link_never_reaches_the_next_document(
    bot: RunningBot,
) -> None:
    await upload(bot, WATER.encode(), "agua.txt", caption="Aguas")
    [water] = [d for d in bot.library.documents() if d.title == "Aguas"]
    confirm = await command(bot, f"/borrar {water.id}")
    stale_yes = buttons(confirm)[0]["callback_data"]
    bot.library.remove_document(water.id)  # meanwhile, from the CLI or another admin
    await upload(bot, TREES.encode(), "arboles.txt", caption="Árboles")
    [trees] = [d for d in bot.library.documents() if d.title == "Árboles"]
    assert trees.id > water.id
    assert trees.first_passage_id is not None and water.first_passage_id is not None
    assert trees.first_passage_id > water.first_passage_id + 1  # the old ids stay unused

    count = len(to_chat(bot, ADMIN_ID))
    await press(bot, stale_yes, confirm)
    stale = plain(await outcome(bot, ADMIN_ID, count))
    assert "Borrado" not in stale and ("no he borrado nada" in stale or "No existe" in stale)
    assert [d.id for d in bot.library.documents() if d.title == "Árboles"] == [trees.id]
    # A confirmation bound to another content, with the new document's id, removes nothing.
    forged = f"del:{trees.id}:{stale_yes.split(':')[2]}:1"
    count = len(to_chat(bot, ADMIN_ID))
    await press(bot, forged, confirm)
    refusal = plain(await outcome(bot, ADMIN_ID, count))
    assert "no he borrado nada" in refusal and "Borrado" not in refusal
    assert [d.id for d in bot.library.documents() if d.title == "Árboles"] == [trees.id]

    link = await bot.reply_to(f"/start p{water.first_passage_id}")
    assert "No encuentro ese pasaje" in link.get("text") and "mezquite" not in link.get("text")


@pytest.mark.slow
def test_cli_never_gives_a_removed_documents_ids_to_the_next(
    seeded: Path, cli: InProcessCli
) -> None:
    tmp_path = seeded
    first, second = tmp_path / "agua.txt", tmp_path / "arboles.txt"
    first.write_text(WATER, encoding="utf-8")
    second.write_text(TREES, encoding="utf-8")
    added = cli("index", "add", str(first))
    assert added.returncode == 0, added.stderr
    old_id = int(added.stdout.split("]")[0].strip("["))
    database = tmp_path / "data" / "acuerdo.db"
    old_passages = _passage_ids(database, old_id)
    assert cli("index", "remove", str(old_id)).returncode == 0
    again = cli("index", "add", str(second))
    new_id = int(again.stdout.split("]")[0].strip("["))
    assert new_id > old_id
    assert min(_passage_ids(database, new_id)) > max(old_passages)


def _passage_ids(database: Path, document_id: int) -> list[int]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT id FROM passages WHERE document_id = ?", (document_id,)
        ).fetchall()
    return [row[0] for row in rows]


# The two tables as the previous release created them (no AUTOINCREMENT).
PREVIOUS_RELEASE = """
CREATE TABLE documents (
    id INTEGER NOT NULL, title VARCHAR(300) NOT NULL, source_name VARCHAR(300) NOT NULL,
    sha256 VARCHAR(64) NOT NULL, added_at DATETIME NOT NULL, PRIMARY KEY (id), UNIQUE (sha256)
);
CREATE TABLE passages (
    id INTEGER NOT NULL, document_id INTEGER NOT NULL, ordinal INTEGER NOT NULL,
    paragraph INTEGER NOT NULL, text TEXT NOT NULL, sha256 VARCHAR(64) NOT NULL,
    embedding BLOB NOT NULL, model_id VARCHAR(200) NOT NULL, aux_embedding BLOB,
    aux_model_id VARCHAR(200), PRIMARY KEY (id), UNIQUE (document_id, ordinal),
    FOREIGN KEY(document_id) REFERENCES documents (id) ON DELETE CASCADE
);
CREATE INDEX ix_passages_document_id ON passages (document_id);
CREATE INDEX ix_passages_sha256 ON passages (sha256);
CREATE TABLE index_state (
    id INTEGER NOT NULL, model_id VARCHAR(200) NOT NULL, version INTEGER NOT NULL,
    seeded BOOLEAN NOT NULL, updated_at DATETIME NOT NULL, PRIMARY KEY (id)
);
CREATE TABLE query_log (
    id INTEGER NOT NULL, asked_at DATETIME NOT NULL, question TEXT NOT NULL,
    user_hash VARCHAR(64), channel VARCHAR(20) NOT NULL, top_passage_id INTEGER,
    passage_ids TEXT NOT NULL, top_score FLOAT, confidence FLOAT, answered BOOLEAN NOT NULL,
    latency_ms FLOAT NOT NULL, PRIMARY KEY (id)
);
"""


def test_a_database_of_the_previous_release_is_upgraded_in_place(
    tmp_path: Path, settings_for, fake_embedder: HashingEmbedder
) -> None:  # type: ignore[no-untyped-def]
    database = tmp_path / "old.db"
    vector = np.zeros(fake_embedder.dim, dtype=np.float32)
    vector[0] = 1.0
    with sqlite3.connect(database) as old:
        old.executescript(PREVIOUS_RELEASE)
        old.execute(
            "INSERT INTO index_state VALUES (1, ?, 3, 1, '2026-01-01')", (fake_embedder.model_id,)
        )
        old.execute("INSERT INTO documents VALUES (1, 'Viejo', 'viejo.txt', 'aa', '2026-01-01')")
        for pid in (1, 2, 3):
            old.execute(
                "INSERT INTO passages VALUES (?, 1, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                (
                    pid,
                    pid,
                    pid,
                    f"Párrafo viejo {pid}.",
                    f"h{pid}",
                    vector.tobytes(),
                    fake_embedder.model_id,
                ),
            )
        # Passage 40 belonged to a document removed before the upgrade; an answer showed it.
        old.execute(
            "INSERT INTO query_log VALUES (7, '2026-01-01', 'q', 'u', 'telegram', 1, '1,40,2', "
            "0.9, 0.9, 1, 3.0)"
        )
    settings = settings_for(DATABASE_URL=f"sqlite:///{database}", ACUERDO_SEEDS_DIR=SEEDS)
    library = Library.open(settings, embedder=fake_embedder)
    try:
        assert [p.hit.text for p in (library.passage(1), library.passage(3))] == [
            "Párrafo viejo 1.",
            "Párrafo viejo 3.",
        ]
        added = library.add_document("agua.txt", WATER.encode(), title="Aguas")
        assert added.document.id == 2
        assert added.document.first_passage_id == 41  # above every id an answer ever showed
        library.remove_document(added.document.id)
        again = library.add_document("arboles.txt", TREES.encode(), title="Árboles")
        assert again.document.id == 3 and again.document.first_passage_id == 43
        library.remove_document(1)  # the cascade still works after the rebuild
        with pytest.raises(NotFoundError):
            library.passage(1)
    finally:
        library.close()
        library.sessions.kw["bind"].dispose()
    with sqlite3.connect(database) as upgraded:
        schema = dict(upgraded.execute("SELECT name, sql FROM sqlite_master WHERE type='table'"))
        assert "AUTOINCREMENT" in schema["documents"] and "AUTOINCREMENT" in schema["passages"]
        assert not any(name.endswith("before_autoincrement") for name in schema)
        assert upgraded.execute("PRAGMA foreign_key_check").fetchall() == []
        assert (
            upgraded.execute("SELECT count(*) FROM passages WHERE document_id = 1").fetchone()[0]
            == 0
        )
        indexes = {
            row[0] for row in upgraded.execute("SELECT name FROM sqlite_master WHERE type='index'")
        }
        assert {"ix_passages_document_id", "ix_passages_sha256"} <= indexes
