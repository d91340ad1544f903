"""The query log is written behind the answers, with ids reserved in blocks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from acuerdo.index import Library
from acuerdo.index.db import open_database
from acuerdo.index.models import QueryLog, utcnow
from acuerdo.index.querylog import LoggedQuestion, QueryLogWriter
from tests.conftest import SEEDS, HashingEmbedder
from tests.tcpproxy import TcpProxy


def _entry(question: str) -> LoggedQuestion:
    return LoggedQuestion(
        question=question,
        user_hash=None,
        channel="test",
        top_passage_id=None,
        passage_ids="",
        top_score=None,
        confidence=0.5,
        answered=False,
        latency_ms=1.0,
    )


def _logged(library: Library) -> dict[int, tuple[str, str]]:
    with library.sessions() as session:
        rows = session.execute(select(QueryLog.id, QueryLog.question, QueryLog.channel)).all()
    return {row.id: (row.question, row.channel) for row in rows}


def test_an_answer_carries_its_id_and_the_row_follows(library: Library) -> None:
    answer = library.ask("¿Qué dijeron sobre el fentanilo?", user_id=7, channel="telegram")
    assert answer.query_id is not None
    assert library.flush_log()
    with library.sessions() as session:
        row = session.get(QueryLog, answer.query_id)
        assert row is not None
        assert (row.question, row.channel, row.answered) == (
            "¿Qué dijeron sobre el fentanilo?",
            "telegram",
            answer.answered,
        )
        assert row.passage_ids == ",".join(str(h.passage_id) for h in answer.hits)
        assert row.user_hash is not None and len(row.user_hash) == 32  # a pseudonym, not "7"
    assert library.health()["query_log_pending"] == 0


def test_stats_feedback_and_replay_see_a_question_asked_just_before(library: Library) -> None:
    answer = library.ask("fentanilo", user_id=1)
    assert answer.query_id is not None
    # No explicit flush: each of these must find the row on its own.
    assert library.feedback(answer.query_id, user_id=1, helpful=True)
    assert library.replay(answer.query_id, user_id=1).question == "fentanilo"
    library.ask("una pregunta que nadie entiende xyzzy")
    assert library.stats().questions == 2


def test_two_writers_on_one_database_never_share_an_id(database_url: str, settings_for) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(DATABASE_URL=database_url)
    first = Library.open(settings, embedder=HashingEmbedder())
    second = Library.open(settings, embedder=HashingEmbedder())
    ids = []
    for n in range(60):  # past the first blocks of 16 and 32, so both reserve again
        for library in (first, second):
            answer = library.ask(f"pregunta {n}")
            assert answer.query_id is not None
            ids.append(answer.query_id)
    assert len(set(ids)) == len(ids)
    first.close()
    second.close()
    logged = _logged(first)
    assert set(logged) == set(ids)


def test_ids_start_above_rows_numbered_by_the_database(database_url: str) -> None:
    sessions = open_database(database_url)
    with sessions.begin() as session:
        session.execute(
            insert(QueryLog),
            [
                {
                    "id": 41,
                    "question": "antigua",
                    "channel": "cli",
                    "answered": True,
                    "latency_ms": 1.0,
                }
            ],
        )
    writer = QueryLogWriter(sessions)
    query_id = writer.record(_entry("nueva"))
    assert query_id is not None and query_id > 41
    assert writer.flush()
    with sessions() as session:
        assert session.get(QueryLog, query_id) is not None


@pytest.mark.postgres
def test_questions_asked_while_the_database_is_away_are_written_when_it_returns(
    proxy: TcpProxy, postgres_url: str
) -> None:
    sessions = open_database(postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"))
    writer = QueryLogWriter(sessions, first_block=4, max_retry_seconds=0.2)
    writer.reserve()
    proxy.cut()
    ids = [writer.record(_entry(f"sin base {n}")) for n in range(6)]
    # The reserved block still numbers four answers; the other two get their ids when written.
    assert ids[:4] == list(range(ids[0] or 0, (ids[0] or 0) + 4)) and ids[4:] == [None, None]
    assert not writer.flush(timeout=1.0)
    assert writer.pending == 6
    proxy.restore()
    deadline = time.monotonic() + 20
    while writer.pending:
        assert time.monotonic() < deadline, (
            "the backlog was not written after the database returned"
        )
        time.sleep(0.1)
    with sessions() as session:
        rows = {r.id: r.question for r in session.execute(select(QueryLog.id, QueryLog.question))}
    assert sorted(rows.values()) == [f"sin base {n}" for n in range(6)]
    assert set(ids[:4]) <= set(rows)


@pytest.mark.postgres
def test_a_full_backlog_drops_the_oldest_questions(proxy: TcpProxy, postgres_url: str) -> None:
    sessions = open_database(postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"))
    writer = QueryLogWriter(sessions, max_pending=3, max_retry_seconds=0.2)
    writer.reserve()
    proxy.cut()
    for n in range(5):
        writer.record(_entry(f"pregunta {n}"))
    assert writer.pending == 3
    proxy.restore()
    assert writer.flush(timeout=10)
    with sessions() as session:
        questions = set(session.execute(select(QueryLog.question)).scalars())
    assert questions == {"pregunta 2", "pregunta 3", "pregunta 4"}


def test_a_process_that_exits_right_after_asking_still_logs_the_question(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACUERDO_", "TELEGRAM_"))}
    env.update(ACUERDO_DATA_DIR=str(tmp_path), ACUERDO_SEEDS_DIR=str(SEEDS))
    script = (
        "from acuerdo.index import Library, Settings\n"
        "from tests.conftest import HashingEmbedder\n"
        "library = Library.open(Settings(), embedder=HashingEmbedder())\n"
        "print(library.ask('¿qué dijeron sobre el fentanilo?').query_id)\n"
    )
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    query_id = int(result.stdout.strip())
    sessions = open_database(f"sqlite:///{tmp_path / 'acuerdo.db'}")
    with sessions() as session:
        row = session.get(QueryLog, query_id)
    assert row is not None and row.question == "¿qué dijeron sobre el fentanilo?"
    assert row.asked_at <= utcnow().replace(tzinfo=row.asked_at.tzinfo)
