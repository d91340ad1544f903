"""Talking to Telegram robustly: only the updates we handle, unreadable ones skipped, outages waited
out, and a clean stop on Ctrl-C or SIGTERM.

python-telegram-bot parses a whole getUpdates batch at once: one update it cannot parse made the
batch fail, the offset never moved, and the same batch came back at once, forever (nobody
answered, and the log grew by megabytes a minute). `ScreeningBot` parses each update on its own
and replaces one it cannot read with a bare `{"update_id": …}`: the offset moves past it, no
handler sees it, everyone else is answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ExtBot

from acuerdo.index import SettingsError

log = logging.getLogger("acuerdo.bot")

# The update types the handlers in bot/app.py act on; Telegram sends no others (edits and
# channel posts are ignored anyway, and each would cost a request and a parse).
ALLOWED_UPDATES = (Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY)

POLL_TIMEOUT = 10
MAX_RETRY_SECONDS = 60.0


class BoundedWarnings:
    """At most `limit` warnings per `window` seconds, then one line saying how many were held."""

    def __init__(self, limit: int = 5, window: float = 60.0) -> None:
        self._limit = limit
        self._window = window
        self._started = -window
        self._count = 0
        self._held = 0

    def warn(self, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._started >= self._window:
            if self._held:
                log.warning("%d similar warnings were not logged", self._held)
            self._started, self._count, self._held = now, 0, 0
        self._count += 1
        if self._count <= self._limit:
            log.warning(message, *args)
        else:
            self._held += 1


def readable_updates(raw: list[Any], bot: ExtBot[Any], warnings: BoundedWarnings) -> list[Any]:
    """`raw` getUpdates items with each one python-telegram-bot cannot parse replaced by its bare
    update id (or dropped, when even that is missing)."""
    kept: list[Any] = []
    for item in raw:
        try:
            Update.de_json(item, bot)
            kept.append(item)
            continue
        except Exception as exc:  # whatever the library raises on data it does not expect
            reason = type(exc).__name__
        update_id = item.get("update_id") if isinstance(item, dict) else None
        if isinstance(update_id, int) and not isinstance(update_id, bool):
            warnings.warn("skipped unreadable update %s (%s)", update_id, reason)
            kept.append({"update_id": update_id})
        else:
            warnings.warn("dropped an update without an id (%s)", reason)
    return kept


class ScreeningBot(ExtBot[Any]):
    """`ExtBot` whose getUpdates never fails on one bad update (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._unreadable = BoundedWarnings()

    async def _post(self, endpoint: str, data: Any = None, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, data, **kwargs)
        if endpoint == "getUpdates" and isinstance(result, list):
            return readable_updates(result, self, self._unreadable)
        return result


async def connect(application: Application, stop: asyncio.Event) -> bool:  # type: ignore[type-arg]
    """Initialise (getMe) until Telegram answers, waiting longer each time; False if stopped."""
    delay = 1.0
    while not stop.is_set():
        try:
            await application.initialize()
            return True
        except InvalidToken as exc:
            raise SettingsError(
                "Telegram no acepta TELEGRAM_BOT_TOKEN: compruébelo con @BotFather."
            ) from exc
        except (NetworkError, OSError) as exc:
            log.warning(
                "Telegram is unreachable (%s); retrying in %.0f s", type(exc).__name__, delay
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(delay * 2, MAX_RETRY_SECONDS)
    return False


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGINT and SIGTERM set `stop` (the runners then shut down in order)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def start_polling(application: Application) -> None:  # type: ignore[type-arg]
    """post_init, start, then poll (an initialised application; tests start the bot this way)."""
    await _start(application)
    await _poll(application)


async def _start(application: Application) -> None:  # type: ignore[type-arg]
    if application.post_init is not None:
        await application.post_init(application)
    await application.start()


async def _poll(application: Application) -> None:  # type: ignore[type-arg]
    warnings = BoundedWarnings()

    def polling_failed(exc: TelegramError) -> None:  # the updater backs off by itself (≤ 30 s)
        warnings.warn("polling Telegram failed: %s", type(exc).__name__)

    assert application.updater is not None  # built by ApplicationBuilder in bot/app.py
    await application.updater.start_polling(
        poll_interval=0.0,
        timeout=POLL_TIMEOUT,
        bootstrap_retries=-1,
        allowed_updates=list(ALLOWED_UPDATES),
        error_callback=polling_failed,
    )


async def _stop(application: Application) -> None:  # type: ignore[type-arg]
    """Stop polling, the handlers, then our own machinery (post_shutdown)."""
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)


async def stop_application(application: Application) -> None:  # type: ignore[type-arg]
    """`_stop`, then the HTTP clients (what `async with application` does on the way out)."""
    await _stop(application)
    await application.shutdown()


@contextlib.asynccontextmanager
async def serving(application: Application, stop: asyncio.Event) -> AsyncIterator[bool]:  # type: ignore[type-arg]
    """The one lifecycle of both modes: wait for Telegram, then `async with application` (whose
    exit shuts the HTTP clients down) around post_init and start; on the way out `_stop`.
    Yields False, having shut our machinery down, if `stop` came before Telegram answered."""
    if not await connect(application, stop):  # initialize(), retried: `async with` won't redo it
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
        yield False
        return
    async with application:
        await _start(application)
        try:
            yield True
        finally:
            await _stop(application)


async def serve_polling(application: Application) -> None:  # type: ignore[type-arg]
    """`acuerdo bot`: wait for Telegram, poll until SIGINT/SIGTERM, stop cleanly."""
    stop = asyncio.Event()
    stop_on_signals(stop)
    async with serving(application, stop) as ready:
        if ready:
            await _poll(application)
            log.info("polling Telegram for %s", ", ".join(ALLOWED_UPDATES))
            await stop.wait()
