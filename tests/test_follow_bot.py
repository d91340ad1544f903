"""Following topics end to end: the real application against the fake Bot API.

Subscribe, upload a document as admin, and the matching subscriber gets exactly one quote while an
unrelated topic gets none; buttons; a blocked user's 403; groups; the outbox across a restart.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from acuerdo.index.embedding import E5SmallEmbedder
from tests.botkit import ADMIN_ID, RunningBot, copy_template, make_settings, running_bot
from tests.conftest import SEEDS
from tests.fake_telegram import Call, FakeTelegram, parse_html

pytestmark = pytest.mark.slow

# Matched with the confidence that answers questions: a topic in the words of the new passage.
ARMS = "tráfico ilícito de armas de fuego"
ARMS_DOC = (
    "Nuevo comunicado sobre seguridad fronteriza entre México y Estados Unidos.\n\n"
    "Ambos gobiernos acordaron redoblar los esfuerzos contra el tráfico ilícito de armas de fuego "
    "desde Estados Unidos hacia México, con más inspecciones en los cruces fronterizos.\n\n"
    "La reunión concluyó con el compromiso de volver a reunirse en seis meses.\n"
)
FOLLOWER, FISHER, EVERYTHING, BLOCKED = 1001, 3003, 4004, 5005


def buttons(call: dict | object) -> list[dict]:
    markup = call.get("reply_markup") or {}  # type: ignore[attr-defined]
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [b for row in markup.get("inline_keyboard", []) for b in row]


async def said(bot: RunningBot, text: str, user_id: int, **kwargs: object) -> str:
    call = await bot.reply_to(text, user_id=user_id, **kwargs)
    body = call.get("text") or ""
    return parse_html(body)[0] if call.get("parse_mode") == "HTML" else body


async def upload(bot: RunningBot, data: bytes, name: str, caption: str) -> str:
    """Send a document as the admin; the upload's final status message."""
    bot.fake.document_message(data, name, "text/plain", user_id=ADMIN_ID, caption=caption)
    for _ in range(600):
        for call in reversed(bot.fake.calls()):
            if str(call.get("chat_id")) == str(ADMIN_ID) and "Avisos a" in (call.get("text") or ""):
                return parse_html(call.get("text"))[0]
        await asyncio.sleep(0.1)
    raise AssertionError("no final status message")


