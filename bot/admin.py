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
import math
import secrets
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from html import escape
from pathlib import PurePath
from typing import Any

from telegram import CallbackQuery, Document, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import keyboards, render
from bot.services import BotServices, services
from index import (
    SUPPORTED_EXTENSIONS,
    AcuerdoError,
    AddResult,
    DocumentError,
    DocumentInfo,
    DocumentTooLargeError,
    UnsupportedFormatError,
)
from index.ingest import prepare_document
from index.loaders import safe_file_name

log = logging.getLogger("acuerdo.bot.admin")

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]

ADMIN_COMMANDS = ("documentos", "borrar", "reindex", "estadisticas")
# Telegram throttles bots that edit a message faster than about once a second.
EDIT_INTERVAL = 1.0
# Each pending upload holds the file's bytes (up to 20 MB) until an admin answers.
MAX_PENDING_UPLOADS = 5
PENDING_TTL_SECONDS = 3600.0
_MB = 1024 * 1024

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
UPLOAD_EXPIRED = (
    "Esa subida ya no está disponible (quizá me reinicié o pasó demasiado tiempo). "
    "Vuelva a enviar el archivo, por favor."
)
INVALID_BUTTON = "Este botón ya no es válido."
QUEUED = "⏳ En cola: espero a que termine otra indexación…"
FAILED = (
    "Lo siento, algo salió mal y no he cambiado nada. Inténtelo de nuevo en un momento; "
    "si vuelve a fallar, revise los registros del bot."
)
DOWNLOAD_FAILED = "No pude descargar el archivo de Telegram. Vuelva a enviarlo, por favor."
DELETE_USAGE = "Indique el id del documento, por ejemplo: /borrar 3. Los ids salen en /documentos."

# Telegram may omit the file name; the MIME type then tells which reader to use.
_MIME_EXTENSIONS = {
    "text/plain": ".txt",
    "text/markdown": ".md",
    "application/pdf": ".pdf",
    "text/html": ".html",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}


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
    add(CallbackQueryHandler(button, pattern=r"^(up|del):"))


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
    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        user_id = user.id if user is not None else None
        if services(context).is_admin(user_id):
            await handler(update, context)
            return
        _log_refusal(user_id, _attempt(update))
        if update.effective_message is not None:
            await update.effective_message.reply_text(refusal)

    return guarded


async def command_in_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admin commands in groups: point to the private chat (and log non-admins)."""
    user = update.effective_user
    user_id = user.id if user is not None else None
    if not services(context).is_admin(user_id):
        _log_refusal(user_id, _attempt(update) + " in a group")
    if update.effective_message is not None:
        await update.effective_message.reply_text(PRIVATE_ONLY)


# -- status messages ------------------------------------------------------------------------------


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
async def _reporting(status: StatusMessage, progress: Progress) -> AsyncIterator[None]:
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


def _job_lock(context: ContextTypes.DEFAULT_TYPE) -> asyncio.Lock:
    """One embedding job at a time: two would fight questions for the same two cores."""
    lock = context.bot_data.get("admin_job_lock")
    if not isinstance(lock, asyncio.Lock):
        lock = context.bot_data["admin_job_lock"] = asyncio.Lock()
    return lock


async def _reporting_errors(status: StatusMessage, job: Awaitable[None]) -> None:
    """Run `job`; a library error's message (already in Spanish) or an apology ends `status`."""
    try:
        await job
    except AcuerdoError as exc:
        await status.show(f"⚠️ {escape(str(exc))}", final=True)
    except Exception:
        log.exception("admin job failed")
        await status.show(FAILED, final=True)


# -- uploads --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingUpload:
    """A downloaded file waiting for the admin to say whether it replaces its namesake."""

    name: str
    data: bytes
    title: str
    replace_id: int | None
    created: float


def _size(size: int) -> str:
    return f"{math.ceil(size * 10 / _MB) / 10:.1f}".replace(".", ",")


def _check_size(size: int | None, limit: int) -> None:
    if size is not None and size > limit:
        raise DocumentTooLargeError(
            f"El archivo ocupa {_size(size)} MB y el máximo que puedo descargar es "
            f"{_size(limit)} MB. Divídalo en partes más pequeñas y envíelas por separado."
        )


def _upload_name(document: Document) -> str:
    """The sanitised file name, refused before downloading when its type is unsupported."""
    raw = document.file_name or "documento" + _MIME_EXTENSIONS.get(document.mime_type or "", "")
    name = safe_file_name(raw)  # no folders or control characters; DocumentError if none remain
    if PurePath(name).suffix.lower() not in SUPPORTED_EXTENSIONS:
        listed = ", ".join(SUPPORTED_EXTENSIONS[:-1]) + f" y {SUPPORTED_EXTENSIONS[-1]}"
        raise UnsupportedFormatError(
            f"No puedo leer «{name}»: los formatos admitidos son {listed}. Guarde el documento "
            "en uno de ellos (por ejemplo, como PDF o DOCX) y vuelva a enviarlo."
        )
    return name


