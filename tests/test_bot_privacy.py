"""Buttons cannot be replayed by someone else: answers belong to who asked, where they asked."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from acuerdo.bot.buttons import NOT_YOURS
from acuerdo.index.models import Feedback
from tests.botkit import RunningBot
from tests.test_bot import buttons, plain

pytestmark = pytest.mark.slow

ANA = 1001
MALLORY = 5555
SECRET = "Mi pasaporte es G12345678"


def _feedback_rows(bot: RunningBot) -> int:
    with bot.library.sessions() as session:
        return int(session.scalar(select(func.count(Feedback.id))) or 0)


def _leaked(bot: RunningBot, chat_id: int) -> list[str]:
    """Every text or button Mallory's chat received that carries Ana's question."""
    found = []
    for method in ("sendMessage", "editMessageText", "answerCallbackQuery"):
        for call in bot.fake.calls(method):
            mine = str(call.get("chat_id")) == str(chat_id) or method == "answerCallbackQuery"
            if mine and SECRET in str(call.params):
                found.append(method)
    return found


async def test_a_forged_callback_never_shows_or_rates_another_persons_answer(
    bot: RunningBot,
) -> None:
    # A question the seed answers (buttons to forge), carrying something private.
    question = f"¿Qué nombre tiene el programa de cooperación? ({SECRET})"
    ana_answer = await bot.reply_to(question, user_id=ANA)
    data = {b["text"]: b.get("callback_data") for b in buttons(ana_answer)}
    own_next, own_thumb = data["Otro pasaje ▶"], data["👍"]
    mallory_answer = await bot.reply_to("robo de combustible", user_id=MALLORY)
    edits_before = len(bot.fake.calls("editMessageText"))
    for forged in (own_next, own_thumb, own_next.replace(":1", ":0")):
        answered = await bot.press(forged, user_id=MALLORY, message=bot.fake.last_message(MALLORY))
        assert answered.get("text") == NOT_YOURS
    # An id that does not exist gets exactly the same answer: nothing tells them apart.
    qid = int(own_next.split(":")[1])
    unknown = await bot.press(f"n:{qid + 10_000}:1", user_id=MALLORY)
    assert unknown.get("text") == NOT_YOURS
    await asyncio.sleep(0.5)
    assert len(bot.fake.calls("editMessageText")) == edits_before
    assert _leaked(bot, MALLORY) == []
    assert _feedback_rows(bot) == 0
    assert bot.fake.last_message(MALLORY)["text"] == plain(mallory_answer)
    # Ana's own buttons still work.
    await bot.press(own_next, user_id=ANA, message=bot.fake.last_message(ANA))
    edit = (await bot.fake.await_call("editMessageText", count=edits_before + 1, timeout=20))[-1]
    assert "resultado 2 de" in plain(edit)
    share = [b for b in buttons(edit) if b["text"] == "Compartir"]
    assert share and SECRET in share[0]["switch_inline_query"]  # her own question, to her
    assert "Gracias" in (await bot.press(own_thumb, user_id=ANA)).get("text")
    assert _feedback_rows(bot) == 1


async def test_in_a_group_only_the_asker_uses_the_buttons_of_an_answer(bot: RunningBot) -> None:
    group = {"chat_type": "supergroup", "chat_id": -100777}
    answer = await bot.reply_to("/pregunta ¿qué dijeron sobre el fentanilo?", user_id=ANA, **group)
    next_data = next(b["callback_data"] for b in buttons(answer) if b["text"] == "Otro pasaje ▶")
    message = bot.fake.last_message(-100777)
    refused = await bot.press(next_data, user_id=MALLORY, message=message)
    assert refused.get("text") == NOT_YOURS
    # The same answer's buttons pressed from another chat (Ana's private chat) are refused too.
    await bot.reply_to("robo de combustible", user_id=ANA)
    elsewhere = await bot.press(next_data, user_id=ANA, message=bot.fake.last_message(ANA))
    assert elsewhere.get("text") == NOT_YOURS
    accepted = await bot.press(next_data, user_id=ANA, message=message)
    assert accepted.get("text") in (None, "")
    edit = (await bot.fake.await_call("editMessageText", timeout=20))[0]
    assert str(edit.get("chat_id")) == "-100777" and "resultado 2 de" in plain(edit)


async def test_an_example_button_is_asked_by_whoever_pressed_it(bot: RunningBot) -> None:
    start = await bot.reply_to("/start", user_id=ANA)
    await bot.press(buttons(start)[0]["callback_data"], user_id=ANA)
    answer = (
        await bot.fake.await_call(
            "sendMessage", lambda c: "<blockquote" in c.get("text", ""), timeout=20
        )
    )[0]
    next_data = next(b["callback_data"] for b in buttons(answer) if b["text"] == "Otro pasaje ▶")
    assert (await bot.press(next_data, user_id=ANA)).get("text") in (None, "")
