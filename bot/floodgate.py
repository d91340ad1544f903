"""Private messages past a per-user pace get no reply, so one flood cannot delay everyone.

Every private message is answered (a sticker with "solo puedo responder preguntas escritas",
an unknown command with a pointer to /ayuda…), and Telegram's ~30 messages a second are shared
by all chats: 300 stickers from one person held another person's reply back for 9 s. Questions
have their own, stricter allowance with its warning (bot/handlers.py); this one counts every
private message at twice that pace, warns once, then drops the rest until the window moves.
Admins are exempt: they may upload a batch of documents.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from acuerdo.bot.ratelimit import wait_words
from acuerdo.bot.services import BotContext, services

log = logging.getLogger("acuerdo.bot")

WARNING = "Está enviando muchos mensajes seguidos. Espere {wait} y vuelva a escribirme, por favor."


async def flood_gate(update: Update, context: BotContext) -> None:
    """Runs before every other handler (group -1); stops the update when its sender floods."""
    message = update.message
    if message is None or message.chat.type != ChatType.PRIVATE or message.from_user is None:
        return
    svc = services(context)
    user_id = message.from_user.id
    if svc.is_admin(user_id) or svc.chatter.allow(user_id):
        return
    wait = svc.chatter.retry_in(user_id)
    warn = svc.chatter.first_refusal(user_id)
    if warn and message.text and not message.text.startswith("/"):
        # A question: warned about already if the question allowance refused one in this
        # window (its own warning); else this is the only word the sender gets, so it names
        # the wait until questions are allowed again (the allowance now counts as warned).
        warn = svc.limiter.first_refusal(user_id)
        wait = max(wait, svc.limiter.retry_in(user_id))
    if warn:
        try:
            await message.reply_text(WARNING.format(wait=wait_words(wait)))
        except TelegramError as exc:
            # Raised on, the message would go on to the other handlers: an apology, a reply.
            log.warning("could not send the pace warning: %s", type(exc).__name__)
    raise ApplicationHandlerStop
