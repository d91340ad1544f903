"""Proves the fake Telegram server works with the real python-telegram-bot over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import socket
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

try:  # tests/ is not a package today (pytest puts tests/ on sys.path); it may become one
    from fake_telegram import DEFAULT_USER_ID, TOKEN, FakeTelegram, no_proxy_env
except ImportError:  # pragma: no cover
    from tests.fake_telegram import (  # type: ignore[no-redef]
        DEFAULT_USER_ID,
        TOKEN,
        FakeTelegram,
        no_proxy_env,
    )


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx honours *_PROXY env vars; requests to 127.0.0.1 must not go through a proxy."""
    no_proxy_env(monkeypatch)


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    """A running fake server, stopped after the test."""
    with FakeTelegram() as server:
        yield server


def build_app(fake: FakeTelegram, token: str = TOKEN) -> Application:
    """A real PTB Application pointed at the fake."""
    return (
        ApplicationBuilder()
        .token(token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )


@asynccontextmanager
async def polling(app: Application) -> AsyncIterator[Application]:
    """Run app with long polling (timeout=1) for the duration of the block."""
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


def retry_seconds(exc: RetryAfter) -> float:
    """retry_after in seconds whether PTB exposes an int (deprecated) or a timedelta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.asyncio
async def test_get_me(fake: FakeTelegram) -> None:
    async with build_app(fake) as app:  # initialize() itself calls getMe
        me = await app.bot.get_me()
    assert me.id == 123
    assert me.is_bot
    assert me.username == "acuerdo_test_bot"
    assert me.supports_inline_queries
    assert me.can_join_groups
    assert fake.calls("getme")  # recorded, matched case-insensitively


@pytest.mark.asyncio
async def test_polling_delivers_message_and_records_reply(fake: FakeTelegram) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(f"eco: {update.message.text}")

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text("bienvenida")

    app = build_app(fake)
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with polling(app):
        fake.message("hola")
        fake.message("/start@acuerdo_test_bot")  # needs a bot_command entity to match
        sent = await fake.await_call("sendMessage", count=2, timeout=5)
    assert sorted(c.params["text"] for c in sent) == ["bienvenida", "eco: hola"]
    assert {c.params["chat_id"] for c in sent} == {DEFAULT_USER_ID}
    assert all(c.ok for c in sent)
    assert [m["text"] for m in fake.messages(DEFAULT_USER_ID)] == [c.params["text"] for c in sent]
    # The updater's shutdown getUpdates confirmed everything: nothing would be redelivered.
    assert fake.pending_updates() == []
    assert fake.calls("deleteWebhook")  # PTB's polling bootstrap


@pytest.mark.asyncio
async def test_get_updates_timeout_zero_and_long_poll(fake: FakeTelegram) -> None:
    async with build_app(fake) as app:
        started = time.monotonic()
        assert await app.bot.get_updates(timeout=0) == ()
        assert time.monotonic() - started < 0.5

        # A long poll returns as soon as an update arrives, not at its timeout.
        loop = asyncio.get_running_loop()
        loop.call_later(0.2, lambda: fake.message("tarde"))
        started = time.monotonic()
        updates = await app.bot.get_updates(timeout=5)
        assert time.monotonic() - started < 2
        assert [u.message.text for u in updates if u.message] == ["tarde"]


@pytest.mark.asyncio
async def test_offsets_confirm_updates(fake: FakeTelegram) -> None:
    first = fake.message("uno")["update_id"]
    second = fake.message("dos")["update_id"]
    assert second == first + 1
    async with build_app(fake) as app:
        assert [u.update_id for u in await app.bot.get_updates(limit=1)] == [first]
        # Without an offset nothing is confirmed, so both are delivered again.
        assert [u.update_id for u in await app.bot.get_updates()] == [first, second]
        assert [u.update_id for u in await app.bot.get_updates(offset=second)] == [second]
        assert await app.bot.get_updates(offset=second + 1) == ()
        assert await app.bot.get_updates() == ()
    assert fake.pending_updates() == []


@pytest.mark.asyncio
async def test_concurrent_polls_conflict(fake: FakeTelegram) -> None:
    # Two Bot instances: one Bot serialises its own getUpdates (its pool has one connection).
    async with Bot(TOKEN, base_url=fake.base_url) as one, Bot(TOKEN, base_url=fake.base_url) as two:
        older = asyncio.create_task(one.get_updates(timeout=5))
        await fake.await_call("getUpdates")
        await asyncio.sleep(0.05)  # the call is recorded just before its long poll starts
        newer = asyncio.create_task(two.get_updates(timeout=5))
        with pytest.raises(Conflict):
            await older
        fake.message("fin")
        assert len(await newer) == 1


@pytest.mark.asyncio
async def test_unimplemented_method_raises_bad_request(fake: FakeTelegram) -> None:
    async with build_app(fake) as app:
        with pytest.raises(BadRequest, match=r"(?i)not implemented in fake"):
            await app.bot.send_dice(chat_id=DEFAULT_USER_ID)
    assert fake.calls("sendDice")[0].status == 400


@pytest.mark.asyncio
async def test_fault_injection(fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # RetryAfter warns about int retry_after otherwise
    fake.fail_next("sendMessage", status=429, retry_after=7)
    async with build_app(fake) as app:
        with pytest.raises(RetryAfter) as info:
            await app.bot.send_message(DEFAULT_USER_ID, "hola")
        assert retry_seconds(info.value) == 7
        await app.bot.send_message(DEFAULT_USER_ID, "hola")  # only the next call failed

        fake.fail_next("sendMessage", status=403)
        with pytest.raises(Forbidden):
            await app.bot.send_message(DEFAULT_USER_ID, "hola")

        fake.set_down(True)
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await app.bot.get_me()
        fake.set_down(False)

        fake.set_delay("getMe", 0.3)
        started = time.monotonic()
        await app.bot.get_me()
        assert time.monotonic() - started >= 0.3

    async with Bot(TOKEN, base_url=fake.base_url) as bot:
        fake.set_down(True, hang=True)
        with pytest.raises(NetworkError):  # TimedOut is a NetworkError
            await bot.get_me(read_timeout=0.3)
        fake.set_down(False)

    with pytest.raises(InvalidToken):  # initialize() calls getMe
        async with Bot("999:WRONG", base_url=fake.base_url):
            pass


@pytest.mark.asyncio
async def test_get_file_and_download(fake: FakeTelegram) -> None:
    payload = b"%PDF-1.4 acuerdo de prueba"
    update = fake.document_message(payload, "acuerdo final.pdf", "application/pdf", push=False)
    big = fake.document_message(None, "big.pdf", "application/pdf", file_size=25 * 2**20)
    async with build_app(fake) as app:
        document = Update.de_json(update, app.bot).message.document  # type: ignore[union-attr]
        assert document is not None
        assert document.file_name == "acuerdo final.pdf"
        file = await document.get_file()
        assert file.file_size == len(payload)
        assert bytes(await file.download_as_bytearray()) == payload

        with pytest.raises(BadRequest, match=r"(?i)file is too big"):
            await app.bot.get_file(big["message"]["document"]["file_id"])
        with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
            await app.bot.get_file("nope")
    assert fake.calls("downloadFile")[0].ok


@pytest.mark.asyncio
async def test_callback_query_reaches_handler(fake: FakeTelegram) -> None:
    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("ok")
        await query.edit_message_text(f"pulsado {query.data}")

    app = build_app(fake)
    app.add_handler(CallbackQueryHandler(on_button))
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Otro", callback_data="n:1:2")]])
    async with polling(app):
        sent = await app.bot.send_message(DEFAULT_USER_ID, "pregunta", reply_markup=keyboard)
        assert sent.reply_markup == keyboard
        update = fake.callback_query("n:1:2")  # defaults to the bot's last message
        await fake.await_call("editMessageText", timeout=5)
    assert fake.callback_answers()[update["callback_query"]["id"]]["text"] == "ok"
    edited = fake.last_message(DEFAULT_USER_ID)
    assert edited is not None
    assert edited["text"] == "pulsado n:1:2"
    assert "reply_markup" not in edited  # omitted reply_markup removes the keyboard


@pytest.mark.asyncio
async def test_edit_message_text_and_html(fake: FakeTelegram) -> None:
    async with build_app(fake) as app:
        sent = await app.bot.send_message(
            DEFAULT_USER_ID, "<b>Artículo 5</b> &amp; <i>anexo</i>", parse_mode="HTML"
        )
        assert sent.text == "Artículo 5 & anexo"
        assert [(e.type, e.offset, e.length) for e in sent.entities] == [
            ("bold", 0, 10),
            ("italic", 13, 5),
        ]
        edited = await app.bot.edit_message_text(
            "nuevo texto", chat_id=DEFAULT_USER_ID, message_id=sent.message_id
        )
        assert edited.text == "nuevo texto"
        assert edited.message_id == sent.message_id
        assert edited.edit_date is not None
        with pytest.raises(BadRequest, match=r"(?i)not modified"):
            await app.bot.edit_message_text(
                "nuevo texto", chat_id=DEFAULT_USER_ID, message_id=sent.message_id
            )
        assert await app.bot.edit_message_text("inline", inline_message_id="abc") is True
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await app.bot.send_message(DEFAULT_USER_ID, "a <c> b", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)too long"):
            await app.bot.send_message(DEFAULT_USER_ID, "x" * 4097)
        assert await app.bot.delete_message(DEFAULT_USER_ID, sent.message_id)
    assert fake.inline_message("abc") == {"text": "inline", "entities": None, "reply_markup": None}
    assert fake.messages(DEFAULT_USER_ID) == []


@pytest.mark.asyncio
async def test_webhook_mode(fake: FakeTelegram) -> None:
    seen: list[str] = []

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        seen.append(update.message.text)

    app = build_app(fake)
    app.add_handler(MessageHandler(filters.TEXT, echo))
    port = free_port()
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="hook",
            webhook_url="https://bot.example/hook",
            secret_token="s3cret",
        )
        try:
            assert fake.webhook()["url"] == "https://bot.example/hook"
            info = await app.bot.get_webhook_info()
            assert info.url == "https://bot.example/hook"
            with pytest.raises(Conflict):
                await app.bot.get_updates()
            # post_webhook blocks, and the webhook server runs on this loop: use a thread.
            url = f"http://127.0.0.1:{port}/hook"
            update = fake.message("por webhook", push=False)
            assert await asyncio.to_thread(fake.post_webhook, url, update, "wrong") == 403
            assert await asyncio.to_thread(fake.post_webhook, url, update, "s3cret") == 200
            for _ in range(200):
                if seen:
                    break
                await asyncio.sleep(0.01)
        finally:
            await app.updater.stop()
            await app.stop()
        assert seen == ["por webhook"]
        assert await app.bot.delete_webhook()
        assert fake.webhook() == {}


@pytest.mark.asyncio
async def test_commands_actions_and_inline(fake: FakeTelegram) -> None:
    answered: list[str] = []

    async def on_inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.inline_query is not None
        await update.inline_query.answer([], cache_time=0)
        answered.append(update.inline_query.query)

    class InlineHandler(BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]):
        """Matches any inline query (avoids depending on InlineQueryHandler specifics)."""

        def check_update(self, update: object) -> bool:
            return isinstance(update, Update) and update.inline_query is not None

    app = build_app(fake)
    app.add_handler(InlineHandler(on_inline))
    async with polling(app):
        assert await app.bot.set_my_commands([("buscar", "Buscar en los acuerdos")])
        assert [c.command for c in await app.bot.get_my_commands()] == ["buscar"]
        with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
            await app.bot.set_my_commands([("Mal-Nombre", "x")])
        assert await app.bot.send_chat_action(DEFAULT_USER_ID, "typing")
        update = fake.inline_query("artículo 5")
        # wait_for blocks its thread, so from async code run it in a worker thread.
        await asyncio.to_thread(fake.wait_for, "answerInlineQuery", None, 5.0)
        assert await app.bot.delete_my_commands()
        assert await app.bot.get_my_commands() == ()
    assert answered == ["artículo 5"]
    assert fake.inline_answers()[update["inline_query"]["id"]]["results"] == []
    assert fake.commands() is None


def test_builders_produce_parseable_updates(fake: FakeTelegram) -> None:
    bot = Bot(TOKEN)
    command = Update.de_json(fake.message("/buscar@acuerdo_test_bot plazo"), bot)
    assert command.message is not None
    assert command.message.entities[0].type == "bot_command"
    assert command.message.entities[0].length == len("/buscar@acuerdo_test_bot")

    group = Update.de_json(fake.message("hola", chat_type="supergroup", reply_to=None), bot)
    assert group.effective_chat is not None and group.effective_chat.type == "supergroup"

    reply = fake.message("respuesta", reply_to=command.message.message_id)
    assert reply["message"]["reply_to_message"]["text"].startswith("/buscar")

    edited = Update.de_json(fake.message("corregido", edited=True), bot)
    assert edited.edited_message is not None
    assert edited.edited_message.message_id == reply["message"]["message_id"]

    channel = Update.de_json(fake.message("aviso", channel=True), bot)
    assert channel.channel_post is not None and channel.channel_post.from_user is None

    for media in ({"sticker": True}, {"photo": True}, {"voice": b"OggS"}):
        parsed = Update.de_json(fake.message(caption="c", **media), bot)  # type: ignore[arg-type]
        assert parsed.message is not None and parsed.message.effective_attachment

    inline = Update.de_json(fake.inline_query("plazo"), bot)
    assert inline.inline_query is not None and inline.inline_query.query == "plazo"
    assert len(fake.pending_updates()) == 9
