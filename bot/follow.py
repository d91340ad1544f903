"""/seguir, /siguiendo, /dejar and the «Dejar de seguir» buttons.

A subscription belongs to a chat: a user's private chat, or a group, which only that group's
admins may subscribe or unsubscribe (asked of Telegram each time, never remembered). Button data
carries a subscription id, accepted only from the chat that owns it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from html import escape

from telegram import Chat, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from acuerdo.bot import keyboards, render
from acuerdo.bot.services import BotContext, services
from acuerdo.index import EVERYTHING, NotFoundError, TopicError

log = logging.getLogger("acuerdo.bot")

EXPLAIN = (
    "Con /seguir <tema> le aviso cuando un documento nuevo hable de ese tema, citando el pasaje "
    "(por ejemplo: /seguir tráfico de armas). Con /seguir todo le aviso de cada documento nuevo. "
    "Vea sus temas con /siguiendo y deje uno con /dejar <número>."
)
GROUP_ADMINS_ONLY = "En un grupo, solo sus administradores pueden cambiar los temas que sigue."
STOPPED = "Listo: ya no sigue «{topic}»."
ANSWER_TOPIC_CHARS = 150
NOT_FOLLOWING = "Ese botón no está disponible: ese tema ya no se sigue en este chat."


def register(application: Application) -> None:  # type: ignore[type-arg]
    new_message = filters.UpdateType.MESSAGE
    add = application.add_handler
    add(CommandHandler("seguir", follow, filters=new_message))
    add(CommandHandler("siguiendo", following, filters=new_message))
    add(CommandHandler("dejar", stop, filters=new_message))
    add(CallbackQueryHandler(stop_button, pattern=rf"^{keyboards.STOP_FOLLOWING}:"))


async def _may_manage(chat: Chat, user_id: int | None, context: BotContext) -> bool:
    """Anyone in their private chat; in a group, its admins (asked of Telegram now)."""
    if chat.type == ChatType.PRIVATE:
        return user_id is not None and user_id == chat.id
    if chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP) or user_id is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat.id, user_id)
    except TelegramError:
        log.warning("could not check admins of chat %d", chat.id, exc_info=True)
        return False
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


async def _allowed(update: Update, context: BotContext) -> Message | None:
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return None
    if message.sender_chat is not None and message.sender_chat.id == chat.id:
        return message  # an anonymous admin writes as the group itself, and only admins can
    user_id = update.effective_user.id if update.effective_user else None
    if not await _may_manage(chat, user_id, context):
        await message.reply_text(GROUP_ADMINS_ONLY)
        return None
    return message


async def follow(update: Update, context: BotContext) -> None:
    """/seguir <tema>, /seguir todo; /seguir alone explains."""
    message = await _allowed(update, context)
    if message is None:
        return
    topic = " ".join(context.args or [])
    if not topic.strip():
        await message.reply_text(EXPLAIN)
        return
    subscriptions = services(context).library.subscriptions
    try:
        added = await asyncio.to_thread(subscriptions.follow, message.chat.id, topic)
    except TopicError as exc:
        await message.reply_text(str(exc))
        return
    if added.everything:
        text = "Hecho: le avisaré de cada documento nuevo. Vea sus temas con /siguiendo."
    else:
        text = (
            f"Hecho: le avisaré cuando un documento nuevo hable de «{escape(added.topic)}». "
            "Vea sus temas con /siguiendo."
        )
    await message.reply_html(text)


async def following(update: Update, context: BotContext) -> None:
    """/siguiendo: the chat's topics with a stop button each."""
    message = update.effective_message
    if message is None:
        return
    subscriptions = services(context).library.subscriptions
    topics = await asyncio.to_thread(subscriptions.followed, message.chat.id)
    await message.reply_html(
        render.followed_html(topics), reply_markup=keyboards.followed_keyboard(topics)
    )


async def stop(update: Update, context: BotContext) -> None:
    """/dejar <n>: stop the n-th topic of /siguiendo."""
    message = await _allowed(update, context)
    if message is None:
        return
    args = context.args or []
    # isdigit() alone lets "²" through, which int() refuses.
    if len(args) != 1 or not (args[0].isascii() and args[0].isdigit()):
        await message.reply_text(
            "Indique el número del tema, por ejemplo: /dejar 1 (vea /siguiendo)."
        )
        return
    subscriptions = services(context).library.subscriptions
    try:
        gone = await asyncio.to_thread(subscriptions.stop_number, message.chat.id, int(args[0]))
    except NotFoundError as exc:
        await message.reply_text(str(exc))
        return
    await message.reply_text(STOPPED.format(topic=_name(gone.topic, gone.everything)))


async def stop_button(update: Update, context: BotContext) -> None:
    """«Dejar de seguir»: only in the chat that owns the subscription, by whoever manages it."""
    query = update.callback_query
    if query is None:
        return
    data = keyboards.decode(query.data)
    message = query.message if isinstance(query.message, Message) else None
    if data is None or len(data.args) != 1 or message is None:
        await query.answer(NOT_FOLLOWING)
        return
    if not await _may_manage(message.chat, query.from_user.id, context):
        await query.answer(GROUP_ADMINS_ONLY, show_alert=True)
        return
    subscriptions = services(context).library.subscriptions
    try:
        gone = await asyncio.to_thread(
            functools.partial(subscriptions.stop, message.chat.id, data.args[0])
        )
    except NotFoundError:
        await query.answer(NOT_FOLLOWING)
        return
    # Telegram refuses a callback answer over 200 UTF-16 units; a topic may be 200 emoji alone.
    name = render.clipped(_name(gone.topic, gone.everything), ANSWER_TOPIC_CHARS)
    await query.answer(STOPPED.format(topic=name), show_alert=True)


def _name(topic: str, everything: bool) -> str:
    return "todos los documentos nuevos" if everything or topic == EVERYTHING else topic
