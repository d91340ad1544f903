"""The query log, written behind the answers.

Inserting one row took 0.5 ms with SQLAlchemy's code hot in the CPU caches but ~2 ms inside
`Library.ask`, after the encoders had streamed their weights through those caches: a tenth of an
answer, and on PostgreSQL a network round trip on the answer path too. So `ask` only hands the row
to a `QueryLogWriter`, which inserts rows in batches on its own thread, 50 ms after the first
row of a batch, so that the insert does not compete (for the GIL and the cores) with the thread
still formatting and sending the answer, and rows arriving together share one transaction.

An answer still needs its row's id at once (its buttons carry it), so ids come from blocks
reserved in the database (`IdBlock`), one round trip per block. Blocks grow from 16 to 1024 ids:
a one-question CLI run wastes few, a busy bot reserves rarely, and replicas never collide. While
the database is away rows wait in memory (up to `max_pending`, then the oldest are dropped with a
warning) and are written when it is back; rows still pending when the interpreter exits are
written by an exit hook.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from acuerdo.index import storage
from acuerdo.index.db import SessionFactory, guarded
from acuerdo.index.errors import StorageError
from acuerdo.index.models import QueryLog, utcnow

log = logging.getLogger(__name__)

_Row = tuple[int | None, "LoggedQuestion"]


@dataclass(frozen=True)
class LoggedQuestion:
    """One row of the query log before it is written."""

    question: str
    user_hash: str | None
    channel: str
    top_passage_id: int | None
    passage_ids: str
    top_score: float | None
    confidence: float | None
    answered: bool
    latency_ms: float
    tentative: bool = False
    owner_hash: str | None = None
    asked_at: datetime = field(default_factory=utcnow)


class QueryLogWriter:
    """Hands out query ids at once and writes the rows on a background thread."""

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        first_block: int = 16,
        max_block: int = 1024,
        max_pending: int = 10_000,
        batch: int = 500,
        delay_seconds: float = 0.05,
        idle_seconds: float = 30.0,
        max_retry_seconds: float = 30.0,
    ) -> None:
        self._sessions = sessions
        self._block = first_block
        self._max_block = max_block
        self._max_pending = max_pending
        self._batch = batch
        self._delay = delay_seconds
        self._idle_seconds = idle_seconds
        self._max_retry = max_retry_seconds
        self._ids = threading.Lock()
        self._current: tuple[int, int] = (0, 0)  # [next, end) of the block in use
        self._spare: tuple[int, int] | None = None
        self._cond = threading.Condition()
        self._pending: deque[_Row] = deque()
        self._first_queued = 0.0  # monotonic time the oldest pending row was queued
        self._writing = 0
        self._dropped = 0
        self._thread: threading.Thread | None = None
        self._stopping = False
        _live.add(self)

    def reserve(self) -> None:
        """Reserve the first block now (at start-up), not on the first question."""
        with self._ids:
            if self._current[0] >= self._current[1]:
                self._current = self._reserve_block() or self._current

    def record(self, entry: LoggedQuestion) -> int | None:
        """Queue `entry` and return its id (None only if no id could be reserved)."""
        query_id = self._take_id()
        with self._cond:
            if not self._pending:
                self._first_queued = time.monotonic()
            self._pending.append((query_id, entry))
            if len(self._pending) in (1, self._batch):
                self._cond.notify_all()  # wakes the writer: its delay starts now / is over
            if len(self._pending) > self._max_pending:
                self._pending.popleft()
                self._dropped += 1
                if self._dropped in (1, 10, 100) or self._dropped % 1000 == 0:
                    log.warning("query log backlog full: %d questions dropped", self._dropped)
            self._start_thread()
        return query_id

    def flush(self, timeout: float = 5.0) -> bool:
        """Write every pending row now, in this thread; False if the database refused."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                rows = self._take_batch()
                if not rows:
                    idle = self._cond.wait_for(
                        lambda: self._writing == 0, max(0.0, deadline - time.monotonic())
                    )
                    if not idle or not self._pending:
                        return idle
                    continue
            if not self._write_or_requeue(rows) or time.monotonic() > deadline:
                return False

    def close(self, timeout: float = 5.0) -> bool:
        """Flush, then let the writer thread end."""
        flushed = self.flush(timeout)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        return flushed

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._pending) + self._writing

    # -- ids ------------------------------------------------------------------------------------

    def _take_id(self) -> int | None:
        with self._ids:
            next_id, end = self._current
            if next_id >= end:
                block = self._spare or self._reserve_block()
                self._spare = None
                if block is None:
                    return None
                next_id, end = block
            self._current = (next_id + 1, end)
            return next_id

    def _top_up(self) -> None:
        """Reserve the next block before this one runs out (on the writer's thread)."""
        with self._ids:
            next_id, end = self._current
            if self._spare is None and end - next_id <= self._block // 4:
                self._spare = self._reserve_block()

    def _reserve_block(self) -> tuple[int, int] | None:
        size = self._block
        try:
            first = self._reserve(size)
        except StorageError:
            log.warning("could not reserve query ids; answering without one")
            return None
        self._block = min(self._block * 2, self._max_block)
        return first, first + size

    def _reserve(self, count: int) -> int:
        for attempt in range(3):
            try:
                with guarded(self._sessions) as session, session.begin():
                    return storage.reserve_query_ids(session, count)
            except IntegrityError:  # another process created the counter row first
                if attempt == 2:
                    raise StorageError("No pude reservar identificadores de consulta.") from None
        raise AssertionError("unreachable")

    # -- writing --------------------------------------------------------------------------------

    def _start_thread(self) -> None:
        self._stopping = False
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="query-log", daemon=True)
            self._thread.start()

    def _take_batch(self) -> list[_Row]:
        rows = [self._pending.popleft() for _ in range(min(self._batch, len(self._pending)))]
        self._writing += len(rows)
        return rows

    def _run(self) -> None:
        retry = 0.5
        while True:
            with self._cond:
                if not self._pending:
                    woken = not self._stopping and self._cond.wait(self._idle_seconds)
                    if not self._pending:
                        if woken:  # a flush took the rows: stay for the next ones
                            continue
                        self._thread = None  # idle or stopping; `record` starts another
                        return
                self._hold_back()
                rows = self._take_batch()
            if not rows:
                continue
            if self._write_or_requeue(rows):
                retry = 0.5
                self._top_up()
            else:
                time.sleep(retry)
                retry = min(retry * 2, self._max_retry)

    def _hold_back(self) -> None:
        # Wait out the delay (see the module docstring); it also gathers rows into fewer
        # transactions under load.
        while self._pending and not self._stopping and len(self._pending) < self._batch:
            left = self._first_queued + self._delay - time.monotonic()
            if left <= 0:
                return
            self._cond.wait(left)

    def _write_or_requeue(self, rows: list[_Row]) -> bool:
        try:
            self._write(rows)
        except StorageError:
            with self._cond:
                self._pending.extendleft(reversed(rows))
                self._writing -= len(rows)
                self._cond.notify_all()
            log.warning("query log unavailable; %d questions wait to be written", self.pending)
            return False
        with self._cond:
            self._writing -= len(rows)
            self._cond.notify_all()
        return True

    def _write(self, rows: list[_Row]) -> None:
        missing = sum(1 for query_id, _ in rows if query_id is None)
        with guarded(self._sessions) as session, session.begin():
            next_id = storage.reserve_query_ids(session, missing) if missing else 0
            values = []
            for query_id, entry in rows:
                if query_id is None:
                    query_id, next_id = next_id, next_id + 1
                values.append({"id": query_id, **asdict(entry)})
            try:
                with session.begin_nested():
                    session.execute(insert(QueryLog), values)
            except IntegrityError:
                # An id already taken (a process of an older version, which let the database
                # number its rows): keep the rest of the batch.
                log.warning("query log: a batch had a duplicate id; writing row by row")
                for row in values:
                    try:
                        with session.begin_nested():
                            session.execute(insert(QueryLog), [row])
                    except IntegrityError:
                        log.warning("query log: id %s already taken; row dropped", row["id"])


_live: weakref.WeakSet[QueryLogWriter] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    for writer in list(_live):
        if writer.pending and not writer.flush(timeout=5.0):
            log.warning("query log: %d questions could not be written before exit", writer.pending)
