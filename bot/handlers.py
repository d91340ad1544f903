"""User-facing handlers: parse the update, call the library, render, reply."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest

from acuerdo.bot import keyboards, render
from acuerdo.bot.ratelimit import wait_words
from acuerdo.bot.services import BotContext, services
from acuerdo.bot.telegram_text import telegram_cut
from acuerdo.bot.worker import BusyError
from acuerdo.index import AcuerdoError, EmptyQuestionError, NotFoundError, formats_listed

log = logging.getLogger("acuerdo.bot")

_HAS_WORD = re.compile(r"[^\W_]", re.UNICODE)

HELP_TEXT = (
    "<b>Cómo usarme</b>\n"
    "Escríbame una pregunta en español (o en inglés) sobre los documentos que conozco y le "
    "responderé citando <b>textualmente</b> el pasaje más relevante, con su fuente.\n\n"
    "• «Otro pasaje» muestra el siguiente resultado.\n"
    "• 👍 / 👎 nos ayuda a mejorar.\n"
    "• En grupos: /pregunta &lt;texto&gt;, mencióneme o responda a uno de mis mensajes.\n"
    "• En cualquier chat: escriba @{username} y su búsqueda para compartir una cita.\n\n"
    "/fuentes — documentos que conozco\n/ayuda — esta ayuda"
)

ADMIN_HELP = (
    "\n\n<b>Administración</b> (solo en este chat privado)\n"
    f"Envíeme un archivo {formats_listed(last=' o ')} para indexarlo (el pie de foto es el "
    "título).\n/documentos — documentos indexados\n/borrar &lt;id&gt; — retirar un documento\n"
    "/reindex — recalcular todos los vectores\n/estadisticas — uso y preguntas sin respuesta"
)


async def start(update: Update, context: BotContext) -> None:
    """Greet, say what the bot knows and offer example questions; `/start p<id>` opens a passage."""
    message = update.effective_message
    if message is None:
        return
    if context.args and context.args[0].startswith("p"):
        await show_passage_link(message, context, context.args[0][1:])
        return
    svc = services(context)
    documents = await asyncio.to_thread(svc.library.documents)
    titles = ", ".join(f"«{d.title}»" for d in documents[:3]) or "ningún documento todavía"
    more = f" y {len(documents) - 3} más" if len(documents) > 3 else ""
    first_name = update.effective_user.first_name if update.effective_user else ""
    greeting = f"¡Hola, {render.escape(first_name)}!" if first_name else "¡Hola!"
    text = (
        f"{greeting} Respondo preguntas citando "
        f"textualmente los documentos que conozco: {render.escape(titles)}{more}.\n\n"
        "Escríbame su pregunta o pruebe con uno de estos ejemplos:"
    )
    await message.reply_html(text, reply_markup=keyboards.examples_keyboard(svc.examples))


async def help_command(update: Update, context: BotContext) -> None:
    """/ayuda and /help."""
    if update.effective_message is None:
        return
    username = render.escape(context.bot.username or "bot")
    text = HELP_TEXT.format(username=username)
    user = update.effective_user
    if user is not None and services(context).is_admin(user.id):
        text += ADMIN_HELP
    await update.effective_message.reply_html(text)


async def sources(update: Update, context: BotContext) -> None:
    """/fuentes: documents with titles, dates and a link to their first passage."""
    if update.effective_message is None:
        return
    documents = await asyncio.to_thread(services(context).library.documents)
    await update.effective_message.reply_html(
        render.documents_html(documents, bot_username=context.bot.username),
        disable_web_page_preview=True,
    )


async def private_text(update: Update, context: BotContext) -> None:
    """In a private chat any text is a question."""
    message = update.effective_message
    if message is not None and message.text is not None:
        await answer_question(message, context, message.text)


async def ask_command(update: Update, context: BotContext) -> None:
    """/pregunta <texto> (groups and private chats)."""
    message = update.effective_message
    if message is None:
        return
    question = " ".join(context.args or [])
    if not question.strip():
        await message.reply_text(
            "Escriba la pregunta después del comando, por ejemplo: "
            "/pregunta ¿qué dijeron sobre el fentanilo?"
        )
        return
    await answer_question(message, context, question)


async def group_text(update: Update, context: BotContext) -> None:
    """In groups, answer only when mentioned or when someone replies to the bot."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    bot = context.bot
    replied_to_bot = (
        message.reply_to_message is not None
        and message.reply_to_message.from_user is not None
        and message.reply_to_message.from_user.id == bot.id
    )
    question = _strip_mention(message, bot.username or "", bot.id)
    if question is None and not replied_to_bot:
        return  # ordinary group chatter
    await answer_question(message, context, question if question is not None else message.text)