async def _download(document: Document, limit: int) -> bytes:
    try:
        file = await document.get_file()
        data = bytes(await file.download_as_bytearray())
    except BadRequest as exc:
        if "too big" in str(exc).lower():
            raise DocumentTooLargeError(
                "Telegram no deja a los bots descargar archivos de más de 20 MB. "
                "Divídalo en partes más pequeñas y envíelas por separado."
            ) from exc
        log.warning("document download refused: %s", type(exc).__name__)
        raise DocumentError(DOWNLOAD_FAILED) from exc
    except TelegramError as exc:
        # Only the type: a network error's text may contain the file URL, token included.
        log.warning("document download failed: %s", type(exc).__name__)
        raise DocumentError(DOWNLOAD_FAILED) from exc
    _check_size(len(data), limit)  # file_size is optional in the update
    return data


def _remember(svc: BotServices, upload: PendingUpload) -> int:
    """Keep `upload` under a fresh token, forgetting stale or surplus ones (they hold bytes)."""
    pending = svc.pending_uploads
    for token, item in list(pending.items()):
        if (
            not isinstance(item, PendingUpload)
            or upload.created - item.created > PENDING_TTL_SECONDS
        ):
            del pending[token]
    while len(pending) >= MAX_PENDING_UPLOADS:
        del pending[next(iter(pending))]  # the oldest: dicts keep insertion order
    # Random, not a counter: after a restart an old button must not hit a newer upload.
    token = secrets.randbelow(900_000) + 100_000
    while token in pending:
        token = secrets.randbelow(900_000) + 100_000
    pending[token] = upload
    return token


def _passages(count: int) -> str:
    return "1 pasaje" if count == 1 else f"{count} pasajes"


def _info_html(info: DocumentInfo) -> str:
    return f"«{escape(info.title)}» (id <code>{info.id}</code>, {_passages(info.passages)})"


def _added_html(result: AddResult, replaced_id: int | None) -> str:
    doc = result.document
    if not result.created:
        return f"ℹ️ Ya tengo este mismo contenido: {_info_html(doc)}. No he cambiado nada."
    what = "reemplazado" if replaced_id is not None else "añadido"
    lines = [
        f"✅ Documento {what}.",
        f"Id: <code>{doc.id}</code>",
        f"Título: {escape(doc.title)}",
        f"Pasajes: {doc.passages}",
    ]
    if replaced_id is not None:
        lines.append(f"El documento <code>{replaced_id}</code> y sus pasajes ya no se usan.")
    return "\n".join(lines)


def _clash_html(namesakes: list[DocumentInfo], replace: DocumentInfo) -> str:
    if len(namesakes) == 1:
        found = f"Ya tengo un documento con ese título: {_info_html(replace)}."
    else:
        found = (
            f"Ya tengo {len(namesakes)} documentos con ese título; «Reemplazar» sustituye "
            f"el más reciente, {_info_html(replace)}."
        )
    return f"{found}\n¿Lo reemplazo con el archivo nuevo o lo añado como otro documento?"


async def receive_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin sent a file: check it, download it, read it, then add it (or ask first)."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    svc = services(context)
    try:  # refuse what we cannot use before spending a download on it
        name = _upload_name(message.document)
        _check_size(message.document.file_size, svc.max_upload_bytes)
    except AcuerdoError as exc:
        await message.reply_text(str(exc))
        return
    caption = " ".join((message.caption or "").split()) or None
    text = f"⏳ Descargando «{escape(name)}»…"
    status = StatusMessage(await message.reply_html(text), text)
    await _reporting_errors(status, _upload(status, context, message.document, name, caption))


async def _upload(
    status: StatusMessage,
    context: ContextTypes.DEFAULT_TYPE,
    document: Document,
    name: str,
    caption: str | None,
) -> None:
    svc = services(context)
    progress = Progress(f"⏳ Descargando «{escape(name)}»…")
    async with _reporting(status, progress):
        data = await _download(document, svc.max_upload_bytes)
        progress.set(f"⏳ Leyendo «{escape(name)}»…")
        prepared = await asyncio.to_thread(prepare_document, name, data, title=caption)
        same = await asyncio.to_thread(svc.library.document_with_content, prepared.sha256)
        namesakes = (
            [] if same else await asyncio.to_thread(svc.library.documents_titled, prepared.title)
        )
    if same is not None:
        await status.show(_added_html(AddResult(same, created=False), None), final=True)
        return
    if not namesakes:
        await _add(status, context, PendingUpload(name, data, prepared.title, None, 0.0), None)
        return
    replace = max(namesakes, key=lambda d: d.id)  # the newest namesake
    upload = PendingUpload(name, data, prepared.title, replace.id, time.monotonic())
    token = _remember(svc, upload)
    await status.show(
        _clash_html(namesakes, replace),
        markup=keyboards.upload_choice_keyboard(token),
        final=True,
    )


