"""End-to-end: the real python-telegram-bot application talking HTTP to the fake Bot API."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from sqlalchemy import select

from acuerdo.index.models import Feedback
from tests.botkit import ADMIN_ID, RunningBot
from tests.fake_telegram import DEFAULT_USER_ID, Call, parse_html

pytestmark = pytest.mark.slow


def buttons(call: Call) -> list[dict]:
    markup = call.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def plain(call: Call) -> str:
    return parse_html(call.get("text"))[0] if call.get("parse_mode") == "HTML" else call.get("text")


async def test_commands_are_registered_and_start_offers_examples(bot: RunningBot) -> None:
    commands = {c["command"] for c in bot.fake.commands()}
    assert {"start", "ayuda", "fuentes", "pregunta"} <= commands
    reply = await bot.reply_to("/start")
    assert "Hola" in reply.get("text") and "Comunicado conjunto" in reply.get("text")
    examples = buttons(reply)
    assert len(examples) == 3 and all(b["callback_data"].startswith("ex:") for b in examples)
    await bot.press(examples[0]["callback_data"])
    answer = (
        await bot.fake.await_call(
            "sendMessage", lambda c: "<blockquote" in c.get("text", ""), timeout=20
        )
    )[0]
    assert "fentanilo" in plain(answer)


async def test_help_in_spanish_and_english_alias(light_bot: RunningBot) -> None:
    for command in ("/ayuda", "/help"):
        reply = await light_bot.reply_to(command)
        assert "Cómo usarme" in plain(reply)
        assert "/borrar" not in plain(reply)
        assert ".txt, .md, .pdf, .docx o .html" not in plain(reply)
    admin_help = await light_bot.reply_to("/ayuda", user_id=ADMIN_ID)
    assert "Envíeme un archivo .txt, .md, .pdf, .docx o .html" in plain(admin_help)
    assert "/borrar" in plain(admin_help) and "/reindex" in plain(admin_help)


async def test_sources_list_titles_dates_and_passage_links(light_bot: RunningBot) -> None:
    reply = await light_bot.reply_to("/fuentes")
    text = reply.get("text")
    assert "Comunicado conjunto México–Estados Unidos" in text
    assert "13 pasajes" in text
    assert "https://t.me/acuerdo_test_bot?start=p" in text


async def test_question_is_answered_with_the_verbatim_passage_bold_sentence_and_source(
    bot: RunningBot,
) -> None:
    reply = await bot.reply_to("¿qué dijeron sobre el fentanilo?")
    assert reply.get("parse_mode") == "HTML"
    text, entities = parse_html(reply.get("text"))
    assert "fentanilo" in text
    assert "párrafo" in text and "Comunicado conjunto" in text
    kinds = {e["type"] for e in entities}
    assert "blockquote" in kinds and "bold" in kinds and "italic" in kinds
    labels = [b["text"] for b in buttons(reply)]
    assert "Otro pasaje ▶" in labels and "👍" in labels and "👎" in labels
    share = [b for b in buttons(reply) if b["text"] == "Compartir"]
    assert share and share[0]["switch_inline_query"] == "¿qué dijeron sobre el fentanilo?"
    assert all(
        len(b["callback_data"].encode()) <= 64 for b in buttons(reply) if "callback_data" in b
    )


async def test_other_passage_edits_the_message_and_feedback_is_stored(bot: RunningBot) -> None:
    first = await bot.reply_to("fentanilo")
    next_button = next(b for b in buttons(first) if b["text"] == "Otro pasaje ▶")
    await bot.press(next_button["callback_data"])
    edit = (await bot.fake.await_call("editMessageText", timeout=20))[0]
    assert plain(edit) != plain(first)
    assert "resultado 2 de" in plain(edit)
    assert any(b["text"] == "◀ Anterior" for b in buttons(edit))
    thumbs = next(b for b in buttons(edit) if b["text"] == "👍")
    answered = await bot.press(thumbs["callback_data"])
    assert "Gracias" in answered.get("text")
    with bot.library.sessions() as session:
        votes = session.execute(select(Feedback)).scalars().all()
    assert len(votes) == 1 and votes[0].helpful is True
    assert votes[0].passage_id == int(thumbs["callback_data"].split(":")[2])


async def test_out_of_scope_question_gets_a_polite_no_and_no_quote(bot: RunningBot) -> None:
    reply = await bot.reply_to("Dame una receta de tacos")
    text = plain(reply)
    assert "No encontré" in text and "/fuentes" in text
    assert "<blockquote" not in reply.get("text")


async def test_english_question_gets_the_spanish_passage(bot: RunningBot) -> None:
    reply = await bot.reply_to("Where did Rubio meet Sheinbaum?")
    assert "<blockquote" in reply.get("text")
    assert "Palacio Nacional" in plain(reply) or "reunión cordial" in plain(reply)


async def test_groups_answer_commands_mentions_and_replies_but_ignore_chatter(
    bot: RunningBot,
) -> None:
    group = {"chat_type": "supergroup", "chat_id": -100123}
    bot.fake.message("hola a todos, ¿qué tal el fentanilo?", **group)
    await asyncio.sleep(1.0)
    assert bot.sent(-100123) == []
    reply = await bot.reply_to("/pregunta ¿qué dijeron sobre el fentanilo?", **group)
    assert "fentanilo" in plain(reply)
    assert not any(b["text"] == "Compartir" for b in buttons(reply))
    text = "@acuerdo_test_bot ¿hubo conferencia de prensa?"
    mention = [{"type": "mention", "offset": 0, "length": len("@acuerdo_test_bot")}]
    reply = await bot.reply_to(text, entities=mention, **group)
    assert "conferencia de prensa" in plain(reply)
    bot_message = bot.fake.last_message(-100123)
    reply = await bot.reply_to(
        "¿y sobre el robo de combustible?", reply_to=bot_message["message_id"], **group
    )
    assert "combustible" in plain(reply)
    usage = await bot.reply_to("/pregunta", **group)
    assert "Escriba la pregunta" in usage.get("text")


@pytest.mark.parametrize(
    "text",
    ["   ", "😀🎉👍", "<b>hola</b> </blockquote> *_[ fentanilo", "fentanilo " * 400 + "¿armas?"],
    ids=["whitespace", "emoji", "html-looking", "4000-chars"],
)
async def test_odd_texts_get_a_sensible_reply(bot: RunningBot, text: str) -> None:
    reply = await bot.reply_to(text)
    assert reply.ok, reply.error  # the fake rejects malformed HTML and over-long messages
    assert len(reply.get("text")) <= 4096


async def test_a_question_of_escape_codes_alone_is_told_to_use_words(
    light_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    reply = await light_bot.reply_to("\x1b[31m\x1b]0;x\x07")
    assert "No veo ninguna palabra" in reply.get("text")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_html_in_questions_never_reaches_the_reply_unescaped(bot: RunningBot) -> None:
    reply = await bot.reply_to("<b>fentanilo</b> </blockquote>")
    assert reply.ok
    assert "</blockquote> " not in plain(reply)


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice"])
async def test_non_text_messages_in_private_get_an_explanation(bot: RunningBot, kind: str) -> None:
    before = len(bot.sent(DEFAULT_USER_ID))
    bot.fake.message(None, **{kind: True})
    calls = await bot.fake.await_call("sendMessage", count=before + 1, timeout=20)
    assert "preguntas escritas" in calls[-1].get("text")


async def test_edited_messages_and_channel_posts_are_ignored(bot: RunningBot) -> None:
    await bot.reply_to("fentanilo")
    count = len(bot.fake.calls("sendMessage"))
    bot.fake.message("armas", edited=True)
    bot.fake.message("fentanilo", channel=True)
    await asyncio.sleep(1.5)
    assert len(bot.fake.calls("sendMessage")) == count
    assert bot.fake.pending_updates() == []  # they were received, just not answered


async def test_unknown_command_in_private(bot: RunningBot) -> None:
    reply = await bot.reply_to("/desconocido")
    assert "/ayuda" in reply.get("text")


async def test_a_429_from_telegram_is_retried(bot: RunningBot) -> None:
    bot.fake.fail_next("sendMessage", status=429, retry_after=1)
    first = await bot.reply_to("fentanilo", timeout=30)
    retried = await bot.fake.await_call("sendMessage", lambda c: c.status == 200, timeout=30)
    assert first.status == 429
    assert retried[0].get("text") == first.get("text")
    assert retried[0].timestamp - first.timestamp >= 0.9  # waited for retry_after


async def test_an_internal_error_gets_an_apology_not_silence(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(bot.library, "ask", broken)
    reply = await bot.reply_to("fentanilo")
    assert "algo salió mal" in reply.get("text")
