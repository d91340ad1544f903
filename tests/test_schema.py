"""A database made by an older release gains the columns added since, on both databases."""

from __future__ import annotations

from sqlalchemy import inspect, text

from acuerdo.index.db import open_database


def test_a_missing_column_is_added_back_without_losing_rows(database_url: str) -> None:
    sessions = open_database(database_url)
    engine = sessions.kw["bind"]
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO query_log (id, asked_at, question, channel, passage_ids, answered,"
                " latency_ms, confidence) VALUES (7, CURRENT_TIMESTAMP, 'armas', 'cli', '', true,"
                " 1.0, 0.5)"
            )
        )
        # What an older release's table looked like: without a column added later.
        connection.execute(text("ALTER TABLE query_log DROP COLUMN confidence"))
    engine.dispose()

    sessions = open_database(database_url)
    engine = sessions.kw["bind"]
    with engine.connect() as connection:
        columns = {column["name"] for column in inspect(connection).get_columns("query_log")}
        row = connection.execute(text("SELECT question, confidence FROM query_log")).one()
    engine.dispose()
    assert "confidence" in columns
    assert tuple(row) == ("armas", None)
