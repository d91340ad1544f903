"""The background sender: delivers the outbox's notifications while the bot runs.

Started in `post_init`, cancelled in `post_shutdown`. Every replica runs one; the outbox hands
each notification to one of them (index/outbox.py). Sends are marked bulk, so replies to users go
first (bot/priority.py), and no chat gets more than one message a second. A 429 holds back only
the chat it was about, for `retry_after`; other chats' notifications go on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from telegram.constants import ParseMode
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from acuerdo.bot import render
from acuerdo.bot.keyboards import follow_keyboard
from acuerdo.bot.priority import BULK
from acuerdo.index import Outbox, OutgoingNotification, Subscriptions

log = logging.getLogger("acuerdo.bot")

PER_CHAT_SECONDS = 1.0  # Telegram: about one message a second to the same chat
MAX_BACKOFF_SECONDS = 300.0


class Notifier:
    """Claims due notifications in batches and sends them."""

    def __init__(
        self,
        bot: ExtBot[Any],
        outbox: Outbox,
        subscriptions: Subscriptions,
        *,
        poll_seconds: float = 1.0,
        batch: int = 50,
        backoff_seconds: float = 2.0,
    ) -> None:
        self._bot = bot
        self._outbox = outbox
        self._subscriptions = subscriptions
        self._poll = poll_seconds
        self._batch = batch
        self._backoff = backoff_seconds
        self._chat_free: dict[int, float] = {}

    async def run(self) -> None:
        """Forever: claim, send, record; idle for `poll_seconds` when nothing is due."""
        while True:
            try:
                batch = await asyncio.to_thread(self._outbox.claim, self._batch)
            except Exception:
                log.warning("could not read the notification outbox; retrying", exc_info=True)
                await asyncio.sleep(self._poll)
                continue
            if not batch:
                await asyncio.sleep(self._poll)
                continue
            await asyncio.gather(*(self._deliver(note) for note in batch))
            self._forget_idle_chats()

    async def _deliver(self, note: OutgoingNotification) -> None:
        await self._wait_for_chat(note.chat_id)
        try:
            await self._bot.send_message(
                note.chat_id,
                render.notification_html(note),
                parse_mode=ParseMode.HTML,
                reply_markup=follow_keyboard(note, bot_username=self._bot.username),
                disable_web_page_preview=True,
                rate_limit_args=BULK,
            )
        except Forbidden as exc:  # blocked, kicked from the group, deactivated
            removed = await asyncio.to_thread(self._subscriptions.forget_chat, note.chat_id)
            await asyncio.to_thread(self._outbox.dropped, note.id, f"403 {exc}")
            log.info(
                "chat %d refused our messages (%s): %d subscriptions removed",
                note.chat_id,
                exc,
                removed,
            )
        except RetryAfter as exc:
            wait = _seconds(exc)
            free = self._chat_free.get(note.chat_id, 0.0)
            self._chat_free[note.chat_id] = max(free, time.monotonic() + wait)
            await asyncio.to_thread(self._outbox.postpone, note.id, wait)
            log.warning(
                "Telegram asked to wait %.0f s; notification %d to chat %d postponed",
                wait,
                note.id,
                note.chat_id,
            )
        except (TelegramError, OSError) as exc:
            backoff = min(self._backoff * 2 ** (note.attempts - 1), MAX_BACKOFF_SECONDS)
            await asyncio.to_thread(self._outbox.failed, note, repr(exc), backoff=backoff)
        else:
            await asyncio.to_thread(self._outbox.sent, note.id)

    async def _wait_for_chat(self, chat_id: int) -> None:
        now = time.monotonic()
        turn = max(now, self._chat_free.get(chat_id, 0.0))
        self._chat_free[chat_id] = turn + PER_CHAT_SECONDS
        if turn > now:
            await asyncio.sleep(turn - now)

    def _forget_idle_chats(self) -> None:
        if len(self._chat_free) > 50_000:
            now = time.monotonic()
            self._chat_free = {c: t for c, t in self._chat_free.items() if t > now}


def _seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return float(value if isinstance(value, int | float) else value.total_seconds())
