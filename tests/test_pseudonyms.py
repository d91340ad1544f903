"""The askers' pseudonyms: keyed, kept out of the database, checked and converted once."""

from __future__ import annotations

import hashlib
import stat
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update

from acuerdo.index import Library, SettingsError, load_settings
from acuerdo.index.db import open_database
from acuerdo.index.models import Feedback, PseudonymKey, QueryLog
from acuerdo.index.pseudonyms import KEY_FILE, converted, load_pseudonyms
from tests.conftest import HashingEmbedder

KEY = "a-key-of-at-least-sixteen-characters"


def _unkeyed_user(user_id: int) -> str:
    """What releases without a key stored: anyone can compute it from the id."""
    return hashlib.sha256(f"acuerdo-bot:{user_id}".encode()).hexdigest()[:32]


def test_pseudonyms_depend_on_the_key_and_tell_people_and_chats_apart(tmp_path: Path) -> None:
    sessions = open_database(f"sqlite:///{tmp_path / 'a.db'}")
    one = load_pseudonyms(sessions, tmp_path / "one", KEY)
    same = load_pseudonyms(sessions, tmp_path / "two", KEY)
    other = load_pseudonyms(open_database(f"sqlite:///{tmp_path / 'b.db'}"), tmp_path, KEY + "!")
    assert one.user(42) == same.user(42) != one.user(43)
    assert one.user(42) != other.user(42)
    assert one.user(42) not in (_unkeyed_user(42), "42")
    assert one.owner(42, 1) != one.owner(42, 2) != one.owner(43, 2)
    assert one.user(None) is None and one.owner(None, 1) is None
    assert not (tmp_path / "one" / KEY_FILE).exists()  # a configured key writes no file


def test_the_data_dir_key_is_created_on_first_use_private_and_kept(tmp_path: Path) -> None:
    sessions = open_database(f"sqlite:///{tmp_path / 'a.db'}")
    first = load_pseudonyms(sessions, tmp_path / "data", None)
    assert not (tmp_path / "data" / KEY_FILE).exists()  # nobody asked yet: no key needed
    pseudonym = first.user(42)
    key_file = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) == 64
    assert load_pseudonyms(sessions, tmp_path / "data", None).user(42) == pseudonym
    assert list((tmp_path / "data").iterdir()) == [key_file]  # no temporary file left


def test_a_damaged_key_file_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / KEY_FILE).write_text("\n")
    sessions = open_database(f"sqlite:///{tmp_path / 'a.db'}")
    with pytest.raises(SettingsError, match="ACUERDO_PSEUDONYM_KEY"):
        load_pseudonyms(sessions, tmp_path / "data", None).user(1)


def test_a_short_configured_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACUERDO_PSEUDONYM_KEY", "short")
    with pytest.raises(SettingsError, match=r"ACUERDO_PSEUDONYM_KEY.*16 caracteres") as info:
        load_settings(_env_file=None)
    assert "short" not in str(info.value)  # a secret is never echoed


