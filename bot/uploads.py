"""Documents sent by admins: checked before download, indexed off the event loop, with a
replace-or-add question when a document of the same title exists."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass
from html import escape

from telegram import CallbackQuery, Document, Message, Update
from telegram.error import BadRequest, TelegramError

from acuerdo.bot import keyboards
from acuerdo.bot.services import BotContext, BotServices, services
from acuerdo.bot.status import (
    QUEUED,
    Progress,
    StatusMessage,
    job_lock,
    reporting,
    reporting_errors,
)
from acuerdo.index import (
    AcuerdoError,
    AddResult,
    DocumentError,
    DocumentInfo,
    DocumentTooLargeError,
    PreparedDocument,
    check_download_size,
    upload_name,
)

log = logging.getLogger("acuerdo.bot.admin")

# Each pending upload holds the file's bytes (up to 20 MB) until an admin answers.
MAX_PENDING_UPLOADS = 5
PENDING_TTL_SECONDS = 3600.0
UPLOAD_EXPIRED = (
    "Esa subida ya no está disponible (quizá me reinicié o pasó demasiado tiempo). "
    "Vuelva a enviar el archivo, por favor."
)
DOWNLOAD_FAILED = "No pude descargar el archivo de Telegram. Vuelva a enviarlo, por favor."


@dataclass(frozen=True)
class PendingUpload:
    """A read file waiting for the admin to say whether it replaces its namesake."""

    prepared: PreparedDocument
    replace_id: int | None
    created: float


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
    check_download_size(len(data), limit)  # file_size is optional in the update
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


def info_html(info: DocumentInfo) -> str:
    return f"«{escape(info.title)}» (id <code>{info.id}</code>, {_passages(info.passages)})"


def _added_html(result: AddResult) -> str:
    doc, replaced_id = result.document, result.replaced
    if not result.created:
        return f"ℹ️ Ya tengo este mismo contenido: {info_html(doc)}. No he cambiado nada."
    what = "reemplazado" if replaced_id is not None else "añadido"
    lines = [
        f"✅ Documento {what}.",
        f"Id: <code>{doc.id}</code>",
        f"Título: {escape(doc.title)}",
        f"Pasajes: {doc.passages}",
        f"Avisos a quienes siguen sus temas: {result.notifications}",
    ]
    if replaced_id is not None:
        lines.append(f"El documento <code>{replaced_id}</code> y sus pasajes ya no se usan.")
    return "\n".join(lines)


def _clash_html(namesakes: list[DocumentInfo], replace: DocumentInfo) -> str:
    if len(namesakes) == 1:
        found = f"Ya tengo un documento con ese título: {info_html(replace)}."
    else:
        found = (
            f"Ya tengo {len(namesakes)} documentos con ese título; «Reemplazar» sustituye "
            f"el más reciente, {info_html(replace)}."
        )
    return f"{found}\n¿Lo reemplazo con el archivo nuevo o lo añado como otro documento?"


async def receive_document(update: Update, context: BotContext) -> None:
    """An admin sent a file: check it, download it, read it, then add it (or ask first)."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    svc = services(context)
    try:  # refuse what we cannot use before spending a download on it
        name = upload_name(message.document.file_name, message.document.mime_type)
        check_download_size(message.document.file_size, svc.max_upload_bytes)
    except AcuerdoError as exc:
        await message.reply_text(str(exc))
        return
    caption = " ".join((message.caption or "").split()) or None
    text = f"⏳ Descargando «{escape(name)}»…"
    status = StatusMessage(await message.reply_html(text), text)
    await reporting_errors(status, _upload(status, context, message.document, name, caption))


async def _upload(
    status: StatusMessage,
    context: BotContext,
    document: Document,
    name: str,
    caption: str | None,
) -> None:
    svc = services(context)
    progress = Progress(f"⏳ Descargando «{escape(name)}»…")
    async with reporting(status, progress):
        data = await _download(document, svc.max_upload_bytes)
        progress.set(f"⏳ Leyendo «{escape(name)}»…")
        # The one parse, in a child process with a time and memory limit: a bad file never
        # stalls the bot. What it returns is what gets stored, whatever the admin answers.
        prepared = await asyncio.to_thread(svc.library.prepare_document, name, data, title=caption)
        same = await asyncio.to_thread(svc.library.document_with_content, prepared.sha256)
        namesakes = (
            [] if same else await asyncio.to_thread(svc.library.documents_titled, prepared.title)
        )
    if same is not None:
        await status.show(_added_html(AddResult(same, created=False)), final=True)
        return
    if not namesakes:
        await _add(status, context, PendingUpload(prepared, None, 0.0), None)
        return
    replace = max(namesakes, key=lambda d: d.id)  # the newest namesake
    upload = PendingUpload(prepared, replace.id, time.monotonic())
    token = _remember(svc, upload)
    await status.show(
        _clash_html(namesakes, replace),
        markup=keyboards.upload_choice_keyboard(token),
        final=True,
    )


async def _add(
    status: StatusMessage,
    context: BotContext,
    upload: PendingUpload,
    replace_id: int | None,
) -> None:
    """Embed and store off the event loop, showing "N de M pasajes" as it goes."""
    svc = services(context)
    title = escape(upload.prepared.title)
    lock = job_lock(context)
    progress = Progress(QUEUED if lock.locked() else f"⏳ Leyendo «{title}»…")

    def on_progress(done: int, total: int) -> None:  # runs in the worker thread
        verb = "guardando" if done >= total else "calculando vectores"
        progress.set(f"⏳ «{title}»: {verb}, {done} de {total} pasajes…")

    async with reporting(status, progress), lock:
        result = await asyncio.to_thread(
            svc.library.add_prepared,  # refreshes the index, so questions see the change
            upload.prepared,
            replace_id=replace_id,
            progress=on_progress,
        )
    await status.show(_added_html(result), final=True)


async def resolve_upload(
    query: CallbackQuery,
    message: Message,
    context: BotContext,
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
    await reporting_errors(status, _add(status, context, upload, replace_id))
