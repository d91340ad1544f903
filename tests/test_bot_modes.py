"""The bot as deployed: flood limits, restarts, webhook mode and the real `acuerdo bot` process."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from aiohttp import web

from acuerdo.bot.webhook import make_web_app
from acuerdo.index.db import open_database
from acuerdo.index.embedding import E5SmallEmbedder
from acuerdo.index.models import PseudonymKey
from tests.botkit import copy_template, make_settings, running_bot
from tests.conftest import SEEDS
from tests.fake_telegram import DEFAULT_USER_ID, FakeTelegram, parse_html

pytestmark = pytest.mark.slow

LONG_TOKEN = "424242:AAHsecretTokenValue_for_tests-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_flood_gets_a_friendly_message_and_other_users_still_answered(
    tmp_path: Path,
    seeded_template: Path,
    e5: E5SmallEmbedder,
    fake_telegram: FakeTelegram,
) -> None:
    copy_template(seeded_template, tmp_path / "data")
    settings = make_settings(
        tmp_path / "data", SEEDS, fake_telegram, ACUERDO_QUESTIONS_PER_MINUTE=3
    )
    async with running_bot(settings, e5, fake_telegram) as bot:
        for _ in range(4):
            bot.fake.message("fentanilo")
        replies = await bot.fake.await_call(
            "sendMessage", lambda c: c.get("chat_id") == DEFAULT_USER_ID, count=4, timeout=30
        )
        texts = [c.get("text") for c in replies]
        assert sum("muchas preguntas" in t for t in texts) == 1
        assert sum("<blockquote" in t for t in texts) == 3
        other = await bot.reply_to("robo de combustible", user_id=5555)
        assert "<blockquote" in other.get("text")


async def test_buttons_keep_working_after_a_restart(
    tmp_path: Path,
    seeded_template: Path,
    e5: E5SmallEmbedder,
    fake_telegram: FakeTelegram,
) -> None:
    copy_template(seeded_template, tmp_path / "data")
    settings = make_settings(tmp_path / "data", SEEDS, fake_telegram)
    async with running_bot(settings, e5, fake_telegram) as bot:
        first = await bot.reply_to("fentanilo")
    markup = first.get("reply_markup")
    markup = json.loads(markup) if isinstance(markup, str) else markup
    next_data = next(
        b["callback_data"]
        for row in markup["inline_keyboard"]
        for b in row
        if b["text"] == "Otro pasaje ▶"
    )
    async with running_bot(settings, e5, fake_telegram) as bot:
        await bot.press(next_data)
        edit = (await bot.fake.await_call("editMessageText", timeout=20))[0]
        assert "resultado 2 de" in parse_html(edit.get("text"))[0]


async def test_webhook_checks_the_secret_and_reports_health(
    tmp_path: Path,
    seeded_template: Path,
    e5: E5SmallEmbedder,
    fake_telegram: FakeTelegram,
) -> None:
    copy_template(seeded_template, tmp_path / "data")
    port = free_port()
    settings = make_settings(
        tmp_path / "data",
        SEEDS,
        fake_telegram,
        TELEGRAM_WEBHOOK_SECRET="s3cret-token",
        TELEGRAM_WEBHOOK_URL="https://bot.example.org/hook",
    )
    async with running_bot(settings, e5, fake_telegram) as bot:
        await bot.app.updater.stop()  # type: ignore[union-attr]  # updates come by webhook now
        runner = web.AppRunner(make_web_app(bot.app, settings, bot.library))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            url = f"http://127.0.0.1:{port}/hook"
            update = bot.fake.message("fentanilo", push=False)
            assert await asyncio.to_thread(bot.fake.post_webhook, url, update, None) == 403
            assert await asyncio.to_thread(bot.fake.post_webhook, url, update, "wrong") == 403
            await asyncio.sleep(0.5)
            assert bot.sent(DEFAULT_USER_ID) == []
            assert (
                await asyncio.to_thread(bot.fake.post_webhook, url, update, "s3cret-token") == 200
            )
            reply = (await bot.fake.await_call("sendMessage", timeout=20))[0]
            assert "fentanilo" in parse_html(reply.get("text"))[0]
            health = await asyncio.to_thread(_get_json, f"http://127.0.0.1:{port}/healthz")
            assert health["ok"] and health["database"] and health["passages"] == 13
        finally:
            await runner.cleanup()


def _get_json(url: str) -> dict:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        return json.loads(response.read())


def _bot_process(
    tmp_path: Path, seeded_template: Path, fake: FakeTelegram, *args: str, **env: str
) -> subprocess.Popen[str]:
    data = tmp_path / "data"
    if not data.exists():
        shutil.copytree(seeded_template, data)
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ACUERDO_", "TELEGRAM_", "DATABASE_URL"))
    }
    environment.update(
        {
            "ACUERDO_DATA_DIR": str(data),
            "TELEGRAM_BOT_TOKEN": LONG_TOKEN,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "TELEGRAM_FILE_BASE_URL": fake.base_file_url,
            **env,
        }
    )
    acuerdo = Path(sys.executable).parent / "acuerdo"
    return subprocess.Popen(
        [str(acuerdo), "bot", *args],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


def test_real_acuerdo_bot_process_answers_by_polling(
    tmp_path: Path, seeded_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fake_telegram import no_proxy_env

    no_proxy_env(monkeypatch)
    with FakeTelegram(token=LONG_TOKEN) as fake:
        process = _bot_process(tmp_path, seeded_template, fake)
        try:
            fake.wait_for("setMyCommands", timeout=60)
            fake.message("¿qué dijeron sobre el fentanilo?")
            reply = fake.wait_for("sendMessage", timeout=30)[0]
            assert "fentanilo" in parse_html(reply.get("text"))[0]
            fake.fail_next("sendMessage", status=500, description="Internal Server Error", times=2)
            fake.message("armas")
            failed = fake.wait_for("sendMessage", lambda c: c.status == 500, count=2, timeout=30)
            delivered = fake.wait_for(
                "sendMessage",
                lambda c: c.status == 200 and c.get("text") == failed[0].get("text"),
                timeout=30,
            )
            assert delivered  # the 5xx answers were retried until Telegram took the message
            fake.set_delay(
                "sendMessage", 6.0
            )  # longer than PTB's write timeout: the call times out
            fake.message("robo de combustible")
            fake.wait_for(
                "sendMessage", lambda c: "combustible" in c.get("text", "").lower(), timeout=30
            )
            fake.set_delay("sendMessage", 0)
            fake.message("fentanilo")
            fake.wait_for("sendMessage", lambda c: c.status == 200, count=3, timeout=60)
            assert process.poll() is None  # neither 5xx nor time-outs brought the bot down
        finally:
            output = _stop(process)
    assert LONG_TOKEN not in output and LONG_TOKEN.split(":")[1] not in output


def test_real_acuerdo_bot_process_in_webhook_mode(
    tmp_path: Path, seeded_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fake_telegram import no_proxy_env

    no_proxy_env(monkeypatch)
    port = free_port()
    with FakeTelegram(token=LONG_TOKEN) as fake:
        process = _bot_process(
            tmp_path,
            seeded_template,
            fake,
            "--webhook",
            TELEGRAM_WEBHOOK_PORT=str(port),
            TELEGRAM_WEBHOOK_URL="https://bot.example.org/tg",
            TELEGRAM_WEBHOOK_SECRET="hook-secret",
        )
        try:
            registered = fake.wait_for("setWebhook", timeout=60)[0]
            assert registered.get("url") == "https://bot.example.org/tg"
            assert registered.get("secret_token") == "hook-secret"
            deadline = time.monotonic() + 30
            while True:
                try:
                    health = _get_json(f"http://127.0.0.1:{port}/healthz")
                    break
                except OSError:
                    assert time.monotonic() < deadline, "webhook server never came up"
                    time.sleep(0.2)
            assert health["ok"] is True
            update = fake.message("¿hubo conferencia de prensa?", push=False)
            url = f"http://127.0.0.1:{port}/tg"
            assert fake.post_webhook(url, update, "nope") == 403
            assert fake.post_webhook(url, update, "hook-secret") == 200
            reply = fake.wait_for("sendMessage", timeout=30)[0]
            assert "conferencia de prensa" in parse_html(reply.get("text"))[0]
        finally:
            output = _stop(process)
    assert process.returncode == 0, output
    assert LONG_TOKEN.split(":")[1] not in output


def test_real_acuerdo_bot_process_with_another_pseudonym_key_stops_at_start(
    tmp_path: Path, seeded_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fake_telegram import no_proxy_env

    no_proxy_env(monkeypatch)
    shutil.copytree(seeded_template, tmp_path / "data")
    sessions = open_database(f"sqlite:///{tmp_path / 'data' / 'acuerdo.db'}")
    with sessions() as session, session.begin():  # another replica adopted its own key
        session.add(PseudonymKey(id=1, fingerprint="0" * 32))
    with FakeTelegram(token=LONG_TOKEN) as fake:
        process = _bot_process(tmp_path, seeded_template, fake)
        try:
            output, _ = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                _stop(process)
    assert process.returncode != 0
    assert "ACUERDO_PSEUDONYM_KEY" in output and "Traceback" not in output
    assert LONG_TOKEN not in output
