"""Button presses as careless or hostile people make them: data is whatever a client sends, and
a button may be tapped twice; each gets a refusal or its effect once, never an error."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot import admin, buttons, follow
from tests.botkit import ADMIN_ID, RunningBot

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
