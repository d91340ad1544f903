"""End-to-end admin flows: uploads, /documentos, /borrar, /reindex, /estadisticas.

The real application (real e5 model, seeded communiqué) talks HTTP to the fake Bot API; files are
real small .txt/.md/.html/.docx/.pdf documents written here, fetched through getFile + download.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from fpdf import FPDF

from acuerdo.bot import admin, status
from tests.botkit import ADMIN_ID, RunningBot
from tests.fake_telegram import DEFAULT_USER_ID, TOKEN, Call, parse_html

pytestmark = pytest.mark.slow

USER = DEFAULT_USER_ID  # not an admin
OTHER_USER = 2002
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
TXT = "text/plain"

REFORESTATION = (
    "La Comisión Binacional de Reforestación acordó plantar tres millones de árboles de "
    "mezquite en la cuenca del río Bravo durante 2026.\n\n"
    "Los viveros comunitarios de Coahuila y Chihuahua recibirán fondos para producir las "
    "plántulas del programa.\n\n"
    "El programa se llamará Raíces Compartidas y tendrá un comité de seguimiento ciudadano.\n"
)
TREES_QUESTION = "¿Cuántos árboles de mezquite van a plantar en la cuenca del río Bravo?"


# --- helpers -------------------------------------------------------------------------------------


def plain(call: Call) -> str:
    text = call.get("text") or ""
    return parse_html(text)[0] if call.get("parse_mode") == "HTML" else text


def buttons(call: Call) -> list[dict]:
    markup = call.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def to_chat(bot: RunningBot, chat_id: int) -> list[Call]:
    """The bot's messages and edits in a chat, in order."""
    return [
        c
        for c in bot.fake.calls()
        if c.method in ("sendMessage", "editMessageText") and str(c.get("chat_id")) == str(chat_id)
    ]


async def outcome(bot: RunningBot, chat_id: int, before: int, timeout: float = 30.0) -> Call:
    """The first answered message or edit after `before` that is not a "⏳" progress line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for call in to_chat(bot, chat_id)[before:]:
            if call.status is not None and not plain(call).startswith("⏳"):
                assert call.ok, call.error  # the fake rejects bad HTML and identical edits
                return call
        await asyncio.sleep(0.02)
    raise TimeoutError(f"no outcome; saw {[plain(c) for c in to_chat(bot, chat_id)[before:]]}")


async def upload(
    bot: RunningBot,
    data: bytes | None,
    name: str,
    mime: str = TXT,
    *,
    caption: str | None = None,
    user_id: int = ADMIN_ID,
    file_size: int | None = None,
) -> Call:
    """Send a document and return the bot's final word about it."""
    before = len(to_chat(bot, user_id))
    bot.fake.document_message(
        data, name, mime, user_id=user_id, caption=caption, file_size=file_size
    )
    return await outcome(bot, user_id, before)


async def command(
    bot: RunningBot,
    text: str,
    *,
    user_id: int = ADMIN_ID,
    chat_id: int | None = None,
    chat_type: str = "private",
) -> Call:
    """Send a command (or any text) and return the bot's final word in that chat."""
    chat = user_id if chat_id is None else chat_id
    before = len(to_chat(bot, chat))
    bot.fake.message(text, user_id=user_id, chat_id=chat_id, chat_type=chat_type)
    return await outcome(bot, chat, before)


async def press(bot: RunningBot, data: str, message: Call, user_id: int = ADMIN_ID) -> Call:
    """Press a button of `message` (a sendMessage/edit call) and return the callback answer."""
    assert isinstance(message.result, dict)
    return await bot.press(data, user_id=user_id, message=message.result)


def snapshot(bot: RunningBot) -> tuple[list[tuple[int, str, int]], int]:
    """Documents (id, title, passages) and the index version: what a bad upload must not move."""
    docs = [(d.id, d.title, d.passages) for d in bot.library.documents()]
    return docs, bot.library.corpus().version


def titled(bot: RunningBot, title: str) -> list[int]:
    return [d.id for d in bot.library.documents() if d.title == title]


def make_pdf(build: Callable[[FPDF], None], *, title: str | None = None) -> bytes:
    pdf = FPDF()
    if FONT.exists():
        pdf.add_font("DejaVu", fname=str(FONT))
        pdf.set_font("DejaVu", size=11)
    else:
        pdf.set_font("Helvetica", size=11)
    if title:
        pdf.set_title(title)
    build(pdf)
    return bytes(pdf.output())