async def _add(
    status: StatusMessage,
    context: ContextTypes.DEFAULT_TYPE,
    upload: PendingUpload,
    replace_id: int | None,
) -> None:
    """Embed and store off the event loop, showing "N de M pasajes" as it goes."""
    svc = services(context)
    title = escape(upload.title)
    lock = _job_lock(context)
    progress = Progress(QUEUED if lock.locked() else f"⏳ Leyendo «{title}»…")

    def on_progress(done: int, total: int) -> None:  # runs in the worker thread
        verb = "guardando" if done >= total else "calculando vectores"
        progress.set(f"⏳ «{title}»: {verb}, {done} de {total} pasajes…")

    async with _reporting(status, progress), lock:
        result = await asyncio.to_thread(
            svc.library.add_document,  # refreshes the index, so questions see the change
            upload.name,
            upload.data,
            title=upload.title,
            replace_id=replace_id,
            progress=on_progress,
        )
    await status.show(_added_html(result, replace_id if result.created else None), final=True)


# -- buttons --------------------------------------------------------------------------------------


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`up:<token>:<1 replace|2 new|0 cancel>` and `del:<id>:<1 yes|0 no>`."""
    query = update.callback_query
    if query is None:
        return
    if not services(context).is_admin(query.from_user.id):
        _log_refusal(query.from_user.id, f"button {query.data!r}")
        await query.answer(NOT_ADMIN_BUTTON, show_alert=True)
        return
    data = keyboards.decode(query.data)
    message = query.message if isinstance(query.message, Message) else None
    if data is None or message is None or len(data.args) != 2:
        await query.answer(INVALID_BUTTON)
        return
    target, choice = data.args
    if data.kind == "up" and choice in (0, 1, 2):
        await _resolve_upload(query, message, context, target, choice)
    elif data.kind == "del" and choice in (0, 1):
        await _resolve_delete(query, message, context, target, choice)
    else:
        await query.answer(INVALID_BUTTON)


async def _resolve_upload(
    query: CallbackQuery,
    message: Message,
    context: ContextTypes.DEFAULT_TYPE,
    token: int,
    choice: int,
) -> None:
    upload = services(context).pending_uploads.pop(token, None)  # pop: a double tap adds once
    status = StatusMessage(message)
    if not isinstance(upload, PendingUpload):
        await query.answer(UPLOAD_EXPIRED, show_alert=True)
        await status.show(escape(UPLOAD_EXPIRED), final=True)
        return
    await query.answer()
    if choice == 0:
        await status.show("Subida cancelada: no he cambiado nada.", final=True)
        return
    replace_id = upload.replace_id if choice == 1 else None
    await _reporting_errors(status, _add(status, context, upload, replace_id))


# -- commands -------------------------------------------------------------------------------------


async def list_documents(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/documentos: id, title, passages and date of every document."""
    if update.effective_message is None:
        return
    documents = await asyncio.to_thread(services(context).library.documents)
    await update.effective_message.reply_html(render.admin_documents_html(documents))


async def ask_delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
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
        f"¿Borro {_info_html(found)}? Dejaré de citarlo en mis respuestas.",
        reply_markup=keyboards.confirm_keyboard("del", found.id),
    )


async def _resolve_delete(
    query: CallbackQuery,
    message: Message,
    context: ContextTypes.DEFAULT_TYPE,
    document_id: int,
    choice: int,
) -> None:
    await query.answer()
    status = StatusMessage(message)
    if choice == 0:
        await status.show("Cancelado: no he borrado nada.", final=True)
        return

    async def delete() -> None:
        # remove_document refreshes the index, so the next question no longer finds it.
        info = await asyncio.to_thread(services(context).library.remove_document, document_id)
        await status.show(f"🗑 Borrado {_info_html(info)}.", final=True)

    await _reporting_errors(status, delete())


async def reindex(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reindex: re-embed every passage; the old index answers until the new one is swapped in."""
    message = update.effective_message
    if message is None:
        return
    text = "⏳ Reconstruyendo el índice…"
    status = StatusMessage(await message.reply_html(text), text)
    await _reporting_errors(status, _rebuild(status, context))


async def _rebuild(status: StatusMessage, context: ContextTypes.DEFAULT_TYPE) -> None:
    lock = _job_lock(context)
    progress = Progress(QUEUED if lock.locked() else "⏳ Reconstruyendo el índice…")

    def on_progress(done: int, total: int) -> None:  # runs in the worker thread
        progress.set(f"⏳ Reconstruyendo el índice: {done} de {total} pasajes…")

    async with _reporting(status, progress), lock:
        count = await asyncio.to_thread(services(context).library.rebuild, progress=on_progress)
    await status.show(
        f"✅ Índice reconstruido: {count} pasajes. Las preguntas ya usan el índice nuevo.",
        final=True,
    )


async def show_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/estadisticas: questions, share answered, feedback, top unanswered questions."""
    if update.effective_message is None:
        return
    stats = await asyncio.to_thread(services(context).library.stats)
    await update.effective_message.reply_html(render.stats_html(stats))