async def test_follow_upload_notify_buttons_and_blocked_user(bot: RunningBot) -> None:
    assert "/seguir todo" in await said(bot, "/seguir", FOLLOWER)
    assert "le avisaré" in await said(bot, f"/seguir {ARMS}", FOLLOWER)
    assert "Ya sigue" in await said(bot, "/seguir Tráfico ILÍCITO de armas de fuego", FOLLOWER)
    assert "demasiado largo" in await said(bot, "/seguir " + "a" * 201, FOLLOWER)
    assert "le avisaré" in await said(bot, "/seguir pesca de atún en el Pacífico", FISHER)
    assert "cada documento nuevo" in await said(bot, "/seguir todo", EVERYTHING)
    assert "le avisaré" in await said(bot, f"/seguir {ARMS}", BLOCKED)
    for n in range(9):
        await said(bot, f"/seguir tema número {n}", FISHER)
    assert "máximo" in await said(bot, "/seguir uno más", FISHER)

    bot.fake.set_blocked(BLOCKED)
    status = await upload(bot, ARMS_DOC.encode(), "frontera.txt", "Comunicado de seguimiento")
    assert "Avisos a quienes siguen sus temas: 3" in status

    [quote] = await bot.fake.await_call(
        "sendMessage",
        lambda c: str(c.get("chat_id")) == str(FOLLOWER) and "🔔" in c.get("text"),
        timeout=20,
    )
    text = parse_html(quote.get("text"))[0]
    assert "tráfico ilícito de armas" in text and "Comunicado de seguimiento" in text
    [everything] = await bot.fake.await_call(
        "sendMessage",
        lambda c: str(c.get("chat_id")) == str(EVERYTHING) and "🔔" in c.get("text"),
        timeout=20,
    )
    assert "Nuevo comunicado sobre seguridad fronteriza" in parse_html(everything.get("text"))[0]
    subscriptions = bot.library.subscriptions
    for _ in range(100):  # the blocked user's 403 removes their subscriptions
        if not await asyncio.to_thread(subscriptions.followed, BLOCKED):
            break
        await asyncio.sleep(0.1)
    assert await asyncio.to_thread(subscriptions.followed, BLOCKED) == []
    await asyncio.sleep(2.0)  # nothing else arrives: one message, and none for the fisher
    notified = [c for c in bot.fake.calls("sendMessage") if "🔔" in (c.get("text") or "")]
    assert sorted(int(c.get("chat_id")) for c in notified) == sorted(
        [FOLLOWER, EVERYTHING, BLOCKED]  # the blocked one was tried once and refused
    )
    assert bot.library.outbox().counts() == {"sent": 2, "dropped": 1}

    keys = {b["text"]: b for b in buttons(quote)}
    assert keys["Ver documento"]["url"].startswith("https://t.me/acuerdo_test_bot?start=p")
    stop_data = keys["Dejar de seguir"]["callback_data"]
    # Somebody else replaying the button in their own chat stops nothing.
    await said(bot, "/siguiendo", FISHER)
    refused = await bot.press(stop_data, user_id=FISHER)
    assert "no está disponible" in refused.get("text")
    assert len(await asyncio.to_thread(subscriptions.followed, FOLLOWER)) == 1
    done = await bot.press(stop_data, user_id=FOLLOWER, message=_notification(bot))
    assert "ya no sigue" in done.get("text")
    assert "No sigue ningún tema" in await said(bot, "/siguiendo", FOLLOWER)

    # /dejar <n> and /siguiendo with its buttons.
    listing = await bot.reply_to("/siguiendo", user_id=FISHER)
    assert len(buttons(listing)) == 10
    assert "ya no sigue «pesca" in await said(bot, "/dejar 1", FISHER)
    assert "ese número" in await said(bot, "/dejar 42", FISHER)


def _notification(bot: RunningBot) -> dict:
    """The follower's notification as Telegram stores it, to press its buttons."""
    return [m for m in bot.fake.messages(FOLLOWER) if "🔔" in (m.get("text") or "")][-1]


async def test_only_group_admins_subscribe_a_group(bot: RunningBot) -> None:
    group = -4001
    bot.fake.set_admins(group, [42])
    refused = await said(bot, f"/seguir {ARMS}", 7, chat_id=group, chat_type="group")
    assert "administradores" in refused
    accepted = await said(bot, f"/seguir {ARMS}", 42, chat_id=group, chat_type="group")
    assert "le avisaré" in accepted
    assert [t.topic for t in bot.library.subscriptions.followed(group)] == [ARMS]
    assert "administradores" in await said(bot, "/dejar 1", 7, chat_id=group, chat_type="group")


async def test_documents_added_without_a_bot_wait_and_a_restart_loses_nothing(
    tmp_path: Path, seeded_template: Path, e5: E5SmallEmbedder, fake_telegram: FakeTelegram
) -> None:
    copy_template(seeded_template, tmp_path / "data")
    settings = make_settings(
        tmp_path / "data", SEEDS, fake_telegram, ACUERDO_OUTBOX_LEASE_SECONDS=2
    )
    chats = list(range(20_000, 20_030))
    async with running_bot(settings, e5, fake_telegram) as bot:
        await bot.app.stop()  # the sender stops with the application: a CLI-like process
        for chat in chats:
            await asyncio.to_thread(bot.library.subscriptions.follow, chat, ARMS)
        result = await asyncio.to_thread(
            bot.library.add_document, "frontera.txt", ARMS_DOC.encode(), title="Seguimiento"
        )
        assert result.notifications == len(chats)
        assert bot.library.outbox().counts() == {"pending": len(chats)}
    fake_telegram.set_delay("sendMessage", 0.3)
    async with running_bot(settings, e5, fake_telegram) as bot:  # killed mid-delivery
        await fake_telegram.await_call("sendMessage", count=5, timeout=30)
    first_run = len(fake_telegram.calls("sendMessage"))
    assert first_run < len(chats)
    fake_telegram.set_delay("sendMessage", 0)
    async with running_bot(settings, e5, fake_telegram) as bot:
        for _ in range(300):
            if bot.library.outbox().counts() == {"sent": len(chats)}:
                break
            await asyncio.sleep(0.1)
        assert bot.library.outbox().counts() == {"sent": len(chats)}
    received = [int(c.get("chat_id")) for c in fake_telegram.calls("sendMessage") if c.ok]
    assert set(received) == set(chats)  # nothing lost
    # Repeated only if the process stopped between Telegram's reply and recording it.
    assert len(received) - len(chats) <= first_run


