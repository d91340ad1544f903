"""Admin handlers: uploads, /documentos, /borrar, /reindex, /estadisticas (see issue 4).

Admins are the user ids in TELEGRAM_ADMIN_IDS, and these handlers act only in private chats.
Long jobs (embedding a document, rebuilding the index) run in a worker thread so that everybody
else's questions keep being answered, and report progress by editing one status message.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from telegram import CallbackQuery, Message, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from acuerdo.bot import keyboards, render
from acuerdo.bot.services import BotContext, services
from acuerdo.bot.status import (
    QUEUED,
    Progress,
    StatusMessage,
    job_lock,
    reporting,
    reporting_errors,
)
from acuerdo.bot.uploads import info_html, receive_document, resolve_upload

log = logging.getLogger("acuerdo.bot.admin")

Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]

ADMIN_COMMANDS = ("documentos", "borrar", "reindex", "estadisticas")

NOT_ADMIN_COMMAND = (
    "Lo siento, ese comando es solo para los administradores del bot. "
    "Si tiene una pregunta, escríbamela directamente."
)
NOT_ADMIN_UPLOAD = (
    "Lo siento, solo los administradores pueden añadir documentos. "
    "Si tiene una pregunta, escríbamela como texto."
)
NOT_ADMIN_BUTTON = "Lo siento, ese botón es solo para los administradores."
PRIVATE_ONLY = "Los comandos de administración solo funcionan en un chat privado conmigo."
INVALID_BUTTON = "Este botón ya no es válido."
STILL_WORKING = "Un momento: sigo con su respuesta anterior a esta pregunta."
DELETE_USAGE = "Indique el id del documento, por ejemplo: /borrar 3. Los ids salen en /documentos."


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add the admin handlers (before the generic user handlers, so these win)."""
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    groups = filters.ChatType.GROUPS & filters.UpdateType.MESSAGE
    add = application.add_handler
    add(CommandHandler("documentos", _admin_only(list_documents), filters=private))
    add(CommandHandler("borrar", _admin_only(ask_delete), filters=private))
    add(CommandHandler("reindex", _admin_only(reindex), filters=private))
    add(CommandHandler("estadisticas", _admin_only(show_stats), filters=private))
    add(CommandHandler(list(ADMIN_COMMANDS), command_in_group, filters=groups))
    # Every document sent in private is ours; in groups files are ordinary chatter.
    add(
        MessageHandler(
            private & filters.Document.ALL, _admin_only(receive_document, NOT_ADMIN_UPLOAD)
        )
    )
    add(CallbackQueryHandler(upload_button, pattern=keyboards.pattern("up", 2)))
    add(CallbackQueryHandler(delete_button, pattern=keyboards.pattern("del", 3)))
    # Anything else of theirs (e.g. `del:<id>:<choice>`, from before confirmations carried the
    # content hash) is refused here rather than by the user-facing buttons' catch-all.
    add(CallbackQueryHandler(invalid_button, pattern=r"^(up|del):"))


# -- who may do what ------------------------------------------------------------------------------


def _log_refusal(user_id: int | None, attempt: str) -> None:
    # Ids and the attempt only: never message contents, file URLs or anything with the token.
    log.warning("refused %s from non-admin user %s", attempt, user_id)


def _attempt(update: Update) -> str:
    message = update.effective_message
    if message is not None and message.document is not None:
        return "a document upload"
    text = (message.text or "") if message is not None else ""
    return f"command {text.split(maxsplit=1)[0][:40]!r}" if text else "an admin action"


def _admin_only(handler: Handler, refusal: str = NOT_ADMIN_COMMAND) -> Handler:
    """Run `handler` for admins; everybody else gets `refusal` and a warning in the log."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: BotContext) -> None:
        user = update.effective_user
        user_id = user.id if user is not None else None
        if services(context).is_admin(user_id):
            await handler(update, context)
            return
        _log_refusal(user_id, _attempt(update))
        if update.effective_message is not None:
            await update.effective_message.reply_text(refusal)

    return guarded


async def command_in_group(update: Update, context: BotContext) -> None:
    """Admin commands in groups: point to the private chat (and log non-admins)."""
    user = update.effective_user
    user_id = user.id if user is not None else None
    if not services(context).is_admin(user_id):
        _log_refusal(user_id, _attempt(update) + " in a group")
    if update.effective_message is not None:
        await update.effective_message.reply_text(PRIVATE_ONLY)


# -- buttons --------------------------------------------------------------------------------------


async def _admin_press(update: Update, context: BotContext) -> tuple[CallbackQuery, Message] | None:
    """The press and its message when an admin pressed; otherwise answered here, and None."""
    query = update.callback_query
    if query is None:
        return None
    if not services(context).is_admin(query.from_user.id):
        _log_refusal(query.from_user.id, f"button {query.data!r}")
        await query.answer(NOT_ADMIN_BUTTON, show_alert=True)
        return None
    if not isinstance(query.message, Message):
        await query.answer(INVALID_BUTTON)
        return None
    return query, query.message


@contextlib.contextmanager
def _answering(context: BotContext, message: Message) -> Iterator[bool]:
    """True while no other press on this confirmation is being carried out. A double tap comes
    as two presses at once: the second would find the upload taken or the document gone and
    report that ("Esa subida ya no está disponible", "No existe ningún documento") over the
    first one's work. A press after the first is done is answered as before."""
    busy = services(context).confirmations_in_progress
    key = (message.chat.id, message.message_id)
    if key in busy:
        yield False
        return
    busy.add(key)
    try:
        yield True
    finally:
        busy.discard(key)


