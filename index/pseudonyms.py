"""Keyed pseudonyms for the people who ask, so the log can tell askers apart without naming them.

A plain hash of a Telegram id names its owner to anyone holding the database: ids are small
numbers, and hashing them all takes minutes. A pseudonym here is an HMAC under a key kept out of
the database: `ACUERDO_PSEUDONYM_KEY`, or else a random key written to the data directory the
first time one is needed (`pseudonym.key`, readable by its owner only). The database keeps the key's
fingerprint, so a replica started with another key refuses to start instead of writing
pseudonyms nobody can match.

Databases written by releases that hashed without a key are converted once, in place: a keyed
pseudonym is the HMAC of the old hash, so every stored value converts without knowing whose it is.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from acuerdo.index.db import SessionFactory, guarded
from acuerdo.index.errors import SettingsError
from acuerdo.index.models import Feedback, PseudonymKey, QueryLog
from acuerdo.index.ownership import Asker

KEY_FILE = "pseudonym.key"
MIN_KEY_CHARS = 16
_CONVERT_BATCH = 1000

log = logging.getLogger(__name__)


class Pseudonyms:
    """The askers' pseudonyms, under a key read (or created) and checked against the database
    on first use: processes that never meet an asker (the CLI) need no key."""

    def __init__(self, sessions: SessionFactory, key: Callable[[], bytes]) -> None:
        self._sessions = sessions
        self._key_source = key
        self._key: bytes | None = None
        self._lock = threading.Lock()

    def check(self) -> int:
        """Read the key and check it against the database (converting a database written
        without one); SettingsError when it is not the database's key. Returns how many rows
        this call converted (0 once checked)."""
        with self._lock:
            if self._key is not None:
                return 0
            key = self._key_source()
            if len(key) < MIN_KEY_CHARS:
                raise SettingsError(
                    f"La clave de seudónimos debe tener al menos {MIN_KEY_CHARS} caracteres."
                )
            converted_rows = adopt_key(self._sessions, key)
            self._key = key
            return converted_rows

    def user(self, user_id: int | str | None) -> str | None:
        """One person, wherever they ask (the log groups by it)."""
        if user_id is None:
            return None
        return self._keyed(hashlib.sha256(f"acuerdo-bot:{user_id}".encode()).hexdigest()[:32])

    def owner(self, user_id: int | str | None, chat_id: int | str | None) -> str | None:
        """One person in one chat (None when nobody in particular asked)."""
        if user_id is None:
            return None
        unkeyed = hashlib.sha256(f"acuerdo-bot-owner:{chat_id}:{user_id}".encode()).hexdigest()
        return self._keyed(unkeyed[:32])

    def asker(self, user_id: int | str, chat_id: int | str | None) -> Asker:
        """Both pseudonyms of a person acting in a chat."""
        return Asker(self.user(user_id), self.owner(user_id, chat_id))

    def _keyed(self, unkeyed: str) -> str:
        if self._key is None:
            self.check()
        assert self._key is not None
        return converted(self._key, unkeyed)


def converted(key: bytes, unkeyed: str) -> str:
    """The keyed pseudonym of a hash stored by a release without a key."""
    return hmac.new(key, unkeyed.encode(), hashlib.sha256).hexdigest()[:32]


def fingerprint(key: bytes) -> str:
    """Tells keys apart without revealing them."""
    return hmac.new(key, b"acuerdo-bot-fingerprint", hashlib.sha256).hexdigest()[:32]


def load_pseudonyms(sessions: SessionFactory, data_dir: Path, configured: str | None) -> Pseudonyms:
    """Pseudonyms under the configured key, else the data directory's own (created on first
    use)."""
    if configured is not None and configured.strip():
        key = configured.strip().encode()
        return Pseudonyms(sessions, lambda: key)
    return Pseudonyms(sessions, lambda: _key_file(data_dir / KEY_FILE))


def _key_file(path: Path) -> bytes:
    if not path.exists():
        _create_key_file(path)
    try:
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(
            f"No pude leer la clave de seudónimos {path}: restáurela desde una copia, o defina "
            "ACUERDO_PSEUDONYM_KEY con la clave que usó esta base de datos."
        ) from exc
    if len(key) < MIN_KEY_CHARS:
        raise SettingsError(
            f"La clave de seudónimos {path} está vacía o dañada: restáurela desde una copia, o "
            "defina ACUERDO_PSEUDONYM_KEY con la clave que usó esta base de datos."
        )
    return key.encode()


def _create_key_file(path: Path) -> None:
    """Written whole under a temporary name, then linked: two processes starting together
    keep whichever key was linked first."""
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".pseudonym-", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="ascii") as file:  # mkstemp: owner-only
            file.write(secrets.token_hex(32) + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process's key won: both use it
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(temporary, path)
    except OSError as exc:
        raise SettingsError(
            f"No pude crear la clave de seudónimos en {path.parent} ({exc.strerror or exc}): "
            "revise ACUERDO_DATA_DIR (permisos, espacio libre) o defina ACUERDO_PSEUDONYM_KEY."
        ) from exc
    finally:
        if temporary is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)


def adopt_key(sessions: SessionFactory, key: bytes) -> int:
    """Check the database was written with this key; on a first start with a key, convert the
    pseudonyms stored without one. Returns how many rows were converted."""
    while True:
        with guarded(sessions) as session:
            stored = session.scalar(select(PseudonymKey.fingerprint).where(PseudonymKey.id == 1))
        if stored is not None:
            if not hmac.compare_digest(stored, fingerprint(key)):
                raise SettingsError(
                    "La clave de seudónimos no es la que usa esta base de datos: defina "
                    "ACUERDO_PSEUDONYM_KEY con la misma clave en todas las instancias que la "
                    f"comparten (una instancia sin ella guarda la suya en su {KEY_FILE})."
                )
            return 0
        try:
            count = _convert(sessions, key)
        except IntegrityError:  # another process adopted its key meanwhile: check against it
            continue
        if count:
            _purge_old_versions(sessions)
        return count


def _purge_old_versions(sessions: SessionFactory) -> None:
    """PostgreSQL keeps the rows' old versions, unkeyed hashes beside the questions, until a
    vacuum: run it now rather than when autovacuum finds enough dead rows."""
    engine = sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        return
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in (QueryLog.__tablename__, Feedback.__tablename__):
                connection.exec_driver_sql(f"VACUUM {table}")
    except SQLAlchemyError as exc:  # converted all the same; autovacuum comes later
        log.warning("could not vacuum the converted pseudonyms: %s", exc)


def _convert(sessions: SessionFactory, key: bytes) -> int:
    count = 0
    with guarded(sessions) as session, session.begin():
        # The row first: a replica converting at the same time waits on it, then fails.
        session.add(PseudonymKey(id=1, fingerprint=fingerprint(key)))
        session.flush()
        for model, column in (
            (QueryLog, QueryLog.user_hash),
            (QueryLog, QueryLog.owner_hash),
            (Feedback, Feedback.user_hash),
        ):
            rows = session.execute(
                select(model.id, column).where(column.is_not(None), column != "")
            ).all()
            for start in range(0, len(rows), _CONVERT_BATCH):
                batch = rows[start : start + _CONVERT_BATCH]
                session.execute(
                    update(model),
                    [
                        {"id": row_id, column.key: converted(key, str(value))}
                        for row_id, value in batch
                    ],
                )
            count += len(rows)
    return count
