"""Per-user sliding-window limit, so one flood cannot starve everybody else."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class UserRateLimiter:
    """At most `limit` events per user in any `window` seconds."""

    def __init__(
        self, limit: int, *, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._events: dict[int, deque[float]] = {}
        self._warned_until: dict[int, float] = {}

    def allow(self, user_id: int) -> bool:
        """Record an event for `user_id` and say whether it is within the limit."""
        now = self._clock()
        events = self._events.setdefault(user_id, deque())
        while events and now - events[0] >= self._window:
            events.popleft()
        if len(events) >= self._limit:
            return False
        events.append(now)
        if len(self._events) > 10_000:  # forget idle users so memory stays bounded
            self._events = {
                uid: ev for uid, ev in self._events.items() if ev and now - ev[-1] < self._window
            }
        return True

    def retry_in(self, user_id: int) -> float:
        """Seconds until `user_id` may ask again (0 if now)."""
        events = self._events.get(user_id)
        if not events or len(events) < self._limit:
            return 0.0
        return max(0.0, self._window - (self._clock() - events[0]))

    def first_refusal(self, user_id: int) -> bool:
        """After `allow` said no: True only for the first refusal until `user_id` may ask again,
        so a flood gets one warning, not one per extra message."""
        now = self._clock()
        if now < self._warned_until.get(user_id, 0.0):
            return False
        self._warned_until[user_id] = now + self.retry_in(user_id)
        if len(self._warned_until) > 10_000:
            self._warned_until = {u: t for u, t in self._warned_until.items() if t > now}
        return True


def wait_words(seconds: float) -> str:
    """How long to wait, in words: "un segundo", "unos 12 segundos" (never "unos 1 segundos")."""
    whole = max(1, round(seconds))
    return "un segundo" if whole == 1 else f"unos {whole} segundos"
