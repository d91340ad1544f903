"""The follow commands as an attacker would try them, through the real bot and the fake Bot API."""

from __future__ import annotations

import asyncio

import pytest

from acuerdo.index import Library, TopicError
from acuerdo.index.subscriptions import MAX_TOPIC_CHARS
from tests.botkit import RunningBot
from tests.test_follow_bot import said

pytestmark = pytest.mark.slow

VICTIM, ATTACKER = 7001, 7002


async def test_forged_stop_buttons_and_odd_numbers_stop_nothing(bot: RunningBot) -> None:
    await said(bot, "/seguir armas", VICTIM)
    [victims] = await asyncio.to_thread(bot.library.subscriptions.followed, VICTIM)
    await said(bot, "/siguiendo", ATTACKER)
    for data in (f"sg:{victims.id}", "sg:999999999999999999", "sg:0", "sg:1:2", "sg:x"):
        refused = await bot.press(data, user_id=ATTACKER)
        assert "no está disponible" in refused.get("text")
    for number in ("-1", "0", "99999999999999999999999", "uno", "1.5", "²", "1 2"):
        text = await said(bot, f"/dejar {number}", VICTIM)
        assert "número" in text and "algo salió mal" not in text
    assert len(await asyncio.to_thread(bot.library.subscriptions.followed, VICTIM)) == 1


async def test_stopping_a_longest_topic_by_its_button_says_so(bot: RunningBot) -> None:
    topic = "armas " + "x" * (MAX_TOPIC_CHARS - 6)
    assert "le avisaré" in await said(bot, f"/seguir {topic}", VICTIM)
    [followed] = await asyncio.to_thread(bot.library.subscriptions.followed, VICTIM)
    listing = await bot.reply_to("/siguiendo", user_id=VICTIM)
    message = [m for m in bot.fake.messages(VICTIM) if "Temas que sigue" in (m.get("text") or "")]
    answer = await bot.press(f"sg:{followed.id}", user_id=VICTIM, message=message[-1])
    assert listing.ok and answer.ok and "ya no sigue" in answer.get("text")


async def test_html_and_control_characters_in_topics(bot: RunningBot) -> None:
    text = await said(bot, "/seguir <b>armas</b> & \x01\x07cía\x7f", VICTIM)
    assert "«<b>armas</b> & cía»" in text
    listing = await said(bot, "/siguiendo", VICTIM)
    assert "<b>armas</b> & cía" in listing
    assert "Escriba el tema" in await said(bot, "/seguir \x01\x02\x03", VICTIM)


def test_invisible_characters_in_a_topic_neither_split_it_nor_make_it_new(
    library: Library,
) -> None:
    chat = 7003
    followed = library.subscriptions.follow(chat, "tráfico de fenta\u200bnilo\u200e")
    assert followed.topic == "tráfico de fentanilo"
    with pytest.raises(TopicError, match="Ya sigue"):
        library.subscriptions.follow(chat, "\u202etráfico de fentanilo")
    with pytest.raises(TopicError, match="Escriba el tema"):
        library.subscriptions.follow(chat, "\u200b\u2066\u00ad")
