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
from telegram.ext import Application, CallbackQueryHandler

from acuerdo.bot import keyboards, render
from acuerdo.bot.handlers import answer_question, show_passage
from acuerdo.bot.services import BotContext, BotServices, services
from acuerdo.index import Answer, NotFoundError

INVALID_BUTTON = "Este botón ya no es válido."
# One message for an unknown answer and for somebody else's: a forged id reveals nothing.
NOT_YOURS = (
    "Ese botón no está disponible: solo quien hizo la pregunta puede usarlo. "
    "Escríbame su propia pregunta, por favor."
)
PASSAGE_GONE = "Ese pasaje ya no está disponible: el documento fue retirado. Vuelva a preguntar."


def register(application: Application) -> None:  # type: ignore[type-arg]
    """One handler per kind of button (see `keyboards.pattern`), then one for anything else."""
    add = application.add_handler
    add(CallbackQueryHandler(other_passage, pattern=keyboards.pattern("n", 3)))
    add(CallbackQueryHandler(other_passage, pattern=keyboards.pattern("n", 2)))  # older buttons
    add(CallbackQueryHandler(feedback, pattern=keyboards.pattern("f", 3)))
    add(CallbackQueryHandler(example, pattern=keyboards.pattern("ex", 1)))
    add(CallbackQueryHandler(passage, pattern=keyboards.pattern("p", 1)))
    add(CallbackQueryHandler(invalid))  # registered last: old, forged or malformed buttons


async def _asked_in(query: CallbackQuery) -> int | None:
    """The chat of the message under the button: answers belong to whoever asked them there.
    Without one (too old a message), the press gets the same reply as someone else's answer."""
    if query.message is None:
        await query.answer(NOT_YOURS)
        return None
    return query.message.chat.id


async def other_passage(update: Update, context: BotContext) -> None:
    """`n:<query id>:<position>:<passage id>`: «Otro pasaje» / «Anterior» (buttons sent before
    the passage id was added carry only the position)."""
    query = update.callback_query
    if query is None:
        return
    chat_id = await _asked_in(query)
    if chat_id is None:
        return
    message = query.message if isinstance(query.message, Message) else None
    args = keyboards.button_args(query.data, 3) or keyboards.button_args(query.data, 2)
    if args is None:
        await query.answer(INVALID_BUTTON)
        return
    await _other_passage(
        query, message, services(context), args, user_id=query.from_user.id, chat_id=chat_id
    )


async def feedback(update: Update, context: BotContext) -> None:
    """`f:<query id>:<passage id>:<1 helpful|0 not>`: 👍 / 👎."""
    query = update.callback_query
    if query is None:
        return
    chat_id = await _asked_in(query)
    if chat_id is None:
        return
    args = keyboards.button_args(query.data, 3)
    if args is None or args[2] not in (0, 1):
        await query.answer(INVALID_BUTTON)
        return
    qid, passage_id, helpful = args
    stored = await asyncio.to_thread(
        functools.partial(
            services(context).library.feedback,
            qid,
            user_id=query.from_user.id,
            chat_id=chat_id,
            helpful=bool(helpful),
            passage_id=passage_id,
        )
    )
    await query.answer("¡Gracias por su valoración!" if stored else NOT_YOURS)


async def example(update: Update, context: BotContext) -> None:
    """`ex:<n>`: ask the n-th example question of /start."""
    query = update.callback_query
    if query is None:
        return
    args = keyboards.button_args(query.data, 1)
    examples = services(context).examples
    if args is None or not 0 <= args[0] < len(examples):
        await query.answer(INVALID_BUTTON)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await answer_question(query.message, context, examples[args[0]], asker=query.from_user.id)


async def passage(update: Update, context: BotContext) -> None:
    """`p:<passage id>`: show that passage in place of the message."""
    query = update.callback_query
    if query is None:
        return
    args = keyboards.button_args(query.data, 1)
    if not isinstance(query.message, Message) or args is None:
        await query.answer(INVALID_BUTTON)
        return
    await query.answer()
    await show_passage(query.message, context, args[0], edit=True)


async def invalid(update: Update, context: BotContext) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(INVALID_BUTTON)


async def _other_passage(
    query: CallbackQuery,
    message: Message | None,
    svc: BotServices,
    args: tuple[int, ...],
    *,
    user_id: int,
    chat_id: int,
) -> None:
    """ "Otro pasaje" / "Anterior": the asker's own logged answer at another position.

    The button names the passage it leads to: once a document is removed, the replayed answer
    lacks its passages and positions shift, and the position alone skipped one. When that
    passage is itself gone, the press moves one step from the passage on screen (read from the
    message Telegram sends with the press, not from the forgeable data); with no passage on
    screen to go by, to whatever now stands at the old position."""
    qid, position, *target = args
    try:
        answer = await asyncio.to_thread(
            functools.partial(svc.library.replay, qid, user_id=user_id, chat_id=chat_id)
        )
    except NotFoundError:
        await query.answer(NOT_YOURS)
        return
    if not (answer.answered or answer.tentative):
        # Logged as finding nothing ("No encontré…"): no passage was shown nor any button sent,
        # so the press is forged; its ranked passages are not to be shown as results.
        await query.answer(NOT_YOURS)
        return
    shown = [hit.passage_id for hit in answer.hits]
    if target and target[0] in shown:
        position = shown.index(target[0])
    elif target and (current := _shown_passage(message, qid)) in shown:
        # One step from the passage on screen, in the direction pressed.
        back = _is_previous(message, query.data)
        position = min(max(shown.index(current) + (-1 if back else 1), 0), len(shown) - 1)
    elif target and 0 < len(shown) <= position:
        position = len(shown) - 1
    if not 0 <= position < len(answer.hits):
        await query.answer(PASSAGE_GONE, show_alert=True)
        return
    await query.answer()
    await _edit_answer(message, answer, position)


def _markup_buttons(message: Message | None) -> list[tuple[str, str]]:
    markup = message.reply_markup if message is not None else None
    rows = markup.inline_keyboard if markup is not None else ()
    return [(b.text, str(b.callback_data)) for row in rows for b in row if b.callback_data]


def _shown_passage(message: Message | None, qid: int) -> int | None:
    """The passage on screen: the one the message's own 👍 button (`f:<qid>:<passage>:1`) rates."""
    for _, data in _markup_buttons(message):
        decoded = keyboards.decode(data)
        if decoded and decoded.kind == "f" and len(decoded.args) == 3 and decoded.args[0] == qid:
            return decoded.args[1]
    return None


def _is_previous(message: Message | None, data: str | None) -> bool:
    return any(text.startswith("◀") and d == data for text, d in _markup_buttons(message))


async def _edit_answer(message: object, answer: Answer, position: int) -> None:
    # Only an answer that quoted a passage pages through its passages; a tentative one stays
    # introduced as the closest passage on every page.
    if not isinstance(message, Message) or not answer.shows_passage:
        return
    position = max(0, min(position, len(answer.hits) - 1))
    try:
        await message.edit_text(
            render.answer_html(answer, position=position),
            parse_mode=ParseMode.HTML,
            reply_markup=keyboards.answer_keyboard(
                answer, position=position, share=message.chat.type == ChatType.PRIVATE
            ),
            disable_web_page_preview=True,
        )
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():  # a double tap on the same button
            raise
