"""An answer that found nothing has no buttons: forged «Otro pasaje» / 👍 data naming it is
refused like any other unavailable button, and shows or rates none of the passages it ranked."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from acuerdo.bot.buttons import NOT_YOURS
from acuerdo.index import Library
from acuerdo.index.models import Feedback, QueryLog
from tests.botkit import RunningBot
from tests.conftest import HashingEmbedder
from tests.test_bot import plain
from tests.test_outcomes import pinned

ANA = 1001
MARS = "¿cuántos habitantes tiene Marte según la NASA?"


def _feedback_rows(library: Library) -> int:
    with library.sessions() as session:
        return int(session.scalar(select(func.count(Feedback.id))) or 0)


def _logged(library: Library, question: str) -> QueryLog:
    library.flush_log()
    with library.sessions() as session:
        row = session.scalars(
            select(QueryLog).where(QueryLog.question == question).order_by(QueryLog.id.desc())
        ).first()
        assert row is not None
        session.expunge(row)
        return row


@pytest.mark.slow
async def test_forged_buttons_on_a_nothing_answer_are_refused(bot: RunningBot) -> None:
    reply = await bot.reply_to(MARS, user_id=ANA)
    assert "No encontré" in plain(reply)
    row = _logged(bot.library, MARS)
    assert (row.answered, bool(row.tentative)) == (False, False)
    ranked = [int(x) for x in row.passage_ids.split(",") if x]
    assert ranked  # the passages it ranked are logged: what a forged button would show
    other = bot.library.documents()[0].first_passage_id
    edits_before = len(bot.fake.calls("editMessageText"))
    message = bot.fake.last_message(ANA)
    forged = [
        f"n:{row.id}:0:{ranked[0]}",
        f"n:{row.id}:1:{ranked[-1]}",
        f"n:{row.id}:0:{other}",
        f"n:{row.id}:1",  # buttons from before the passage id was added
        f"f:{row.id}:{ranked[0]}:1",
        f"f:{row.id}:{ranked[0]}:0",
    ]
    for data in forged:
        answered = await bot.press(data, user_id=ANA, message=message)
        assert answered.get("text") == NOT_YOURS, data
    await asyncio.sleep(0.5)
    assert len(bot.fake.calls("editMessageText")) == edits_before  # the message stays as it was
    assert _feedback_rows(bot.library) == 0
    last = bot.fake.last_message(ANA)
    assert last is not None and "No encontré" in last["text"] and "resultado" not in last["text"]


def test_a_passage_is_rated_only_if_the_answer_showed_it(settings_for) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for()
    for outcome, accepted in (("nothing", False), ("tentative", True), ("confident", True)):
        library = Library.open(settings, embedder=HashingEmbedder(), calibration=pinned(outcome))
        try:
            answer = library.ask("¿fentanilo y armas?", user_id=7, chat_id=7)
            assert answer.outcome == outcome and answer.hits and answer.query_id is not None
            shown = answer.hits[0].passage_id
            voted = library.feedback(
                answer.query_id, user_id=7, chat_id=7, helpful=True, passage_id=shown
            )
            assert voted is accepted, outcome
            # On the answer as a whole (no button sends that), whatever it found.
            assert library.feedback(answer.query_id, user_id=7, chat_id=7, helpful=False)
        finally:
            library.close()
