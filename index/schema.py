"""Bring an existing database up to the current tables: new tables and new columns.

`create_all` creates missing tables but never touches existing ones, so a database made by an
older release would lack the columns added since. Every column added after the first release
is nullable or carries a server default, so adding it is one `ALTER TABLE … ADD COLUMN`
that SQLite and PostgreSQL both run in place, without rewriting data.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, inspect
from sqlalchemy.schema import CreateColumn

from acuerdo.index.models import Base


def upgrade_schema(connection: Connection) -> list[str]:
    """Create missing tables, add missing columns; returns the `table.column` names added."""
    Base.metadata.create_all(connection)
    inspector = inspect(connection)
    added: list[str] = []
    for table in Base.metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            _add_column(connection, table.name, column)
            added.append(f"{table.name}.{column.name}")
    return added


def _add_column(connection: Connection, table: str, column: Column) -> None:  # type: ignore[type-arg]
    if not column.nullable and column.server_default is None:
        raise RuntimeError(  # a programming error: new columns must be nullable or defaulted
            f"{table}.{column.name} cannot be added to existing rows: make it nullable "
            "or give it a server_default"
        )
    definition = CreateColumn(column).compile(dialect=connection.dialect)
    preparer = connection.dialect.identifier_preparer
    connection.exec_driver_sql(f"ALTER TABLE {preparer.quote(table)} ADD COLUMN {definition}")
