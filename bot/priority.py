"""Bulk sends (notifications) go only when no reply to a user is on its way, and at a pace.

Every Bot API call passes through this rate limiter. A call marked `BULK` (via PTB's
`rate_limit_args`) waits for its turn: at most `bulk_per_second`, and never while an interactive
call (any other, except the long poll) is in flight. Telegram's overall ~30 messages a second are
shared, so pacing bulk below that leaves room for replies, which then never queue behind a
backlog of notifications.

A bulk send is tried once: its 429s and failures go back to the caller (bot/notifier.py), which
postpones that one message in the outbox. Left to `AIORateLimiter`, a 429 on one notification
would stop every call, replies included, for the whole `retry_after`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

from acuerdo.bot.retrying import JSONResult, RetryingRateLimiter

BULK = 1_000_003
"""`rate_limit_args` value marking a bulk send."""


class PriorityRateLimiter(RetryingRateLimiter):
    """`RetryingRateLimiter` in which interactive calls go before bulk ones."""

    def __init__(self, *, bulk_per_second: float = 25.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._bulk_interval = 1.0 / bulk_per_second
        self._next_bulk = 0.0
        self._interactive = 0
        self._bulk_turns: asyncio.Lock | None = None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        if rate_limit_args == BULK:
            await self._bulk_turn()
            # A flood wait Telegram imposed on a reply holds notifications too.
            await self._retry_after_event.wait()
            return await callback(*args, **kwargs)
        if endpoint == "getUpdates":
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )
        self._interactive += 1
        try:
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )
        finally:
            self._interactive -= 1

    async def _bulk_turn(self) -> None:
        if self._bulk_turns is None:
            self._bulk_turns = asyncio.Lock()
        async with self._bulk_turns:  # one bulk send decides at a time, in arrival order
            while True:
                now = time.monotonic()
                if self._interactive == 0 and now >= self._next_bulk:
                    break
                await asyncio.sleep(max(self._next_bulk - now, 0.005))
            self._next_bulk = max(now, self._next_bulk) + self._bulk_interval