def make_docx(paragraphs: list[str], *, title: str | None = None) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if title:
        document.core_properties.title = title
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def text_pdf(pdf: FPDF) -> None:
    pdf.add_page()
    for paragraph in (
        "La Secretaría de Marina informó que el puerto de Manzanillo tendrá nuevos escáneres "
        "de contenedores para detectar precursores químicos.",
        "Los escáneres funcionarán las veinticuatro horas con personal de ambos países.",
    ):
        pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)


def scanned_pdf(pdf: FPDF) -> None:
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")


# --- uploads: the happy path ---------------------------------------------------------------------


async def test_upload_is_answered_from_at_once_and_forgotten_after_removal(bot: RunningBot) -> None:
    before = await bot.reply_to(TREES_QUESTION, user_id=USER)
    assert "mezquite" not in plain(before)

    start = len(to_chat(bot, ADMIN_ID))
    done = await upload(
        bot, REFORESTATION.encode(), "reforestacion.txt", caption="Plan <Raíces> & co"
    )
    text = plain(done)
    assert text.startswith("✅ Documento añadido.")
    [new_id] = titled(bot, "Plan <Raíces> & co")
    assert f"Id: {new_id}" in text and "Título: Plan <Raíces> & co" in text and "Pasajes: 3" in text
    status = to_chat(bot, ADMIN_ID)[start:]
    assert status[0].method == "sendMessage" and "Descargando «reforestacion.txt»" in plain(
        status[0]
    )
    assert all(c.method == "editMessageText" for c in status[1:])
    assert [c.method for c in bot.fake.calls() if c.method in ("getFile", "downloadFile")] == [
        "getFile",
        "downloadFile",
    ]

    answer = await bot.reply_to(TREES_QUESTION, user_id=USER)
    assert "tres millones de árboles de mezquite" in plain(answer)
    assert "Plan <Raíces> & co" in plain(answer)  # the source line, escaped on the way

    confirm = await command(bot, f"/borrar {new_id}")
    assert "¿Borro «Plan <Raíces> & co»" in plain(confirm)
    data = [b["callback_data"] for b in buttons(confirm)]
    assert [d.split(":")[::3] for d in data] == [["del", "1"], ["del", "0"]]
    assert {d.split(":")[1] for d in data} == {str(new_id)}
    count = len(to_chat(bot, ADMIN_ID))
    await press(bot, data[0], confirm)
    removed = await outcome(bot, ADMIN_ID, count)
    assert plain(removed).startswith("🗑 Borrado «Plan <Raíces> & co»")
    assert removed.method == "editMessageText" and buttons(removed) == []
    assert titled(bot, "Plan <Raíces> & co") == []

    after = await bot.reply_to(TREES_QUESTION, user_id=USER)
    assert "mezquite" not in plain(after)


@pytest.mark.parametrize(
    ("name", "mime", "data", "title", "fragment"),
    [
        (
            "acta.md",
            "text/markdown",
            "# Acta sobre el agua\n\nEl tratado de aguas de 1944 obliga a entregar "
            "agua del río Conchos cada cinco años.\n".encode(),
            "Acta sobre el agua",
            "río Conchos",
        ),
        (
            "informe.html",
            "text/html",
            "<html><head><title>Informe de aduanas</title></head><body><p>Las aduanas de "
            "Nuevo Laredo revisarán el 30 por ciento de los camiones de carga.</p></body></html>"
            "".encode(),
            "Informe de aduanas",
            "Nuevo Laredo",
        ),
        (
            "minuta.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            make_docx(
                [
                    "El grupo de alto nivel se reunirá cada tres meses en Washington y en la "
                    "Ciudad de México."
                ],
                title="Minuta del grupo de alto nivel",
            ),
            "Minuta del grupo de alto nivel",
            "cada tres meses",
        ),
        (
            "boletin.pdf",
            "application/pdf",
            make_pdf(text_pdf, title="Boletín de Marina"),
            "Boletín de Marina",
            "Manzanillo",
        ),
    ],
    ids=["md", "html", "docx", "pdf"],
)
async def test_each_format_takes_its_own_title(
    bot: RunningBot, name: str, mime: str, data: bytes, title: str, fragment: str
) -> None:
    done = await upload(bot, data, name, mime)
    assert plain(done).startswith("✅ Documento añadido."), plain(done)
    assert f"Título: {title}" in plain(done)
    [doc] = [d for d in bot.library.documents() if d.title == title]
    assert doc.source_name == name
    answer = await bot.reply_to(f"¿Qué dice sobre {fragment}?", user_id=USER)
    assert fragment in plain(answer)


