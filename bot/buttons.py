"""The inline buttons under user-facing messages: other passage, feedback, examples, paragraphs.

Button data can be forged by any Telegram client, so it is never trusted: answers are replayed
and rated only for the person who asked them, in the chat where they asked (index/ownership.py).
"""

from __future__ import annotations

import asyncio
import functools

from telegram import CallbackQuery, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import keyboards, render
from bot.handlers import answer_question, show_passage
from bot.services import BotServices, services
from index import Answer, NotFoundError

INVALID_BUTTON = "Este botón ya no es válido."
# One message for an unknown answer and for somebody else's: a forged id reveals nothing.
NOT_YOURS = (
    "Ese botón no está disponible: solo quien hizo la pregunta puede usarlo. "
    "Escríbame su propia pregunta, por favor."
)
PASSAGE_GONE = "Ese pasaje ya no está disponible: el documento fue retirado. Vuelva a preguntar."


async def callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every inline button of user-facing messages."""
    query = update.callback_query
    if query is None:
        return
    data = keyboards.decode(query.data)
    svc = services(context)
    user_id = query.from_user.id
    message = query.message if isinstance(query.message, Message) else None
    if data is None:
        await query.answer(INVALID_BUTTON)
        return
    if data.kind in ("n", "f"):
        # Answers belong to whoever asked them, in the chat where they asked.
        chat_id = query.message.chat.id if query.message is not None else None
        if chat_id is None:
            await query.answer(NOT_YOURS)
        elif data.kind == "n" and len(data.args) == 2:
            await _other_passage(query, message, svc, data.args, user_id=user_id, chat_id=chat_id)
        elif data.kind == "f" and len(data.args) == 3:
            qid, passage_id, helpful = data.args
            stored = await asyncio.to_thread(
                functools.partial(
                    svc.library.feedback,
                    qid,
                    user_id=user_id,
                    chat_id=chat_id,
                    helpful=bool(helpful),
                    passage_id=passage_id,
                )
            )
            await query.answer("¡Gracias por su valoración!" if stored else NOT_YOURS)
        else:
            await query.answer(INVALID_BUTTON)
    elif data.kind == "ex" and len(data.args) == 1 and 0 <= data.args[0] < len(svc.examples):
        await query.answer()
        if message is not None:
            await answer_question(message, context, svc.examples[data.args[0]], asker=user_id)
    elif data.kind == "p" and len(data.args) == 1 and message is not None:
        await query.answer()
        await show_passage(message, context, data.args[0], edit=True)
    else:
        await query.answer(INVALID_BUTTON)


async def _other_passage(
    query: CallbackQuery,
    message: Message | None,
    svc: BotServices,
    args: tuple[int, ...],
    *,
    user_id: int,
    chat_id: int,
) -> None:
    """ "Otro pasaje" / "Anterior": the asker's own logged answer at another position."""
    qid, position = args
    try:
        answer = await asyncio.to_thread(
            functools.partial(svc.library.replay, qid, user_id=user_id, chat_id=chat_id)
        )
    except NotFoundError:
        await query.answer(NOT_YOURS)
        return
    if not 0 <= position < len(answer.hits):
        await query.answer(PASSAGE_GONE, show_alert=True)
        return
    await query.answer()
    await _edit_answer(message, answer, position)


async def _edit_answer(message: object, answer: Answer, position: int) -> None:
    if not isinstance(message, Message) or not answer.hits:
        return
    position = max(0, min(position, len(answer.hits) - 1))
    # A tentative answer stays introduced as the closest passage on every page.
    text = (
        render.answer_html(answer, position=position)
        if answer.shows_passage
        else render.hit_html(answer.hits[position], position=position, total=len(answer.hits))
    )
    try:
        await message.edit_text(
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboards.answer_keyboard(
                answer, position=position, share=message.chat.type == ChatType.PRIVATE
            ),
            disable_web_page_preview=True,
        )
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():  # a double tap on the same button
            raise