def test_a_replica_with_another_key_refuses_and_one_with_the_same_key_serves_the_asker(
    database_url: str, settings_for, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    first = Library.open(settings_for(DATABASE_URL=database_url), embedder=HashingEmbedder())
    answer = first.ask("fentanilo", user_id=42, chat_id=42)
    assert answer.query_id is not None and first.flush_log()
    first.close()
    other_dir = tmp_path / "other"
    stranger = Library.open(
        settings_for(DATABASE_URL=database_url, ACUERDO_DATA_DIR=other_dir),
        embedder=HashingEmbedder(),
    )
    with pytest.raises(SettingsError, match="ACUERDO_PSEUDONYM_KEY"):
        stranger.check_pseudonyms()
    stranger.close()

    shared_key = (tmp_path / "data" / KEY_FILE).read_text().strip()
    replica = Library.open(
        settings_for(
            DATABASE_URL=database_url, ACUERDO_DATA_DIR=other_dir, ACUERDO_PSEUDONYM_KEY=shared_key
        ),
        embedder=HashingEmbedder(),
    )
    replica.check_pseudonyms()
    assert replica.replay(answer.query_id, user_id=42, chat_id=42).question == "fentanilo"
    assert replica.feedback(answer.query_id, user_id=42, chat_id=42, helpful=True)
    assert not replica.feedback(answer.query_id, user_id=43, chat_id=42, helpful=True)
    replica.close()


def test_a_database_of_unkeyed_hashes_is_converted_once_and_old_buttons_keep_working(
    database_url: str, settings_for
) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(DATABASE_URL=database_url)
    library = Library.open(settings, embedder=HashingEmbedder())
    answer = library.ask("fentanilo", user_id=42)  # chat_id None: an owner hash all the same
    assert answer.query_id is not None and library.flush_log()
    assert library.feedback(answer.query_id, user_id=42, helpful=False)
    library.close()
    legacy_owner = hashlib.sha256(b"acuerdo-bot-owner:None:42").hexdigest()[:32]
    with library.sessions() as session, session.begin():  # as a release without a key left it
        session.execute(delete(PseudonymKey))
        session.execute(
            update(QueryLog).values(user_hash=_unkeyed_user(42), owner_hash=legacy_owner)
        )
        session.execute(update(Feedback).values(user_hash=_unkeyed_user(42)))

    notices: list[str] = []
    reopened = Library.open(settings, embedder=HashingEmbedder())
    reopened.check_pseudonyms(notice=notices.append)
    assert any("protegidos con clave" in n for n in notices)
    if database_url.startswith("postgresql"):  # the old row versions are vacuumed away
        assert _vacuumed(reopened, "query_log") and _vacuumed(reopened, "feedback")
    with reopened.sessions() as session:
        stored = session.scalars(select(QueryLog.user_hash)).all()
        votes = session.scalars(select(Feedback.user_hash)).all()
    assert _unkeyed_user(42) not in [*stored, *votes]
    assert reopened.replay(answer.query_id, user_id=42).question == "fentanilo"
    with pytest.raises(Exception, match="ya no está disponible"):
        reopened.replay(answer.query_id, user_id=43)
    # The old vote is the same person's: changing it replaces it rather than adding another.
    assert reopened.feedback(answer.query_id, user_id=42, helpful=True)
    with reopened.sessions() as session:
        assert session.scalars(select(Feedback.helpful)).all() == [True]
    reopened.close()

    again = Library.open(settings, embedder=HashingEmbedder())
    again.check_pseudonyms(notice=notices.append)
    with again.sessions() as session:
        assert session.scalars(select(QueryLog.user_hash)).all() == stored  # not converted twice
    again.close()


def test_two_processes_converting_at_once_convert_once(database_url: str, settings_for) -> None:  # type: ignore[no-untyped-def]
    library = Library.open(settings_for(DATABASE_URL=database_url), embedder=HashingEmbedder())
    answer = library.ask("fentanilo", user_id=42)
    assert answer.query_id is not None and library.flush_log()
    library.close()
    with library.sessions() as session, session.begin():  # as a release without a key left it
        session.execute(delete(PseudonymKey))
        session.execute(update(QueryLog).values(user_hash=_unkeyed_user(42)))

    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def starting(folder: str) -> None:
        pseudonyms = load_pseudonyms(open_database(database_url), Path(folder), KEY)
        start.wait()
        try:
            pseudonyms.check()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=starting, args=(f"/nonexistent/{n}",)) for n in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with library.sessions() as session:
        stored = session.scalars(select(QueryLog.user_hash)).all()
    assert stored == [converted(KEY.encode(), _unkeyed_user(42))]  # once, not twice


def _vacuumed(library: Library, table: str) -> bool:
    """PostgreSQL's statistics say the table was vacuumed by hand (they arrive within ~1 s)."""
    query = text(
        "SELECT last_vacuum FROM pg_stat_user_tables "
        "WHERE relname = :table AND schemaname = current_schema()"
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with library.sessions() as session:
            if session.execute(query, {"table": table}).scalar() is not None:
                return True
        time.sleep(0.2)
    return False