async def test_file_names_are_sanitised(bot: RunningBot) -> None:
    done = await upload(bot, REFORESTATION.encode(), "../../etc/plan\x07 de\x1b árboles.txt")
    assert plain(done).startswith("✅"), plain(done)
    [doc] = [d for d in bot.library.documents() if d.id != 1]
    assert doc.source_name == "plan de árboles.txt"
    assert doc.title == "plan de árboles"


async def test_identical_content_is_recognised_and_changes_nothing(bot: RunningBot) -> None:
    first = await upload(bot, REFORESTATION.encode(), "plan.txt")
    assert plain(first).startswith("✅")
    state = snapshot(bot)
    for caption in (None, "Otro título"):
        again = await upload(bot, REFORESTATION.encode(), "plan.txt", caption=caption)
        assert plain(again).startswith("ℹ️ Ya tengo este mismo contenido: «plan»")
        assert buttons(again) == []  # nothing to ask: the content is already there
        assert snapshot(bot) == state


async def test_replacing_a_namesake_removed_meanwhile_says_the_document_was_added(
    bot: RunningBot,
) -> None:
    version = "El boletín mensual registra {} consultas de salud en la región norte.\n"
    await upload(bot, version.format(10).encode(), "a.txt", caption="Boletín mensual")
    [original] = titled(bot, "Boletín mensual")
    question = await upload(bot, version.format(20).encode(), "b.txt", caption="Boletín mensual")
    replace = next(b["callback_data"] for b in buttons(question) if b["text"] == "Reemplazar")
    bot.library.remove_document(original)  # another admin, or the CLI, removed it meanwhile
    count = len(to_chat(bot, ADMIN_ID))
    await press(bot, replace, question)
    added = plain(await outcome(bot, ADMIN_ID, count))
    assert added.startswith("✅ Documento añadido."), added
    assert "ya no se usan" not in added  # nothing was replaced: it was already gone
    assert len(titled(bot, "Boletín mensual")) == 1


async def test_same_title_asks_to_replace_or_add_and_each_choice_works(bot: RunningBot) -> None:
    version = "El informe anual registra {} decomisos de armas en la frontera norte.\n"
    first = await upload(bot, version.format(100).encode(), "a.txt", caption="Informe anual")
    assert plain(first).startswith("✅")
    [original] = titled(bot, "Informe anual")

    question = await upload(bot, version.format(200).encode(), "b.txt", caption="informe ANUAL")
    assert "Ya tengo un documento con ese título: «Informe anual» (id 2, 1 pasaje)." in plain(
        question
    )
    choices = {b["text"]: b["callback_data"] for b in buttons(question)}
    assert set(choices) == {"Reemplazar", "Añadir como nuevo", "Cancelar"}
    assert all(len(d.encode()) < 64 and d.startswith("up:") for d in choices.values())
    assert titled(bot, "Informe anual") == [original]  # nothing happens before the answer

    count = len(to_chat(bot, ADMIN_ID))
    await press(bot, choices["Añadir como nuevo"], question)
    added = await outcome(bot, ADMIN_ID, count)
    assert plain(added).startswith("✅ Documento añadido."), plain(added)
    assert len(titled(bot, "Informe anual")) + len(titled(bot, "informe ANUAL")) == 2

    question = await upload(bot, version.format(300).encode(), "c.txt", caption="Informe anual")
    assert "Ya tengo 2 documentos con ese título" in plain(question)
    replace = next(b["callback_data"] for b in buttons(question) if b["text"] == "Reemplazar")
    newest = max(d.id for d in bot.library.documents())
    count = len(to_chat(bot, ADMIN_ID))
    await press(bot, replace, question)
    replaced = await outcome(bot, ADMIN_ID, count)
    assert plain(replaced).startswith("✅ Documento reemplazado."), plain(replaced)
    assert f"El documento {newest} y sus pasajes ya no se usan." in plain(replaced)
    ids = {d.id for d in bot.library.documents()}
    assert newest not in ids and original in ids and len(ids) == 3
    answer = await bot.reply_to(
        "¿Cuántos decomisos de armas registra el informe anual?", user_id=USER
    )
    assert "300 decomisos" in plain(answer) or "100 decomisos" in plain(answer)
    assert "200 decomisos" not in plain(answer)

    state = snapshot(bot)
    question = await upload(bot, version.format(400).encode(), "d.txt", caption="Informe anual")
    cancel = next(b["callback_data"] for b in buttons(question) if b["text"] == "Cancelar")
    stale = next(b["callback_data"] for b in buttons(question) if b["text"] == "Reemplazar")
    count = len(to_chat(bot, ADMIN_ID))
    await press(bot, cancel, question)
    assert "cancelada" in plain(await outcome(bot, ADMIN_ID, count))
    assert snapshot(bot) == state

    # The same button again (or one from before a restart): the upload is gone, say so politely.
    answered = await press(bot, stale, question)
    assert "Vuelva a enviar el archivo" in answered.get("text")
    assert snapshot(bot) == state
    assert bot.app.bot_data.services.pending_uploads == {}