def _strip_mention(message: Message, username: str, bot_id: int) -> str | None:
    """The text without the bot's @mention, or None when the bot is not mentioned."""
    text = message.text or ""
    found = False
    for entity, value in message.parse_entities(
        [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
    ).items():
        is_us = (
            entity.type == MessageEntity.MENTION and value.lower() == f"@{username.lower()}"
        ) or (
            entity.type == MessageEntity.TEXT_MENTION
            and entity.user is not None
            and entity.user.id == bot_id
        )
        if is_us:
            found = True
            text = text.replace(value, " ")
    return " ".join(text.split()) if found else None


async def answer_question(
    message: Message,
    context: BotContext,
    question: str,
    *,
    asker: int | None = None,
) -> None:
    """Rate-limit, validate, search on the encoder worker, reply with the quote and buttons.

    `asker` is who asked when `message` is not theirs (an example button under a bot message).
    """
    svc = services(context)
    if asker is not None:
        user_id = asker
    elif message.sender_chat is not None:
        # Anonymous group admins all share one 'from' (GroupAnonymousBot) across every group:
        # counted as that, one group's admins would use up every other group's questions.
        user_id = message.sender_chat.id
    else:
        user_id = message.from_user.id if message.from_user else message.chat.id
    if not svc.limiter.allow(user_id):
        if not svc.limiter.first_refusal(user_id):
            return  # already warned in this window: replying to each message feeds the flood
        wait = wait_words(svc.limiter.retry_in(user_id))
        await message.reply_text(
            f"Está enviando muchas preguntas seguidas. Espere {wait} y vuelva "
            "a intentarlo, por favor."
        )
        return
    if not _HAS_WORD.search(question):
        await message.reply_text(_no_words(svc.examples))
        return
    private = message.chat.type == ChatType.PRIVATE
    try:
        answer = await svc.worker.run(
            svc.library.ask,
            question,
            k=5,
            user_id=user_id,
            chat_id=message.chat.id,
            channel="telegram",
        )
    except BusyError as exc:
        await message.reply_text(str(exc))
        return
    except EmptyQuestionError:  # words only inside escape codes ("\x1b[31m"), dropped by ask
        await message.reply_text(_no_words(svc.examples))
        return
    if not answer.shows_passage:
        await message.reply_html(
            render.nothing_found_html(svc.examples if private else ()),
            reply_markup=keyboards.examples_keyboard(svc.examples) if private else None,
        )
        return
    await message.reply_html(
        render.answer_html(answer),
        reply_markup=keyboards.answer_keyboard(answer, position=0, share=private),
        disable_web_page_preview=True,
    )


def _no_words(examples: Sequence[str]) -> str:
    if not examples:
        return "Escríbame una pregunta, por favor."
    return (
        "No veo ninguna palabra en su mensaje. Escríbame una pregunta, por ejemplo: "
        f"«{examples[0]}»"
    )


async def show_passage_link(message: Message, context: BotContext, raw_id: str) -> None:
    """`/start p<id>` from a passage link."""
    if not (raw_id.isascii() and raw_id.isdigit()):  # "²" is a digit to isdigit(), not to int()
        await message.reply_text(
            "Ese enlace no es válido. Consulte /fuentes para ver los documentos."
        )
        return
    await show_passage(message, context, int(raw_id), edit=False)


async def show_passage(
    message: Message, context: BotContext, passage_id: int, *, edit: bool
) -> None:
    """One passage with previous/next paragraph buttons."""
    try:
        view = await asyncio.to_thread(services(context).library.passage, passage_id)
    except NotFoundError:
        await message.reply_text(
            "No encuentro ese pasaje: puede que el documento haya sido retirado. Consulte /fuentes."
        )
        return
    text = render.hit_html(view.hit)
    markup = keyboards.passage_keyboard(view)
    if edit:
        try:
            await message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():  # a double tap on the same button
                raise
    else:
        await message.reply_html(text, reply_markup=markup)


async def not_text(update: Update, context: BotContext) -> None:
    """Stickers, photos, voice notes… in a private chat: say what the bot can do."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            "Solo puedo responder preguntas escritas. "
            "Escríbame su pregunta con palabras, por favor."
        )


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command we do not have, in a private chat."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            "No conozco ese comando. Escriba /ayuda para ver lo que puedo hacer."
        )


async def error_handler(update: object, context: BotContext) -> None:
    """Log the failure (the token is redacted by the logging filter) and apologise."""
    error = context.error
    log.error("error while handling an update: %s", type(error).__name__, exc_info=error)
    if not isinstance(update, Update):
        return
    if isinstance(error, AcuerdoError):
        text = str(error)
    else:
        text = "Lo siento, algo salió mal al procesar su mensaje. Inténtelo de nuevo en un momento."
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(telegram_cut(text, 200), show_alert=True)
        elif update.effective_message is not None and update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, text)
    except Exception:
        log.warning("could not send the apology", exc_info=True)
