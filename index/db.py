"""Engine and sessions from a URL; schema creation; SQLite pragmas."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Result, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from acuerdo.index.errors import StorageError
from acuerdo.index.schema import upgrade_schema
from acuerdo.index.sqlite_ids import ensure_autoincrement

SessionFactory = sessionmaker[Session]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the bot answer while an admin indexes; foreign keys make deletes cascade.
    # Transactions are begun by us (below), not by the driver.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    _enable_wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _enable_wal(cursor: Any) -> None:
    # WAL is a property of the file, so only the very first connections switch it on; when
    # several processes open a new file at once, the switch can fail with "database is locked"
    # at once, without waiting for the busy timeout (seen with replicas starting together).
    for attempt in range(50):
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if attempt == 49:
                raise
            time.sleep(0.1)


def _begin_immediate(connection: Any) -> None:
    # A deferred transaction that reads and then writes fails at once with "database is locked"
    # when another process (the CLI beside the bot) does the same; taking the write lock up front
    # makes them wait their turn instead (busy_timeout).
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """An engine for `url`; a SQLite file's folder is created if missing."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _begin_immediate)
        return engine
    if parsed.drivername in ("postgres", "postgresql", "postgresql+psycopg2"):
        # psycopg (3) is the driver we ship; a bare postgresql:// URL would look for psycopg2,
        # and postgres:// (what hosting providers hand out) is unknown to SQLAlchemy.
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(
        parsed,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        connect_args={"connect_timeout": 5},
    )


def describe_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def open_database(url: str) -> SessionFactory:
    """Connect, create missing tables and return a session factory; StorageError if unreachable."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                # Replicas starting together would race to create the same tables.
                connection.execute(text("SELECT pg_advisory_xact_lock(4242001)"))
            upgrade_schema(connection)
        ensure_autoincrement(engine)
    except (SQLAlchemyError, sqlite3.Error) as exc:
        engine.dispose()
        raise StorageError(
            f"No puedo conectar con la base de datos ({describe_url(url)}). "
            "Compruebe DATABASE_URL y que el servidor esté en marcha."
        ) from exc
    return sessionmaker(engine, expire_on_commit=False)


class GuardedSession:
    """A session whose database errors become `StorageError` with a message for users.

    IntegrityError passes through: callers handle a lost race (e.g. identical content added by
    another replica) themselves.
    """

    def __init__(self, sessions: SessionFactory) -> None:
        self._session = sessions()

    def __enter__(self) -> Session:
        return self._session

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self._session.close()
        if isinstance(exc, SQLAlchemyError) and not isinstance(exc, IntegrityError):
            raise StorageError(
                "La base de datos no está disponible en este momento; inténtelo más tarde."
            ) from exc


def guarded(sessions: SessionFactory) -> GuardedSession:
    """`with guarded(sessions) as session:` — database failures reach users as `StorageError`."""
    return GuardedSession(sessions)


def read_snapshot(session: Session) -> None:
    """Make the session's reads one consistent snapshot (call before its first query).

    PostgreSQL's default READ COMMITTED gives each statement its own snapshot, so reading the
    index version and then the passages could mix two states of the database; SQLite's
    transactions are snapshots already.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE changed (the typed `Result` does not show `rowcount`)."""
    return int(getattr(result, "rowcount", 0) or 0)
