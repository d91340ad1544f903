"""Button data is whatever a client sends: malformed presses get a refusal, never an error."""

from __future__ import annotations

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
