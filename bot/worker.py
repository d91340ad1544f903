"""One encoder worker with a bounded queue: blocking library calls, off the event loop."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from acuerdo.index import AcuerdoError

T = TypeVar("T")


class BusyError(AcuerdoError):
    """Too many questions are waiting for the encoder."""


class EncoderWorker:
    """Runs embedding/search on a single thread (the e5 engine's OpenMP threads slow down
    sharply when two calls compete for two cores) and refuses work past `max_pending`.

    The bound sits above python-telegram-bot's 256 concurrent updates, so under PTB's own limit
    every question waits its turn (benchmarks/load.py: 64 turned away 126 of 2,000 questions in
    a burst on PostgreSQL); it guards against unbounded growth if that limit is raised.
    """

    def __init__(self, *, max_pending: int = 512) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="encoder")
        # Public so a load test can lift the bound on a running bot (benchmarks/load.py).
        self.max_pending = max_pending
        self._pending = 0

    @property
    def pending(self) -> int:
        return self._pending

    async def run(self, func: Callable[..., T], /, *args: object, **kwargs: object) -> T:
        """`func(*args, **kwargs)` on the encoder thread; BusyError if the queue is full."""
        if self._pending >= self.max_pending:
            raise BusyError("Hay muchas preguntas en cola; inténtelo de nuevo en unos segundos.")
        self._pending += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._executor, functools.partial(func, *args, **kwargs)
            )
        finally:
            self._pending -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
