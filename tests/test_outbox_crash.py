"""A sender that dies after claiming notifications loses nothing: once its lease runs out,
another sender (another replica, or the restarted bot) claims and sends them; what was recorded
as sent is never claimed again. On SQLite and PostgreSQL."""

from __future__ import annotations

import time

from sqlalchemy import select

from acuerdo.index.db import open_database
from acuerdo.index.models import Notification
from acuerdo.index.outbox import Outbox


def _queue(sessions, count: int) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        for chat in range(count):
            session.add(
                Notification(
                    chat_id=1000 + chat,
                    document_id=1,
                    document_title="Comunicado",
                    passage_id=1,
                    paragraph=1,
                    text="El tráfico ilícito de armas de fuego.",
                )
            )


def test_notifications_claimed_by_a_sender_that_died_are_sent_by_another(
    database_url: str,
) -> None:
    sessions = open_database(database_url)
    _queue(sessions, 6)
    crashed = Outbox(sessions, lease_seconds=0.5)
    survivor = Outbox(sessions, lease_seconds=0.5)

    held = crashed.claim(4)  # claimed, then the process died: nothing recorded
    assert len(held) == 4
    first = survivor.claim(10)  # the other two, not those under lease
    assert {n.chat_id for n in first}.isdisjoint({n.chat_id for n in held})
    assert len(first) == 2
    for note in first:
        survivor.sent(note.id)

    time.sleep(0.7)  # the dead sender's lease runs out
    retaken = survivor.claim(10)
    assert sorted(n.id for n in retaken) == sorted(n.id for n in held)
    assert all(n.attempts == 2 for n in retaken)
    for note in retaken:
        survivor.sent(note.id)
    time.sleep(0.7)
    assert survivor.claim(10) == []  # sent ones are never claimed again
    with sessions() as session:
        statuses = session.execute(select(Notification.status)).scalars().all()
    assert statuses == ["sent"] * 6
    sessions.kw["bind"].dispose()
