"""Button presses as careless or hostile people make them: data is whatever a client sends, and
a button may be tapped twice; each gets a refusal or its effect once, never an error."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from acuerdo.bot import admin, buttons, follow, status
from tests.botkit import ADMIN_ID, RunningBot
from tests.fake_telegram import Call

USER = 4040
# What `encode` makes, with a final newline ("$" matched before it), or no data at all (PTB hands
# such a press to the first handler with a pattern, whatever the pattern).
FORGED = ["n:1:1\n", "f:1:2:1\n", "ex:0\n", "p:1\n", "up:123456:1\n", "del:1:2:1\n", ""]
REFUSALS = {
    buttons.INVALID_BUTTON,
    buttons.NOT_YOURS,
    admin.NOT_ADMIN_BUTTON,
    follow.NOT_FOLLOWING,
}


@pytest.mark.parametrize("user_id", [USER, ADMIN_ID], ids=["user", "admin"])
async def test_malformed_button_data_is_refused_without_an_error(
    light_bot: RunningBot, caplog: pytest.LogCaptureFixture, user_id: int
) -> None:
    caplog.set_level(logging.ERROR)
    await light_bot.reply_to("/start", user_id=user_id)
    for data in FORGED:
        answered = await light_bot.press(data, user_id=user_id)
        assert answered.get("text") in REFUSALS, (data, answered.get("text"))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # Nothing was asked, shown or edited on the strength of a forged press.
    assert light_bot.fake.calls("editMessageText") == []
    assert len(light_bot.sent(user_id)) == 1


async def test_a_vote_must_be_up_or_down(light_bot: RunningBot) -> None:
    await light_bot.reply_to("/start", user_id=USER)
    answered = await light_bot.press("f:1:1:7", user_id=USER)
    assert answered.get("text") == buttons.INVALID_BUTTON


async def test_a_paragraph_button_tapped_twice_shows_the_paragraph_once(
    light_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    first = light_bot.library.documents()[0].first_passage_id
    await light_bot.reply_to(f"/start p{first}", user_id=USER)
    shown = light_bot.fake.last_message(USER)
    for _ in range(2):  # the second tap arrives before the edit from the first is seen
        await light_bot.press(f"p:{first + 1}", user_id=USER, message=shown)
    edits = await light_bot.fake.await_call("editMessageText", count=2, timeout=20)
    await asyncio.sleep(0.3)
    assert sorted(edit.ok for edit in edits) == [False, True]  # Telegram: "not modified"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(light_bot.fake.calls("answerCallbackQuery")) == 2  # no apology on top


PLAN = (
    "La Comisión Binacional de Reforestación acordó plantar tres millones de árboles de mezquite "
    "en la cuenca del río Bravo durante 2026."
)


# Edits of one status message are spaced by `status.EDIT_INTERVAL` (Telegram's pace, 1 s); these
# tests shorten it so that "no second edit follows" is seen after a short wait, not 2.5 s.
SHORT_EDIT_INTERVAL = 0.2


async def _final_word(bot: RunningBot, expected: str) -> str:
    """The admin chat's last message once it says `expected`, after a pause in which a second
    tap's edit would arrive. Waited for by content, not by counting edits: on a loaded machine
    a slow step gets progress edits of its own."""
    deadline = time.monotonic() + 30
    while expected not in (text := _last_text(bot)):
        assert time.monotonic() < deadline, f"never said {expected!r}; last: {text!r}"
        await asyncio.sleep(0.05)
    await asyncio.sleep(3 * SHORT_EDIT_INTERVAL)
    return _last_text(bot)


def _last_text(bot: RunningBot) -> str:
    last = bot.fake.last_message(ADMIN_ID)
    return str(last.get("text")) if last is not None else ""


async def _double_tap(bot: RunningBot, data: str, message: dict[str, Any]) -> list[Call]:
    """Two presses of one button at once, as a double tap sends them; their callback answers."""
    # Telegram answering slowly keeps the first press busy when the second arrives.
    bot.fake.set_delay("answerCallbackQuery", 0.5)
    ids = [
        bot.fake.callback_query(data, user_id=ADMIN_ID, message=message)["callback_query"]["id"]
        for _ in range(2)
    ]
    answers = await bot.fake.await_call(
        "answerCallbackQuery", lambda c: c.get("callback_query_id") in ids, count=2, timeout=20
    )
    bot.fake.set_delay("answerCallbackQuery", 0.0)
    return answers


async def test_a_double_tap_on_an_admin_confirmation_acts_once_and_reports_the_outcome(
    light_bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(status, "EDIT_INTERVAL", SHORT_EDIT_INTERVAL)
    bot = light_bot
    bot.fake.document_message(PLAN.encode(), "plan.txt", "text/plain", user_id=ADMIN_ID)
    await _final_word(bot, "Documento añadido")
    # A namesake: the bot asks whether to replace it; «Añadir como nuevo» is tapped twice.
    bot.fake.document_message(
        (PLAN + "\n\nLos viveros comunitarios recibirán fondos del programa binacional.").encode(),
        "plan.txt",
        "text/plain",
        user_id=ADMIN_ID,
    )
    await _final_word(bot, "¿Lo reemplazo")
    question = bot.fake.last_message(ADMIN_ID)
    assert question is not None and "¿Lo reemplazo" in question["text"]
    add_new = question["reply_markup"]["inline_keyboard"][0][1]["callback_data"]
    answers = await _double_tap(bot, add_new, question)
    assert "Documento añadido" in await _final_word(bot, "Documento añadido")
    assert not any(a.get("show_alert") for a in answers), [a.params for a in answers]
    assert [d.title for d in bot.library.documents()].count("plan") == 2
    # /borrar confirmed twice: the document goes, and the message says so.
    newest = max(d.id for d in bot.library.documents())
    await bot.reply_to(f"/borrar {newest}", user_id=ADMIN_ID)
    confirm = bot.fake.last_message(ADMIN_ID)
    assert confirm is not None
    yes = confirm["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await _double_tap(bot, yes, confirm)
    assert "Borrado" in await _final_word(bot, "Borrado")
    assert newest not in [d.id for d in bot.library.documents()]
