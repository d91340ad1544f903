"""Inline mode, the share button and passage links, end to end through the fake Bot API."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from acuerdo.bot.render import TENTATIVE_SHORT
from acuerdo.index.models import QueryLog
from tests.botkit import RunningBot
from tests.fake_telegram import Call, parse_html

pytestmark = pytest.mark.slow


def _buttons(call: Call) -> list[dict]:
    markup = call.get("reply_markup") or {}
    markup = json.loads(markup) if isinstance(markup, str) else markup
    return [b for row in markup.get("inline_keyboard", []) for b in row]


async def _inline(bot: RunningBot, query: str, user_id: int = 1001) -> Call:
    update = bot.fake.inline_query(query, user_id=user_id)
    query_id = update["inline_query"]["id"]
    calls = await bot.fake.await_call(
        "answerInlineQuery", lambda c: c.get("inline_query_id") == query_id, timeout=20
    )
    return calls[0]


async def test_inline_query_offers_quotes_formatted_like_answers(bot: RunningBot) -> None:
    call = await _inline(bot, "fentanilo")
    assert call.ok
    results = call.get("results")
    results = json.loads(results) if isinstance(results, str) else results
    assert 1 <= len(results) <= 5
    first = results[0]
    assert first["type"] == "article"
    assert "fentanilo" in first["title"] and len(first["title"]) <= 90
    assert "párrafo" in first["description"]
    if first["description"].startswith(TENTATIVE_SHORT):  # the closest, not an exact answer
        assert all(r["description"].startswith(TENTATIVE_SHORT) for r in results)
    content = first["input_message_content"]
    assert content["parse_mode"] == "HTML"
    text, entities = parse_html(content["message_text"])
    assert "fentanilo" in text and "Comunicado conjunto" in text
    assert {"blockquote", "bold"} <= {e["type"] for e in entities}
    assert int(call.get("cache_time")) > 0
    assert call.get("is_personal") in (False, None, "false")
    assert len({r["id"] for r in results}) == len(results)


@pytest.mark.parametrize("query", ["", "Dame una receta de tacos"])
async def test_empty_or_out_of_scope_inline_query_offers_only_a_hint(
    bot: RunningBot, query: str
) -> None:
    call = await _inline(bot, query)
    assert call.ok
    results = call.get("results")
    results = json.loads(results) if isinstance(results, str) else results
    assert results == []
    button = call.get("button")
    button = json.loads(button) if isinstance(button, str) else button
    assert button and button["text"] and button["start_parameter"]


@pytest.mark.parametrize("query", ["\u200b", "\u00ad\u200e", "\x1b[31m"])
async def test_an_inline_query_of_invisible_characters_is_answered_with_the_hint(
    light_bot: RunningBot, caplog: pytest.LogCaptureFixture, query: str
) -> None:
    caplog.set_level(logging.ERROR)
    call = await _inline(light_bot, query)
    assert call.ok and call.get("results") in ([], "[]")
    button = call.get("button")
    button = json.loads(button) if isinstance(button, str) else button
    assert button["text"].startswith("Escriba qué busca")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_inline_queries_are_logged_and_rate_limited(bot: RunningBot) -> None:
    await _inline(bot, "armas", user_id=3030)
    assert bot.library.flush_log()  # rows are written behind the answers
    with bot.library.sessions() as session:
        channels = session.execute(select(QueryLog.channel, QueryLog.question)).all()
    assert ("inline", "armas") in [tuple(row) for row in channels]
    for _ in range(25):
        last = await _inline(bot, "soberania", user_id=4040)
    results = last.get("results")
    results = json.loads(results) if isinstance(results, str) else results
    assert results == []
    button = last.get("button")
    button = json.loads(button) if isinstance(button, str) else button
    assert "Demasiadas" in button["text"]


async def test_share_button_carries_the_question(bot: RunningBot) -> None:
    reply = await bot.reply_to("¿Hubo conferencia de prensa?")
    share = [b for b in _buttons(reply) if b["text"] == "Compartir"]
    assert share[0]["switch_inline_query"] == "¿Hubo conferencia de prensa?"


async def test_passage_links_open_the_passage_with_neighbour_buttons(bot: RunningBot) -> None:
    first_id = bot.library.documents()[0].first_passage_id
    second = bot.library.passage(first_id).next_id
    reply = await bot.reply_to(f"/start p{second}")
    text = parse_html(reply.get("text"))[0]
    assert "movimiento ilegal de personas" in text and "párrafo 2" in text
    labels = {b["text"]: b["callback_data"] for b in _buttons(reply)}
    assert set(labels) == {"◀ Párrafo anterior", "Párrafo siguiente ▶"}
    await bot.press(labels["◀ Párrafo anterior"])
    edit = (await bot.fake.await_call("editMessageText", timeout=20))[0]
    assert "desmantelar a los grupos del crimen organizado" in parse_html(edit.get("text"))[0]
    assert [b["text"] for b in _buttons(edit)] == ["Párrafo siguiente ▶"]


@pytest.mark.parametrize("arg", ["p999999", "pabc", "p", "p²", "p1²"])
async def test_bad_passage_links_are_refused_politely(bot: RunningBot, arg: str) -> None:
    reply = await bot.reply_to(f"/start {arg}")
    assert "/fuentes" in reply.get("text")


async def test_removed_passage_link_is_refused_politely(bot: RunningBot) -> None:
    doc = bot.library.documents()[0]
    bot.library.remove_document(doc.id)
    reply = await bot.reply_to(f"/start p{doc.first_passage_id}")
    assert "retirado" in reply.get("text") or "No encuentro" in reply.get("text")
