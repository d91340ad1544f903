"""The notification outbox: rows written with the document, claimed and sent by any replica.

A sender claims a few due rows at a time: `FOR UPDATE SKIP LOCKED` on PostgreSQL lets replicas
claim side by side without waiting for or taking each other's rows, and the claim itself (a
compare-and-set on `attempts`) holds on SQLite too. A claimed row is leased: `due_at` moves to
the end of the lease, so a replica that dies holding it only delays it until the lease ends,
when another (or the restarted one) takes it. A message is sent twice only if its replica dies
(or stalls past the lease) between Telegram's reply and `sent` being recorded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update

from acuerdo.index.db import SessionFactory, guarded, rowcount
from acuerdo.index.models import Notification, utcnow

log = logging.getLogger(__name__)

PENDING, SENT, FAILED, DROPPED = "pending", "sent", "failed", "dropped"


@dataclass(frozen=True)
class OutgoingNotification:
    """What a sender needs to deliver one notification (no index lookup needed)."""

    id: int
    chat_id: int
    document_id: int
    document_title: str
    topic: str | None
    subscription_id: int | None
    passage_id: int
    paragraph: int
    text: str
    heading: str | None
    highlight: tuple[int, int] | None
    attempts: int


class Outbox:
    """Claim, then record the fate of, the notifications waiting in the database."""

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        lease_seconds: float = 60.0,
        max_attempts: int = 5,
    ) -> None:
        self._sessions = sessions
        self._lease = timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts

    def claim(self, limit: int) -> list[OutgoingNotification]:
        """Up to `limit` due notifications, oldest first, leased to this sender."""
        now = utcnow()
        with guarded(self._sessions) as session, session.begin():
            rows = (
                session.execute(
                    select(Notification)
                    .where(Notification.status == PENDING, Notification.due_at <= now)
                    .order_by(Notification.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
                .scalars()
                .all()
            )
            claimed = []
            for row in rows:
                won = rowcount(
                    session.execute(
                        update(Notification)
                        .where(
                            Notification.id == row.id,
                            Notification.attempts == row.attempts,
                            Notification.status == PENDING,
                        )
                        .values(attempts=row.attempts + 1, due_at=now + self._lease)
                        .execution_options(synchronize_session=False)
                    )
                )
                if won:
                    claimed.append(_outgoing(row, attempts=row.attempts + 1))
            return claimed

    def sent(self, notification_id: int) -> None:
        self._set(notification_id, status=SENT, sent_at=utcnow(), last_error=None)

    def postpone(self, notification_id: int, seconds: float) -> None:
        """Telegram asked us to wait (429): try again then; the try does not count."""
        with guarded(self._sessions) as session, session.begin():
            session.execute(
                update(Notification)
                .where(Notification.id == notification_id)
                .values(
                    due_at=utcnow() + timedelta(seconds=seconds),
                    attempts=Notification.attempts - 1,
                    last_error="429",
                )
            )

    def failed(self, note: OutgoingNotification, error: str, *, backoff: float) -> bool:
        """A failed try: again after `backoff` seconds, or given up after `max_attempts`
        (True then, and logged)."""
        if note.attempts >= self.max_attempts:
            log.error(
                "notification %d to chat %d given up after %d tries: %s",
                note.id,
                note.chat_id,
                note.attempts,
                error,
            )
            self._set(note.id, status=FAILED, last_error=error[:300])
            return True
        self._set(note.id, due_at=utcnow() + timedelta(seconds=backoff), last_error=error[:300])
        return False

    def dropped(self, notification_id: int, reason: str) -> None:
        self._set(notification_id, status=DROPPED, last_error=reason[:300])

    def counts(self) -> dict[str, int]:
        """Notifications by status (for tests, stats and benchmarks)."""
        with guarded(self._sessions) as session:
            rows = session.execute(
                select(Notification.status, func.count(Notification.id)).group_by(
                    Notification.status
                )
            ).all()
        return {status: int(count) for status, count in rows}

    def _set(self, notification_id: int, **values: object) -> None:
        with guarded(self._sessions) as session, session.begin():
            session.execute(
                update(Notification).where(Notification.id == notification_id).values(**values)
            )


def _outgoing(row: Notification, *, attempts: int) -> OutgoingNotification:
    highlight = (
        (row.highlight_start, row.highlight_end)
        if row.highlight_start is not None and row.highlight_end is not None
        else None
    )
    return OutgoingNotification(
        id=row.id,
        chat_id=row.chat_id,
        document_id=row.document_id,
        document_title=row.document_title,
        topic=row.topic,
        subscription_id=row.subscription_id,
        passage_id=row.passage_id,
        paragraph=row.paragraph,
        text=row.text,
        heading=row.heading,
        highlight=highlight,
        attempts=attempts,
    )
