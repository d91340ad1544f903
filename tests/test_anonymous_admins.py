"""Anonymous group admins write as the group: Telegram's 'from' is then GroupAnonymousBot, one
account shared by every anonymous admin of every group."""

from __future__ import annotations

import asyncio

import pytest

from acuerdo.bot.ratelimit import UserRateLimiter
from tests.botkit import RunningBot

pytestmark = pytest.mark.slow


ANONYMOUS_ADMIN_BOT = 1087968824  # Telegram's GroupAnonymousBot: the sender of anonymous admins


async def _as(bot: RunningBot, text: str, group: int, *, sender_chat: int) -> str:
    """`text` in `group` from an anonymous admin (sent as the chat `sender_chat`)."""
    update = bot.fake.message(
        text,
        user_id=ANONYMOUS_ADMIN_BOT,
        chat_id=group,
        chat_type="supergroup",
        first_name="Group",
        username="GroupAnonymousBot",
        push=False,
    )
    update["message"]["sender_chat"] = dict(update["message"]["chat"])
    update["message"]["sender_chat"]["id"] = sender_chat
    before = len(bot.sent(group))
    bot.fake.push_update(update)
    calls = await bot.fake.await_call(
        "sendMessage", lambda c: str(c.get("chat_id")) == str(group), count=before + 1, timeout=20
    )
    return str(calls[before].get("text"))


async def test_an_anonymous_admin_manages_the_groups_topics_and_nobody_posing_as_one_does(
    light_bot: RunningBot,
) -> None:
    group = -1001234567
    light_bot.fake.set_admins(group, [42])
    assert "le avisaré" in await _as(light_bot, "/seguir armas", group, sender_chat=group)
    # Another chat's identity (a linked channel's post) is no admin of this group.
    refused = await _as(light_bot, "/seguir cárteles", group, sender_chat=-1009999)
    assert "administradores" in refused
    topics = await asyncio.to_thread(light_bot.library.subscriptions.followed, group)
    assert [t.topic for t in topics] == ["armas"]
    assert "Listo" in await _as(light_bot, "/dejar 1", group, sender_chat=group)


async def test_anonymous_admins_of_different_groups_do_not_share_one_question_allowance(
    light_bot: RunningBot,
) -> None:
    light_bot.app.bot_data.services.limiter = UserRateLimiter(1)
    for group in (-1001111111, -1002222222):
        reply = await _as(
            light_bot, "/pregunta ¿qué dijeron del fentanilo?", group, sender_chat=group
        )
        assert "muchas preguntas" not in reply
    again = await _as(light_bot, "/pregunta ¿y de las armas?", -1001111111, sender_chat=-1001111111)
    assert "muchas preguntas" in again
