"""What the handlers share, built once per application: `context.bot_data`, typed.

PTB creates `bot_data` itself, with no arguments, from `ContextTypes(bot_data=…)`; `bot_data_type`
hands it a class whose instances already hold the services, so no handler has to look a key up
or check that it is there.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from acuerdo.bot.notifier import Notifier
from acuerdo.bot.ratelimit import UserRateLimiter
from acuerdo.bot.worker import EncoderWorker
from acuerdo.index import Library

log = logging.getLogger("acuerdo.bot")

EXAMPLE_QUESTIONS = (
    "¿Qué dijeron sobre el fentanilo?",
    "¿Qué harán con los cárteles?",
    "¿Qué nombre tiene el programa de cooperación?",
)


@dataclass
class BotServices:
    """The library plus the bot's own machinery (encoder queue, rate limits, admins)."""

    library: Library
    worker: EncoderWorker
    limiter: UserRateLimiter
    admin_ids: frozenset[int]
    # Every private message, questions included (bot/floodgate.py); a default for tests' sake.
    chatter: UserRateLimiter = field(default_factory=lambda: UserRateLimiter(40))
    examples: tuple[str, ...] = EXAMPLE_QUESTIONS
    max_upload_bytes: int = 20 * 1024 * 1024
    pending_uploads: dict[int, object] = field(default_factory=dict)
    # (chat id, message id) of confirmations whose answer is being carried out: the second press
    # of a double tap must not report the first one's work as failed.
    confirmations_in_progress: set[tuple[int, int]] = field(default_factory=set)

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.admin_ids


@dataclass
class BotData:
    """`context.bot_data`: the services and the application's own background machinery."""

    services: BotServices
    notifier: Notifier
    poll_seconds: float = 2.0
    # One embedding job at a time: two would fight questions for the same two cores.
    job_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)  # started by post_init


def bot_data_type(
    services: BotServices, notifier: Notifier, *, poll_seconds: float
) -> type[BotData]:
    """A `BotData` class PTB can instantiate without arguments, bound to these services."""

    class ApplicationData(BotData):
        def __init__(self) -> None:
            super().__init__(services, notifier, poll_seconds)

    return ApplicationData


BotContext = CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]
"""The context every handler receives (`ContextTypes(bot_data=…)` in bot/app.py)."""


def context_types(
    data: type[BotData],
) -> ContextTypes[BotContext, dict[Any, Any], dict[Any, Any], BotData]:
    return ContextTypes(bot_data=data)


def services(context: BotContext) -> BotServices:
    """The services `build_application` bound to this application."""
    return context.bot_data.services
