"""The bot keeps answering through what Telegram (or someone posing as it) may send: unreadable
updates, floods, odd webhook bodies, outages; and it asks only for what it handles."""

from __future__ import annotations

import asyncio
import logging
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from aiohttp import web

from acuerdo.bot.ratelimit import UserRateLimiter
from acuerdo.bot.webhook import make_web_app
from acuerdo.index.embedding import E5SmallEmbedder
from tests.botkit import ADMIN_ID, RunningBot, copy_template, make_settings, running_bot
from tests.conftest import SEEDS
from tests.fake_telegram import FakeTelegram, parse_html
from tests.test_bot_modes import LONG_TOKEN, _bot_process, _stop, free_port

pytestmark = pytest.mark.slow

POISON = [
    {"message": {"message_id": 1}},  # no date, no chat
    {"message": "not an object"},
    {"callback_query": {"id": "1"}},  # no from, no chat_instance
    {"message": {"message_id": 2, "date": "ayer", "chat": {"id": 3, "type": "private"}}},
]


async def test_unreadable_updates_are_skipped_and_everyone_else_is_answered(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    for update in POISON:
        bot.fake.push_update(update)
    reply = await bot.reply_to("¿qué dijeron sobre el fentanilo?", user_id=2222, timeout=15)
    assert "fentanilo" in parse_html(reply.get("text"))[0]
    await asyncio.sleep(1.0)
    assert bot.fake.pending_updates() == []  # acknowledged, not fetched again and again
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(noisy) <= len(POISON), [r.getMessage() for r in noisy]
    assert all("Traceback" not in r.getMessage() for r in noisy)
    polls = bot.fake.calls("getUpdates")
    assert len(polls) < 50  # no busy loop on the same batch


async def test_only_the_update_types_with_handlers_are_requested(bot: RunningBot) -> None:
    await bot.reply_to("fentanilo")
    requested = {tuple(c.get("allowed_updates") or ()) for c in bot.fake.calls("getUpdates")}
    assert requested == {("message", "callback_query", "inline_query")}


async def test_a_flood_gets_one_warning_per_window(
    tmp_path: Path, seeded_template: Path, e5: E5SmallEmbedder, fake_telegram: FakeTelegram
) -> None:
    copy_template(seeded_template, tmp_path / "data")
    settings = make_settings(
        tmp_path / "data", SEEDS, fake_telegram, ACUERDO_QUESTIONS_PER_MINUTE=2
    )
    async with running_bot(settings, e5, fake_telegram) as bot:
        for _ in range(12):
            bot.fake.message("fentanilo", user_id=3333)
        await bot.fake.await_call(
            "sendMessage", lambda c: c.get("chat_id") == 3333, count=3, timeout=30
        )
        await asyncio.sleep(1.5)
        texts = [c.get("text") for c in bot.sent(3333)]
        assert sum("muchas preguntas" in t for t in texts) == 1
        assert sum("<blockquote" in t for t in texts) == 2
        assert len(texts) == 3
        other = await bot.reply_to("robo de combustible", user_id=4444)
        assert "<blockquote" in other.get("text")


async def test_a_flood_of_stickers_or_commands_is_answered_within_a_pace_then_warned_once(
    light_bot: RunningBot,
) -> None:
    # Each such message gets a reply; unbounded, 300 of them held everyone's replies back.
    pace = light_bot.app.bot_data.services.chatter = UserRateLimiter(10)
    for i in range(60):
        if i % 2:
            light_bot.fake.message(None, user_id=6666, sticker=True)
        else:
            light_bot.fake.message("/nada", user_id=6666)
    other = await light_bot.reply_to("/ayuda", user_id=7777)
    assert "Cómo usarme" in parse_html(other.get("text"))[0]
    await asyncio.sleep(1.5)
    texts = [c.get("text") for c in light_bot.sent(6666)]
    assert sum("muchos mensajes seguidos" in t for t in texts) == 1
    assert len(texts) == 10 + 1
    assert pace.retry_in(6666) > 0
    # An admin is never held back (a batch of uploads).
    for _ in range(15):
        light_bot.fake.message("/nada", user_id=ADMIN_ID)
    await light_bot.fake.await_call(
        "sendMessage", lambda c: c.get("chat_id") == ADMIN_ID, count=15, timeout=20
    )


async def test_a_question_past_the_pace_is_warned_about_when_no_question_warning_came(
    light_bot: RunningBot,
) -> None:
    # Stickers fill the pace; the first message refused is a question the question allowance
    # never refused (it saw one question). Dropped without a word, the user would hear nothing.
    light_bot.app.bot_data.services.chatter = UserRateLimiter(4)
    for _ in range(4):
        await light_bot.reply_to(None, user_id=6868, sticker=True)  # type: ignore[arg-type]
    reply = await light_bot.reply_to("¿qué dijeron sobre el fentanilo?", user_id=6868)
    assert "muchos mensajes seguidos" in reply.get("text")


def _post(url: str, body: bytes, secret: str) -> int:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


async def test_webhook_answers_400_to_json_that_is_not_an_update(
    tmp_path: Path,
    seeded_template: Path,
    e5: E5SmallEmbedder,
    fake_telegram: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
) -> None:
    copy_template(seeded_template, tmp_path / "data")
    port = free_port()
    settings = make_settings(
        tmp_path / "data", SEEDS, fake_telegram, TELEGRAM_WEBHOOK_SECRET="s3cret"
    )
    async with running_bot(settings, e5, fake_telegram) as bot:
        await bot.app.updater.stop()  # type: ignore[union-attr]
        runner = web.AppRunner(make_web_app(bot.app, settings, bot.library))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            url = f"http://127.0.0.1:{port}/telegram"
            for body in (b"[]", b"[1, 2]", b"42", b'"hola"', b"null", b"true", b"{", b"\xff\xfe"):
                assert await asyncio.to_thread(_post, url, body, "s3cret") == 400, body
            # An object python-telegram-bot cannot read: acknowledged, skipped, nothing sent.
            poison = b'{"update_id": 9, "message": {"message_id": 1}}'
            assert await asyncio.to_thread(_post, url, poison, "s3cret") == 200
            update = bot.fake.message("fentanilo", push=False)
            assert await asyncio.to_thread(bot.fake.post_webhook, url, update, "s3cret") == 200
            reply = (await bot.fake.await_call("sendMessage", timeout=20))[0]
            assert "fentanilo" in parse_html(reply.get("text"))[0]
            assert len(bot.fake.calls("sendMessage")) == 1
        finally:
            await runner.cleanup()
    assert not any(r.exc_info for r in caplog.records if r.name.startswith("aiohttp"))


def test_acuerdo_bot_waits_for_telegram_then_answers_and_stops_on_sigterm(
    tmp_path: Path, seeded_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fake_telegram import no_proxy_env

    no_proxy_env(monkeypatch)
    with FakeTelegram(token=LONG_TOKEN) as fake:
        fake.set_down(True)  # every call answers 502 until we say so
        process = _bot_process(tmp_path, seeded_template, fake)
        try:
            # Two rounds of refusals (each round is the request's own three tries within 1.5 s;
            # the rounds 1 s apart, then 2, 4… s) and still there: it waits Telegram out rather
            # than giving up or spinning.
            refused = fake.wait_for("getMe", lambda c: c.status == 502, count=6, timeout=90)
            assert refused[5].timestamp - refused[0].timestamp >= 2.5, "retried without waiting"
            assert process.poll() is None, "acuerdo bot gave up while Telegram was away"
            fake.set_down(False)
            fake.wait_for("setMyCommands", lambda c: c.status == 200, timeout=90)
            fake.message("¿qué dijeron sobre el fentanilo?")
            reply = fake.wait_for("sendMessage", timeout=30)[0]
            assert "fentanilo" in parse_html(reply.get("text"))[0]
        finally:
            output = _stop(process)
    assert process.returncode == 0, output
    assert "Traceback" not in output
    assert len(output.splitlines()) < 40, output


async def test_a_wait_of_one_second_is_said_in_the_singular(light_bot: RunningBot) -> None:
    services = light_bot.app.bot_data.services
    services.chatter = UserRateLimiter(1, window=1.0)
    await light_bot.reply_to("/nada", user_id=6969)
    warning = (await light_bot.reply_to("/nada", user_id=6969)).get("text")
    assert "muchos mensajes seguidos" in warning
    assert "Espere un segundo" in warning, warning  # not "unos 1 segundos"
    services.chatter, services.limiter = UserRateLimiter(100), UserRateLimiter(1, window=1.0)
    await light_bot.reply_to("fentanilo", user_id=7070)
    warning = (await light_bot.reply_to("fentanilo", user_id=7070)).get("text")
    assert "muchas preguntas" in warning
    assert "Espere un segundo" in warning, warning


async def test_the_pace_warning_for_a_question_names_the_wait_until_questions_are_allowed(
    light_bot: RunningBot,
) -> None:
    now = [1000.0]
    services = light_bot.app.bot_data.services
    services.chatter = UserRateLimiter(3, clock=lambda: now[0])
    services.limiter = UserRateLimiter(1, window=120.0, clock=lambda: now[0])
    await light_bot.reply_to("¿qué dijeron sobre el fentanilo?", user_id=7171)
    now[0] += 50
    for _ in range(2):
        await light_bot.reply_to(None, user_id=7171, sticker=True)  # type: ignore[arg-type]
    warning = (await light_bot.reply_to("¿y sobre las armas?", user_id=7171)).get("text")
    # The pace frees up in 10 s, but the question allowance (warned now) only in 70 s.
    assert "Espere unos 70 segundos" in warning, warning


async def test_a_pace_warning_that_cannot_be_sent_still_holds_the_message_back(
    light_bot: RunningBot,
) -> None:
    light_bot.app.bot_data.services.chatter = UserRateLimiter(1)
    await light_bot.reply_to("/nada", user_id=7272)
    light_bot.fake.fail_next(
        "sendMessage", status=403, description="Forbidden: bot was blocked by the user", times=5
    )
    light_bot.fake.message("/nada", user_id=7272)
    await light_bot.fake.await_call("sendMessage", lambda c: c.get("chat_id") == 7272, count=2)
    await asyncio.sleep(2.0)
    # Only the warning was tried: neither an apology nor a reply to the message past the pace.
    texts = [str(c.get("text")) for c in light_bot.sent(7272)]
    assert len(texts) == 2 and "muchos mensajes seguidos" in texts[1], texts
