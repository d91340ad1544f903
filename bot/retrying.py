"""Outgoing Bot API calls: Telegram's flood limits plus retries when Telegram has a bad moment."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import AIORateLimiter

log = logging.getLogger("acuerdo.bot")

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]


class RetryingRateLimiter(AIORateLimiter):
    """`AIORateLimiter` (which already waits out 429s) that also retries 5xx and time-outs.

    PTB reports a 5xx or a dropped connection as `NetworkError` (`TimedOut` is one). A retried
    send may, rarely, duplicate a message that Telegram did deliver; for a Q&A bot that beats
    leaving a question unanswered.
    """

    def __init__(self, *, network_retries: int = 3, backoff: float = 0.5, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._network_retries = network_retries
        self._backoff = backoff

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        for attempt in range(self._network_retries + 1):
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except (BadRequest, Forbidden, InvalidToken, RetryAfter):
                raise  # the request itself is wrong, or the 429 retries are already spent
            except NetworkError as exc:
                # getUpdates has its own retry loop in the updater; don't stack ours on it.
                if endpoint == "getUpdates" or attempt == self._network_retries:
                    raise
                delay = self._backoff * 2**attempt
                log.warning("Telegram %s failed (%s); retrying in %.1f s", endpoint, exc, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")
