"""A bot message edited as a long admin job advances, and the job's error reporting."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import AsyncIterator, Awaitable
from html import escape

from telegram import InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from acuerdo.bot.services import BotContext
from acuerdo.index import (
    AcuerdoError,
)

log = logging.getLogger("acuerdo.bot.admin")

# Telegram throttles bots that edit a message faster than about once a second.
EDIT_INTERVAL = 1.0
QUEUED = "⏳ En cola: espero a que termine otra indexación…"
FAILED = (
    "Lo siento, algo salió mal y no he cambiado nada. Inténtelo de nuevo en un momento; "
    "si vuelve a fallar, revise los registros del bot."
)


class StatusMessage:
    """One bot message edited as a job advances: never the same text twice in a row, and at
    most one edit per EDIT_INTERVAL (final edits wait for their turn, progress edits skip it)."""

    def __init__(self, message: Message, text: str | None = None) -> None:
        self.message = message
        self._text = text
        self._last_edit = -math.inf

    async def show(
        self, text: str, *, markup: InlineKeyboardMarkup | None = None, final: bool = False
    ) -> None:
        if text == self._text and markup is None:
            return
        wait = self._last_edit + EDIT_INTERVAL - time.monotonic()
        if wait > 0:
            if not final:
                return
            await asyncio.sleep(wait)
        try:
            await self.message.edit_text(
                text, parse_mode=ParseMode.HTML, reply_markup=markup, disable_web_page_preview=True
            )
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                pass
            elif final:  # e.g. the admin deleted the status message: the outcome still matters
                await self.message.reply_html(text, reply_markup=markup)
            else:
                raise
        self._text = text
        self._last_edit = time.monotonic()


class Progress:
    """The status line a job wants shown. Worker threads write it, the reporting task reads it."""

    def __init__(self, text: str) -> None:
        self._lock = threading.Lock()
        self._text = text

    def set(self, text: str) -> None:
        with self._lock:
            self._text = text

    def get(self) -> str:
        with self._lock:
            return self._text


@contextlib.asynccontextmanager
async def reporting(status: StatusMessage, progress: Progress) -> AsyncIterator[None]:
    """Show `progress` on `status` every EDIT_INTERVAL while the block runs."""
    stop = asyncio.Event()

    async def tick() -> None:
        while True:
            try:
                await asyncio.wait_for(stop.wait(), EDIT_INTERVAL)
                return
            except TimeoutError:
                pass
            try:
                await status.show(progress.get())
            except TelegramError as exc:  # cosmetic: the final edit still reports the outcome
                log.debug("progress edit failed: %s", type(exc).__name__)

    task = asyncio.create_task(tick())
    try:
        yield
    finally:
        # Stop politely rather than cancel, so an edit in flight cannot land after the final one.
        stop.set()
        await task


def job_lock(context: BotContext) -> asyncio.Lock:
    """One embedding job at a time: two would fight questions for the same two cores."""
    return context.bot_data.job_lock


async def reporting_errors(status: StatusMessage, job: Awaitable[None]) -> None:
    """Run `job`; a library error's message (already in Spanish) or an apology ends `status`."""
    try:
        await job
    except AcuerdoError as exc:
        await status.show(f"⚠️ {escape(str(exc))}", final=True)
    except Exception:
        log.exception("admin job failed")
        await status.show(FAILED, final=True)