async def test_unknown_upload_token_after_a_restart(bot: RunningBot) -> None:
    listing = await command(bot, "/documentos")
    answered = await press(bot, "up:424242:1", listing)
    assert answered.get("show_alert") is True
    assert "ya no está disponible" in answered.get("text")
    edited = await bot.fake.await_call("editMessageText", timeout=10)
    assert "Vuelva a enviar el archivo" in plain(edited[0])


# --- uploads: what goes wrong --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "file_size", "fragments", "downloads"),
    [
        ("enorme.pdf", None, 25 * 1024 * 1024, ("25,0 MB", "20,0 MB"), False),
        ("foto.png", b"\x89PNG\r\n\x1a\n", None, ("«foto.png»", ".docx"), False),
        ("hoja.xlsx", b"PK\x03\x04", None, ("formatos admitidos",), False),
        ("../", b"hola", None, ("nombre del archivo no es válido",), False),
        ("\u202e\x01.\u200b", b"hola", None, ("nombre del archivo no es válido",), False),
        ("imagen.txt", b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)), None, ("binario",), True),
        ("notas.txt", "canción del niño".encode("latin-1"), None, ("UTF-8",), True),
        ("escaneo.pdf", make_pdf(scanned_pdf), None, ("escaneado", "OCR"), True),
        ("vacío.txt", b"  \n\t\n ", None, ("vacío",), True),
        ("vacío.docx", make_docx([]), None, ("no tiene texto",), True),
        ("dañado.docx", b"PK\x03\x04 not really a zip", None, ("dañado",), True),
        ("roto.pdf", b"%PDF-1.4 garbage", None, ("dañado",), True),
    ],
    ids=[
        "too-big",
        "png",
        "xlsx",
        "only-separators",
        "only-controls",
        "binary-txt",
        "latin1",
        "scanned-pdf",
        "empty-txt",
        "empty-docx",
        "corrupt-docx",
        "corrupt-pdf",
    ],
)
async def test_bad_uploads_get_a_clear_reply_and_change_nothing(
    bot: RunningBot,
    name: str,
    data: bytes | None,
    file_size: int | None,
    fragments: tuple[str, ...],
    downloads: bool,
) -> None:
    state = snapshot(bot)
    reply = await upload(bot, data, name, file_size=file_size)
    text = plain(reply)
    for fragment in fragments:
        assert fragment in text, text
    assert not text.startswith("✅") and "Traceback" not in text
    fetched = [c.method for c in bot.fake.calls() if c.method in ("getFile", "downloadFile")]
    assert fetched == (["getFile", "downloadFile"] if downloads else [])
    # Refused before downloading: a plain reply; after: the status message ends with the reason.
    assert reply.method == ("editMessageText" if downloads else "sendMessage")
    assert snapshot(bot) == state
    question = await bot.reply_to("¿qué dijeron sobre el fentanilo?", user_id=USER)
    assert "fentanilo" in plain(question)


async def test_a_file_over_the_configured_limit_is_refused_before_download(bot: RunningBot) -> None:
    bot.app.bot_data.services.max_upload_bytes = 100
    reply = await upload(bot, REFORESTATION.encode(), "plan.txt")
    assert "máximo que puedo descargar" in plain(reply)
    assert bot.fake.calls("getFile") == []
    assert [d.id for d in bot.library.documents()] == [1]