@pytest.mark.postgres
async def test_two_replicas_on_postgresql_send_each_notification_once(
    tmp_path: Path,
    sqlite_template: Path,
    seeded_postgres_url: str,
    e5: E5SmallEmbedder,
    fake_telegram: FakeTelegram,
) -> None:
    chats = list(range(30_000, 30_080))
    replicas = []
    for name in ("a", "b"):
        copy_template(sqlite_template, tmp_path / name)
        replicas.append(
            make_settings(tmp_path / name, SEEDS, fake_telegram, DATABASE_URL=seeded_postgres_url)
        )
    fake_telegram.set_delay("sendMessage", 0.02)
    async with (
        running_bot(replicas[0], e5, fake_telegram) as a,
        running_bot(replicas[1], e5, fake_telegram) as b,
    ):
        for chat in chats:
            await asyncio.to_thread(a.library.subscriptions.follow, chat, ARMS)
        result = await asyncio.to_thread(
            b.library.add_document, "frontera.txt", ARMS_DOC.encode(), title="Seguimiento"
        )
        assert result.notifications == len(chats)
        for _ in range(300):
            if a.library.outbox().counts() == {"sent": len(chats)}:
                break
            await asyncio.sleep(0.1)
        assert a.library.outbox().counts() == {"sent": len(chats)}
    received = [int(c.get("chat_id")) for c in fake_telegram.calls("sendMessage") if c.ok]
    assert sorted(received) == chats  # each exactly once


async def answered(call: Call) -> Call:
    """`call` once the fake has answered it (its status is filled in just after it is recorded)."""
    for _ in range(200):
        if call.status is not None:
            break
        await asyncio.sleep(0.01)
    return call


async def test_emoji_topics_and_documents_fit_telegrams_utf16_limit(bot: RunningBot) -> None:
    """Telegram counts UTF-16 units, an emoji 2, and so does the fake: an emoji-heavy document's
    notification, /siguiendo with ten topics of 200 astral characters, and the stop button's
    answer are all accepted."""
    chat = 7007
    for i in range(10):
        assert "le avisaré" in await said(bot, f"/seguir {chr(0x1D41A + i) * 200}", chat)
    listing = await answered(await bot.reply_to("/siguiendo", user_id=chat))
    assert listing.ok, listing.error
    text = parse_html(listing.get("text"))[0]
    assert text.startswith("Temas que sigue") and "…y " in text and len(buttons(listing)) == 10
    stop = await answered(await bot.press(buttons(listing)[0]["callback_data"], user_id=chat))
    assert stop.ok and "ya no sigue" in stop.get("text"), stop.error

    await asyncio.to_thread(bot.library.subscriptions.follow, EVERYTHING, "todo")
    emoji_doc = "\n\n".join([" ".join(["Alerta 🚨🔥🌎🚧🚓 en la frontera 🚨🚨🚨."] * 40)] * 3)
    await asyncio.to_thread(
        bot.library.add_document, "alertas.txt", emoji_doc.encode(), title="🚨🔥" * 150
    )
    [note] = await bot.fake.await_call(
        "sendMessage",
        lambda c: str(c.get("chat_id")) == str(EVERYTHING) and c.status is not None,
        timeout=20,
    )
    assert note.ok, note.error
    assert "🚨🔥" in parse_html(note.get("text"))[0]
