"""What the handlers need, built once per application and kept in `bot_data`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from telegram.ext import ContextTypes

from bot.ratelimit import UserRateLimiter
from bot.worker import EncoderWorker
from index import Library

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
    examples: tuple[str, ...] = EXAMPLE_QUESTIONS
    max_upload_bytes: int = 20 * 1024 * 1024
    pending_uploads: dict[int, object] = field(default_factory=dict)

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.admin_ids


def services(context: ContextTypes.DEFAULT_TYPE) -> BotServices:
    """The services stored by `build_application`."""
    found = context.bot_data["services"]
    assert isinstance(found, BotServices)
    return found