# --- who may do it -------------------------------------------------------------------------------


async def test_non_admins_are_refused_logged_and_nothing_changes(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="acuerdo.bot")
    state = snapshot(bot)
    for name, data, size in (
        ("plan.txt", REFORESTATION.encode(), None),
        ("enorme.pdf", None, 25 * 1024 * 1024),
        ("foto.png", b"\x89PNG", None),
    ):
        reply = await upload(bot, data, name, user_id=USER, file_size=size)
        assert "solo los administradores pueden añadir documentos" in plain(reply)
    for text in ("/documentos", "/borrar 1", "/reindex", "/estadisticas"):
        reply = await command(bot, text, user_id=USER)
        assert "solo para los administradores" in plain(reply)
        assert "Comunicado" not in plain(reply) and "Preguntas" not in plain(reply)
    for button_data in ("del:1:1", "up:123456:1"):
        answered = await bot.press(button_data, user_id=USER)
        assert "solo para los administradores" in answered.get("text")
    assert bot.fake.calls("getFile") == [] and bot.fake.calls("downloadFile") == []
    assert bot.fake.calls("editMessageText") == []
    assert snapshot(bot) == state
    refusals = [
        r for r in caplog.records if r.levelno == logging.WARNING and "non-admin" in r.getMessage()
    ]
    assert len(refusals) == 9
    assert all(str(USER) in r.getMessage() for r in refusals)
    assert "/reindex" in caplog.text and "document upload" in caplog.text
    assert TOKEN not in caplog.text and TOKEN.split(":")[1] not in caplog.text


async def test_groups_never_run_admin_commands_or_take_documents(bot: RunningBot) -> None:
    group = -100555
    state = snapshot(bot)
    for user in (ADMIN_ID, USER):
        reply = await command(bot, "/borrar 1", user_id=user, chat_id=group, chat_type="supergroup")
        assert "chat privado" in plain(reply)
    bot.fake.document_message(
        REFORESTATION.encode(),
        "plan.txt",
        TXT,
        user_id=ADMIN_ID,
        chat_id=group,
        chat_type="supergroup",
    )
    await asyncio.sleep(1.0)
    assert len(bot.sent(group)) == 2
    assert bot.fake.calls("getFile") == []
    assert snapshot(bot) == state


async def test_admin_commands_stay_out_of_the_public_menu(bot: RunningBot) -> None:
    commands = {c["command"] for c in bot.fake.commands() or []}
    assert commands.isdisjoint(admin.ADMIN_COMMANDS)
    assert {"start", "ayuda", "fuentes", "pregunta"} <= commands


# --- commands ------------------------------------------------------------------------------------


async def test_documentos_lists_ids_titles_passages_and_dates(bot: RunningBot) -> None:
    await upload(bot, REFORESTATION.encode(), "plan.txt", caption="<i>Plan</i> & árboles")
    reply = await command(bot, "/documentos")
    text = plain(reply)
    today = time.strftime("%d/%m/%Y")
    assert "1 · Comunicado conjunto México–Estados Unidos" in text and " · 13 · " in text
    assert f"2 · <i>Plan</i> & árboles · 3 · {today}" in text


async def test_borrar_needs_a_valid_id_and_can_be_cancelled(bot: RunningBot) -> None:
    for text in ("/borrar", "/borrar uno", "/borrar 1 2"):
        assert "/borrar 3" in plain(await command(bot, text))
    assert "No existe ningún documento con id 99" in plain(await command(bot, "/borrar 99"))
    confirm = await command(bot, "/borrar 1")
    yes, no = (b["callback_data"] for b in buttons(confirm))
    count = len(to_chat(bot, ADMIN_ID))
    await press(bot, no, confirm)
    assert "no he borrado nada" in plain(await outcome(bot, ADMIN_ID, count))
    assert [d.id for d in bot.library.documents()] == [1]
    count = len(to_chat(bot, ADMIN_ID))
    await press(bot, yes, confirm)
    assert "🗑 Borrado «Comunicado conjunto" in plain(await outcome(bot, ADMIN_ID, count))
    count = len(to_chat(bot, ADMIN_ID))
    await press(bot, yes, confirm)  # a second tap: already gone
    assert "No existe ningún documento con id 1" in plain(await outcome(bot, ADMIN_ID, count))
    answer = await bot.reply_to("¿qué dijeron sobre el fentanilo?", user_id=USER)
    assert "No encontré" in plain(answer)


