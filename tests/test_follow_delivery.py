"""The background sender when Telegram refuses a notification: the real application against the
fake Bot API. A 429 holds back only that chat for `retry_after`; other failures are retried with
backoff and given up after `ACUERDO_OUTBOX_MAX_ATTEMPTS`, while everything else goes on.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from pathlib import Path

import pytest

from acuerdo.index.embedding import E5SmallEmbedder
from tests.botkit import RunningBot, copy_template, make_settings, running_bot
from tests.conftest import SEEDS
from tests.fake_telegram import Call, FakeTelegram
from tests.test_follow_bot import ARMS_DOC

pytestmark = pytest.mark.slow

SLOW, OTHERS, ASKER = 6006, (6007, 6008), 6100


def notifications(fake: FakeTelegram, chat: int) -> list[Call]:
    return [
        c
        for c in fake.calls("sendMessage")
        if str(c.get("chat_id")) == str(chat) and "🔔" in (c.get("text") or "")
    ]


async def until_counts(bot: RunningBot, expected: dict[str, int], seconds: float) -> None:
    for _ in range(int(seconds * 10)):
        if bot.library.outbox().counts() == expected:
            return
        await asyncio.sleep(0.1)
    assert bot.library.outbox().counts() == expected


async def test_a_429_holds_back_only_its_chat_for_retry_after(
    tmp_path: Path, seeded_template: Path, e5: E5SmallEmbedder, fake_telegram: FakeTelegram
) -> None:
    copy_template(seeded_template, tmp_path / "data")
    settings = make_settings(
        tmp_path / "data", SEEDS, fake_telegram, ACUERDO_OUTBOX_POLL_SECONDS=0.2
    )
    retry_after = 4
    async with running_bot(settings, e5, fake_telegram) as bot:
        for chat in (SLOW, *OTHERS):
            await asyncio.to_thread(bot.library.subscriptions.follow, chat, "todo")
        fake_telegram.fail_next("sendMessage", status=429, retry_after=retry_after, chat_id=SLOW)
        result = await asyncio.to_thread(
            bot.library.add_document, "frontera.txt", ARMS_DOC.encode(), title="Seguimiento"
        )
        assert result.notifications == 3
        [refused] = await fake_telegram.await_call(
            "sendMessage", lambda c: c.status == 429, timeout=20
        )
        # While that chat waits, a question is answered and the other chats get theirs.
        reply = await bot.reply_to("fentanilo", user_id=ASKER)
        assert reply.ok and reply.timestamp < refused.timestamp + retry_after - 1
        await until_counts(bot, {"sent": 3}, seconds=retry_after + 10)
    for chat in OTHERS:
        [delivered] = notifications(fake_telegram, chat)
        assert delivered.ok and delivered.timestamp < refused.timestamp + retry_after - 1
    first, retried = notifications(fake_telegram, SLOW)
    assert first is refused and retried.ok
    assert retried.timestamp - refused.timestamp >= retry_after - 0.1  # waited, then delivered
    assert retried.get("text") == refused.get("text")


async def test_a_notification_failing_every_time_is_given_up_and_the_rest_go_on(
    tmp_path: Path,
    seeded_template: Path,
    e5: E5SmallEmbedder,
    fake_telegram: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
) -> None:
    copy_template(seeded_template, tmp_path / "data")
    attempts, backoff = 3, 0.5
    settings = make_settings(
        tmp_path / "data",
        SEEDS,
        fake_telegram,
        ACUERDO_OUTBOX_POLL_SECONDS=0.1,
        ACUERDO_OUTBOX_MAX_ATTEMPTS=attempts,
        ACUERDO_OUTBOX_BACKOFF_SECONDS=backoff,
    )
    broken, fine = SLOW, OTHERS[0]
    caplog.set_level(logging.ERROR, logger="acuerdo.index.outbox")
    async with running_bot(settings, e5, fake_telegram) as bot:
        await asyncio.to_thread(bot.library.subscriptions.follow, broken, "todo")
        fake_telegram.fail_next("sendMessage", status=500, times=1000, chat_id=broken)
        first = await asyncio.to_thread(
            bot.library.add_document, "frontera.txt", ARMS_DOC.encode(), title="Primero"
        )
        assert first.notifications == 1
        await until_counts(bot, {"failed": 1}, seconds=20)
        # The sender goes on: a later notification to another chat is delivered.
        await asyncio.to_thread(bot.library.subscriptions.follow, fine, "todo")
        await asyncio.to_thread(bot.library.subscriptions.forget_chat, broken)
        second = await asyncio.to_thread(
            bot.library.add_document, "otro.txt", b"Un segundo comunicado breve.\n", title="Otro"
        )
        assert second.notifications == 1
        await until_counts(bot, {"failed": 1, "sent": 1}, seconds=20)
        assert (await bot.reply_to("fentanilo", user_id=ASKER)).ok
    tries = notifications(fake_telegram, broken)
    assert len(tries) == attempts and all(t.status == 500 for t in tries)
    gaps = [b.timestamp - a.timestamp for a, b in itertools.pairwise(tries)]
    assert gaps[0] >= backoff * 0.9 and gaps[1] >= 2 * backoff * 0.9  # backoff doubles
    [delivered] = notifications(fake_telegram, fine)
    assert delivered.ok
    [given_up] = [r for r in caplog.records if "given up" in r.getMessage()]
    message = given_up.getMessage()
    assert f"chat {broken}" in message and "Internal Server Error" in message