async def upload_button(update: Update, context: BotContext) -> None:
    """`up:<token>:<1 replace|2 new|0 cancel>`."""
    pressed = await _admin_press(update, context)
    if pressed is None:
        return
    query, message = pressed
    args = keyboards.button_args(query.data, 2)
    if args is None or args[1] not in (0, 1, 2):
        await query.answer(INVALID_BUTTON)
        return
    token, choice = args
    with _answering(context, message) as first:
        if first:
            await resolve_upload(query, message, context, token, choice)
        else:
            await query.answer(STILL_WORKING)


async def delete_button(update: Update, context: BotContext) -> None:
    """`del:<id>:<content tag>:<1 yes|0 no>`; bound to the content, not only the id, so a stale
    confirmation never removes another document."""
    pressed = await _admin_press(update, context)
    if pressed is None:
        return
    query, message = pressed
    args = keyboards.button_args(query.data, 3)
    if args is None or args[2] not in (0, 1):
        await query.answer(INVALID_BUTTON)
        return
    document_id, tag, choice = args
    with _answering(context, message) as first:
        if first:
            await _resolve_delete(query, message, context, document_id, tag, choice)
        else:
            await query.answer(STILL_WORKING)


async def invalid_button(update: Update, context: BotContext) -> None:
    pressed = await _admin_press(update, context)
    if pressed is not None:
        await pressed[0].answer(INVALID_BUTTON)


# -- commands -------------------------------------------------------------------------------------


async def list_documents(update: Update, context: BotContext) -> None:
    """/documentos: id, title, passages and date of every document."""
    if update.effective_message is None:
        return
    documents = await asyncio.to_thread(services(context).library.documents)
    await update.effective_message.reply_html(render.admin_documents_html(documents))


async def ask_delete(update: Update, context: BotContext) -> None:
    """/borrar <id>: confirm with buttons before removing anything."""
    message = update.effective_message
    if message is None:
        return
    args = context.args or []
    if len(args) != 1 or not args[0].isdecimal():
        await message.reply_text(DELETE_USAGE)
        return
    document_id = int(args[0])
    documents = await asyncio.to_thread(services(context).library.documents)
    found = next((d for d in documents if d.id == document_id), None)
    if found is None:
        await message.reply_text(
            f"No existe ningún documento con id {document_id}. Los ids salen en /documentos."
        )
        return
    await message.reply_html(
        f"¿Borro {info_html(found)}? Dejaré de citarlo en mis respuestas.",
        reply_markup=keyboards.confirm_keyboard(
            "del", found.id, keyboards.content_tag(found.sha256)
        ),
    )


async def _resolve_delete(
    query: CallbackQuery,
    message: Message,
    context: BotContext,
    document_id: int,
    tag: int,
    choice: int,
) -> None:
    await query.answer()
    status = StatusMessage(message)
    if choice == 0:
        await status.show("Cancelado: no he borrado nada.", final=True)
        return

    async def delete() -> None:
        # remove_document refreshes the index, so the next question no longer finds it.
        info = await asyncio.to_thread(
            functools.partial(
                services(context).library.remove_document,
                document_id,
                sha256_prefix=keyboards.content_prefix(tag),
            )
        )
        await status.show(f"🗑 Borrado {info_html(info)}.", final=True)

    await reporting_errors(status, delete())


async def reindex(update: Update, context: BotContext) -> None:
    """/reindex: re-embed every passage; the old index answers until the new one is swapped in."""
    message = update.effective_message
    if message is None:
        return
    text = "⏳ Reconstruyendo el índice…"
    status = StatusMessage(await message.reply_html(text), text)
    await reporting_errors(status, _rebuild(status, context))


async def _rebuild(status: StatusMessage, context: BotContext) -> None:
    lock = job_lock(context)
    progress = Progress(QUEUED if lock.locked() else "⏳ Reconstruyendo el índice…")

    def on_progress(done: int, total: int) -> None:  # runs in the worker thread
        progress.set(f"⏳ Reconstruyendo el índice: {done} de {total} pasajes…")

    async with reporting(status, progress), lock:
        count = await asyncio.to_thread(services(context).library.rebuild, progress=on_progress)
    await status.show(
        f"✅ Índice reconstruido: {count} pasajes. Las preguntas ya usan el índice nuevo.",
        final=True,
    )


async def show_stats(update: Update, context: BotContext) -> None:
    """/estadisticas: questions, share answered, feedback, top unanswered questions."""
    if update.effective_message is None:
        return
    stats = await asyncio.to_thread(services(context).library.stats)
    await update.effective_message.reply_html(render.stats_html(stats))
