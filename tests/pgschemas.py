"""PostgreSQL schemas for tests: one fresh schema per test, cloned from a seeded template.

Embedding the seed with the real models for every test would cost seconds each, so a session
builds one *template* schema (copied row for row from the seeded SQLite template, ids, vectors and
index version included) and each test gets a clone made with `INSERT … SELECT`. Because ids and
the index version are identical, the template data dir's `vectors.faiss` is valid for every clone
and `Library.open` reuses it instead of re-embedding or rebuilding anything.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from sqlalchemy import Engine, MetaData, create_engine, insert, select, text

from acuerdo.index.db import open_database
from acuerdo.index.models import Base

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

_engine: Engine | None = None
_engine_lock = threading.Lock()
_clones: list[str] = []


def admin_engine() -> Engine:
    """One shared engine on the `test` database for creating, cloning and dropping schemas."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = create_engine(POSTGRES_ADMIN_URL, pool_size=2, max_overflow=2)
        return _engine


def schema_url(schema: str) -> str:
    """A DATABASE_URL whose connections use `schema` (libpq's `options=-csearch_path=…`)."""
    return f"{POSTGRES_ADMIN_URL}?options=-csearch_path%3D{schema}"


def schema_of(url: str) -> str:
    """The schema named in a URL made by `schema_url` (or by the `postgres_url` fixture)."""
    marker = "-csearch_path="
    decoded = unquote(url)
    if marker not in decoded:
        raise ValueError(f"no search_path in {url!r}")
    return decoded.split(marker, 1)[1].split("&", 1)[0]


def create_schema(prefix: str = "t_") -> str:
    """A new empty schema with a random name."""
    schema = f"{prefix}{uuid.uuid4().hex[:12]}"
    with admin_engine().begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    return schema


def drop_schema(schema: str) -> None:
    with admin_engine().begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def create_tables(schema: str) -> None:
    """The application's tables in `schema`, created the way the application creates them."""
    sessions = open_database(schema_url(schema))
    bind = sessions.kw["bind"]
    bind.dispose()


def _reset_sequences(connection: Any, schema: str) -> None:
    # Rows were inserted with explicit ids: move each serial past them, as if inserted normally.
    for table in Base.metadata.sorted_tables:
        if "id" not in table.columns:
            continue
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{schema}\".{table.name}', 'id'), "
                f'COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM "{schema}".{table.name}'
            )
        )


def copy_sqlite_into(sqlite_url: str, schema: str) -> None:
    """Copy every row of an application SQLite database into `schema` (tables created here)."""
    create_tables(schema)
    source = create_engine(sqlite_url)
    try:
        with source.connect() as reader, admin_engine().begin() as writer:
            for table in Base.metadata.sorted_tables:
                rows = [_aware(dict(row._mapping)) for row in reader.execute(select(table))]
                if rows:
                    target = table.to_metadata(MetaData(), schema=schema)
                    writer.execute(insert(target), rows)
            _reset_sequences(writer, schema)
    finally:
        source.dispose()


def _aware(row: dict[str, Any]) -> dict[str, Any]:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC.
    return {
        key: value.replace(tzinfo=UTC)
        if isinstance(value, datetime) and value.tzinfo is None
        else value
        for key, value in row.items()
    }


def clone_schema(source: str, target: str) -> None:
    """Fill `target` (existing, maybe empty) with the tables and rows of `source`."""
    create_tables(target)
    with admin_engine().begin() as connection:
        for table in Base.metadata.sorted_tables:
            columns = ", ".join(f'"{column.name}"' for column in table.columns)
            connection.execute(
                text(
                    f'INSERT INTO "{target}".{table.name} ({columns}) '
                    f'SELECT {columns} FROM "{source}".{table.name}'
                )
            )
        _reset_sequences(connection, target)


def clone_template(template: str) -> str:
    """A new schema holding a copy of `template`; dropped by `drop_clones` after the test."""
    schema = create_schema("c_")
    _clones.append(schema)
    clone_schema(template, schema)
    return schema


def drop_clones() -> None:
    """Drop the schemas made by `clone_template` since the last call."""
    while _clones:
        drop_schema(_clones.pop())
