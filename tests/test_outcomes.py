"""The three outcomes end to end: a confident quote, the closest passage offered as such, or
nothing — in private chats, groups and inline mode (fake Bot API), the query log and stats.

The policy is pinned with fixed calibrations (every question confident / tentative / nothing) so
each test exercises one outcome through the real application, model and database.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acuerdo.bot.render import TENTATIVE_LEAD, TENTATIVE_SHORT
from acuerdo.index import Library
from acuerdo.index.calibration import Calibration, LogisticModel
from acuerdo.index.embedding import E5SmallEmbedder
from tests.botkit import RunningBot, copy_template, make_settings, running_bot
from tests.conftest import SEEDS, HashingEmbedder
from tests.fake_telegram import Call, FakeTelegram, parse_html

pytestmark = pytest.mark.slow

_HALF = LogisticModel(features=(), weights=(), bias=0.0, means=(), scales=())  # p = 0.5 always


def pinned(outcome: str) -> Calibration:
    """A policy giving every question the same outcome (confidence 0.5)."""
    confident_at, tentative_at = {
        "confident": (0.0, 0.0),
        "tentative": (1.01, 0.0),
        "nothing": (1.01, 1.01),
    }[outcome]
    return Calibration(top=_HALF, shown=_HALF, confident_at=confident_at, tentative_at=tentative_at)


def buttons(call: Call) -> list[dict]:
    markup = call.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [b for row in markup.get("inline_keyboard", []) for b in row]


@pytest.fixture
async def tentative_bot(
    tmp_path: Path, seeded_template: Path, e5: E5SmallEmbedder, fake_telegram: FakeTelegram
) -> AsyncIterator[RunningBot]:
    copy_template(seeded_template, tmp_path / "data")
    settings = make_settings(tmp_path / "data", SEEDS, fake_telegram)
    async with running_bot(settings, e5, fake_telegram, calibration=pinned("tentative")) as running:
        yield running


async def test_a_tentative_answer_says_so_and_keeps_every_button(
    tentative_bot: RunningBot,
) -> None:
    bot = tentative_bot
    reply = await bot.reply_to("fentanilo")
    text = parse_html(reply.get("text"))[0]
    assert text.startswith(TENTATIVE_LEAD)
    assert "<blockquote" in reply.get("text") and "fentanilo" in text
    labels = [b["text"] for b in buttons(reply)]
    assert {"Otro pasaje ▶", "👍", "👎", "Compartir"} <= set(labels)
    # The next passage is still introduced as the closest, not as the answer.
    following = next(b for b in buttons(reply) if b["text"] == "Otro pasaje ▶")
    await bot.press(following["callback_data"], message=reply.result)
    edit = (await bot.fake.await_call("editMessageText", timeout=20))[0]
    assert parse_html(edit.get("text"))[0].startswith(TENTATIVE_LEAD)
    assert "resultado 2 de" in parse_html(edit.get("text"))[0]
    thumbs = next(b for b in buttons(edit) if b["text"] == "👍")
    rated = await bot.press(thumbs["callback_data"], message=edit.result)
    assert "Gracias" in rated.get("text")


async def test_a_tentative_answer_in_a_group(tentative_bot: RunningBot) -> None:
    group = {"chat_type": "supergroup", "chat_id": -100777}
    reply = await tentative_bot.reply_to("/pregunta ¿qué dijeron sobre el fentanilo?", **group)
    assert parse_html(reply.get("text"))[0].startswith(TENTATIVE_LEAD)


async def test_tentative_inline_results_say_so_in_their_description(
    tentative_bot: RunningBot,
) -> None:
    bot = tentative_bot
    update = bot.fake.inline_query("fentanilo", user_id=1001)
    query_id = update["inline_query"]["id"]
    call = (
        await bot.fake.await_call(
            "answerInlineQuery", lambda c: c.get("inline_query_id") == query_id, timeout=20
        )
    )[0]
    results = call.get("results")
    results = json.loads(results) if isinstance(results, str) else results
    assert results and all(r["description"].startswith(TENTATIVE_SHORT) for r in results)


async def test_nothing_and_confident_outcomes_in_the_bot(
    tmp_path: Path, seeded_template: Path, e5: E5SmallEmbedder, fake_telegram: FakeTelegram
) -> None:
    copy_template(seeded_template, tmp_path / "data")
    settings = make_settings(tmp_path / "data", SEEDS, fake_telegram)
    async with running_bot(settings, e5, fake_telegram, calibration=pinned("nothing")) as bot:
        reply = await bot.reply_to("fentanilo")
        assert "No encontré" in reply.get("text") and "<blockquote" not in reply.get("text")
    copy_template(seeded_template, tmp_path / "data2")
    settings = make_settings(tmp_path / "data2", SEEDS, fake_telegram)
    async with running_bot(settings, e5, fake_telegram, calibration=pinned("confident")) as bot:
        reply = await bot.reply_to("¿Qué dijeron sobre el fentanilo?")
        text = parse_html(reply.get("text"))[0]
        assert "fentanilo" in text and not text.startswith(TENTATIVE_LEAD)


def test_the_query_log_and_stats_count_the_three_outcomes(settings_for) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for()
    counts = {}
    for outcome in ("confident", "tentative", "nothing"):
        library = Library.open(settings, embedder=HashingEmbedder(), calibration=pinned(outcome))
        answer = library.ask("¿fentanilo y armas?", user_id=7)
        assert answer.outcome == outcome
        assert answer.answered is (outcome == "confident")
        assert answer.tentative is (outcome == "tentative")
        assert answer.hits  # listed whatever the outcome, for --json and "Otro pasaje"
        replayed = library.replay(answer.query_id or 0, user_id=7)
        assert replayed.outcome == outcome  # the log keeps it for buttons pressed later
        counts[outcome] = library.stats()
        library.close()
    stats = counts["nothing"]
    assert (stats.questions, stats.answered, stats.tentative, stats.nothing) == (3, 1, 1, 1)
    # Only questions that found nothing are listed as unanswered.
    assert [u.question for u in stats.top_unanswered] == ["¿fentanilo y armas?"]