async def test_reindex_reports_progress_then_completion(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 13 passages embed in well under a second; tick faster so progress is visible at all.
    monkeypatch.setattr(status, "EDIT_INTERVAL", 0.05)
    version = bot.library.corpus().version
    start = len(to_chat(bot, ADMIN_ID))
    done = await command(bot, "/reindex")
    assert (
        plain(done) == "✅ Índice reconstruido: 13 pasajes. Las preguntas ya usan el índice nuevo."
    )
    texts = [plain(c) for c in to_chat(bot, ADMIN_ID)[start:]]
    assert texts[0] == "⏳ Reconstruyendo el índice…"
    assert any(
        t.startswith("⏳ Reconstruyendo el índice: ") and "de 13 pasajes" in t for t in texts
    )
    assert all(a != b for a, b in itertools.pairwise(texts))  # never an identical edit
    assert bot.library.corpus().version > version
    answer = await bot.reply_to("¿qué dijeron sobre el fentanilo?", user_id=USER)
    assert "fentanilo" in plain(answer)


async def test_estadisticas_shows_questions_feedback_and_unanswered(bot: RunningBot) -> None:
    answered = await bot.reply_to("¿qué dijeron sobre el fentanilo?", user_id=USER)
    for _ in range(2):
        await bot.reply_to("Dame una receta de tacos", user_id=OTHER_USER)
    await bot.reply_to("¿Quién ganó el mundial de 1986?", user_id=USER)
    thumbs = next(b["callback_data"] for b in buttons(answered) if b["text"] == "👍")
    await bot.press(thumbs, user_id=USER, message=answered.result)
    text = plain(await command(bot, "/estadisticas"))
    assert "Documentos: 1 (13 pasajes)" in text
    counts = re.search(
        r"Preguntas: 4, respondidas: (\d+) \(\d+%\), con lo más cercano: (\d+), "
        r"sin resultado: (\d+)",
        text,
    )
    assert counts, text
    confident, tentative, nothing = (int(n) for n in counts.groups())
    assert (confident + tentative, nothing) == (1, 3)  # the fentanyl passage was shown
    assert "👍 1 · 👎 0" in text
    lines = text.split("\n")
    top = lines.index("Preguntas sin respuesta más frecuentes:")
    assert lines[top + 1] == "2× Dame una receta de tacos"
    assert lines[top + 2] == "1× ¿Quién ganó el mundial de 1986?"


# --- indexing never blocks questions -------------------------------------------------------------


async def test_questions_are_answered_while_a_large_document_is_indexed(bot: RunningBot) -> None:
    paragraphs = [
        f"Acta {i}: la mesa técnica revisó la obra hidráulica del tramo {i} y fijó metas nuevas."
        for i in range(150)
    ]
    start = len(to_chat(bot, ADMIN_ID))
    bot.fake.document_message(
        "\n\n".join(paragraphs).encode(), "actas.txt", TXT, user_id=ADMIN_ID, caption="Actas"
    )
    await bot.fake.await_call(
        "editMessageText", lambda c: "de 150 pasajes" in c.get("text", ""), timeout=30
    )
    answer = await bot.reply_to("¿qué dijeron sobre el fentanilo?", user_id=USER)
    assert "fentanilo" in plain(answer)
    done = await outcome(bot, ADMIN_ID, start, timeout=60)
    assert "Pasajes: 150" in plain(done) and "Título: Actas" in plain(done)
    assert answer.timestamp < done.timestamp  # answered mid-indexing, not queued behind it

    edits = [c for c in to_chat(bot, ADMIN_ID)[start:] if c.method == "editMessageText"]
    progress = [plain(c) for c in edits if "de 150 pasajes" in plain(c)]
    assert progress and all(t.startswith("⏳ «Actas»: ") for t in progress)
    texts = [plain(c) for c in to_chat(bot, ADMIN_ID)[start:]]
    assert all(a != b for a, b in itertools.pairwise(texts))  # never an identical edit
    gaps = [b.timestamp - a.timestamp for a, b in itertools.pairwise(edits)]
    assert all(gap >= 0.9 for gap in gaps), gaps  # at most about one edit per second
