"""SQLite ids that are never reused, for databases made by older releases too.

SQLite numbers an INTEGER PRIMARY KEY with max(id) + 1, so removing the newest document let the
next one take its id and its passages take the old passage ids: stale admin confirmations, old
buttons, passage links and query-log rows then pointed at unrelated text. AUTOINCREMENT tables
(`sqlite_autoincrement` in index/models.py) never hand an id out twice. PostgreSQL sequences
already behave so.

`ALTER TABLE` cannot add AUTOINCREMENT, so a table made by an older release is rebuilt once, as
SQLite's documentation prescribes: foreign keys off (dropping the old `documents` would otherwise
cascade into `passages`), rename, create, copy, drop, recreate the indexes, check the foreign
keys, commit. The new counter starts above every id the log shows was ever handed out, including
passages removed before the upgrade.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.schema import CreateIndex, CreateTable

from acuerdo.index.models import Base

log = logging.getLogger(__name__)

TABLES = ("documents", "passages")


def ensure_autoincrement(engine: Engine) -> list[str]:
    """Rebuild the tables that still reuse ids; returns their names (none on other backends)."""
    if engine.dialect.name != "sqlite":
        return []
    raw = engine.raw_connection()
    try:
        cursor: Any = raw.driver_connection.cursor()  # type: ignore[union-attr]
        if not any(_reuses_ids(cursor, name) for name in TABLES):
            return []
        # Both pragmas are ignored inside a transaction: set them first (the connection is in
        # autocommit mode, see index/db.py).
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.execute("PRAGMA legacy_alter_table=ON")  # keep `passages` → `documents` as is
        try:
            return _rebuild_all(cursor, engine)
        finally:
            cursor.execute("PRAGMA legacy_alter_table=OFF")
            cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        raw.close()


def _rebuild_all(cursor: Any, engine: Engine) -> list[str]:
    cursor.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have upgraded the file while we waited for the lock.
        rebuilt = [name for name in TABLES if _reuses_ids(cursor, name)]
        for name in rebuilt:
            _rebuild(cursor, engine, name)
        if rebuilt:
            _raise_counter(cursor, "documents", _max(cursor, "SELECT max(id) FROM documents"))
            _raise_counter(cursor, "passages", _highest_passage_id(cursor))
        problems = cursor.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise sqlite3.IntegrityError(f"foreign keys broken by the rebuild: {problems[:5]}")
        cursor.execute("COMMIT")
    except BaseException:
        cursor.execute("ROLLBACK")
        raise
    if rebuilt:
        log.warning("SQLite tables rebuilt so that ids are never reused: %s", ", ".join(rebuilt))
    return rebuilt


def _reuses_ids(cursor: Any, name: str) -> bool:
    row = cursor.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return row is not None and "AUTOINCREMENT" not in row[0].upper()


def _rebuild(cursor: Any, engine: Engine, name: str) -> None:
    table = Base.metadata.tables[name]
    old = f"{name}_before_autoincrement"
    columns = ", ".join(f'"{column.name}"' for column in table.columns)
    cursor.execute(f'ALTER TABLE "{name}" RENAME TO "{old}"')
    cursor.execute(str(CreateTable(table).compile(dialect=engine.dialect)))
    cursor.execute(f'INSERT INTO "{name}" ({columns}) SELECT {columns} FROM "{old}"')
    cursor.execute(f'DROP TABLE "{old}"')  # its indexes go with it; ours are created next
    for index in table.indexes:
        cursor.execute(str(CreateIndex(index).compile(dialect=engine.dialect)))


def _max(cursor: Any, sql: str) -> int:
    value = cursor.execute(sql).fetchone()[0]
    return int(value or 0)


def _highest_passage_id(cursor: Any) -> int:
    """The highest passage id stored, shown in an answer, or voted on."""
    highest = max(
        _max(cursor, "SELECT max(id) FROM passages"),
        _max(cursor, "SELECT max(top_passage_id) FROM query_log"),
        _max(cursor, "SELECT max(passage_id) FROM feedback"),
    )
    for (shown,) in cursor.execute("SELECT passage_ids FROM query_log WHERE passage_ids != ''"):
        for part in shown.split(","):
            if part.strip().isdigit():
                highest = max(highest, int(part))
    return highest


def _raise_counter(cursor: Any, name: str, at_least: int) -> None:
    row = cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (name,)).fetchone()
    if row is None:
        cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (name, at_least))
    elif int(row[0] or 0) < at_least:
        cursor.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", (at_least, name))
