"""«Otro pasaje» / «Anterior» after a document of the answer was removed: the button leads to the
passage it named, not to whatever slid into its position."""

from __future__ import annotations

import asyncio

from acuerdo.bot.buttons import PASSAGE_GONE
from tests.botkit import RunningBot
from tests.test_bot import buttons, plain

USER = 4242
NURSERIES = [
    ("Acta uno", "Los viveros de mezquite de Coahuila entregaron plántulas a los ejidos."),
    ("Acta dos", "Los viveros de mezquite de Sonora duplicaron su producción de plántulas."),
    ("Acta tres", "Los viveros de mezquite de Chihuahua recibieron semillas certificadas."),
    ("Acta cuatro", "Los viveros de mezquite de Durango abrieron un segundo invernadero."),
]


async def _add_nurseries(bot: RunningBot) -> None:
    for title, text in NURSERIES:  # one passage each, so removing one shifts the others
        await asyncio.to_thread(
            bot.library.add_document, f"{title}.txt", text.encode(), title=title
        )


def _navigation(message: object, label: str) -> str:
    return next(b["callback_data"] for b in buttons(message) if b["text"] == label)


async def test_other_passage_after_a_removal_shows_the_passage_it_named(
    light_bot: RunningBot,
) -> None:
    bot = light_bot
    await _add_nurseries(bot)
    reply = await bot.reply_to("viveros de mezquite plántulas", user_id=USER)
    qid = int(_navigation(reply, "Otro pasaje ▶").split(":")[1])
    hits = (await asyncio.to_thread(bot.library.replay, qid, user_id=USER, chat_id=USER)).hits
    assert len({h.document_id for h in hits[:3]}) == 3
    # The first passage's document goes; the second is still the one «Otro pasaje» leads to.
    await asyncio.to_thread(bot.library.remove_document, hits[0].document_id)
    shown = bot.fake.last_message(USER)
    await bot.press(_navigation(reply, "Otro pasaje ▶"), user_id=USER, message=shown)
    edit = (await bot.fake.await_call("editMessageText", timeout=20))[0]
    assert hits[1].text in plain(edit) and hits[2].text not in plain(edit)
    # It is now the first passage left, so nothing comes before it.
    assert not [b for b in buttons(edit) if b["text"] == "◀ Anterior"]


async def test_other_passage_to_a_removed_passage_shows_the_one_in_its_place(
    light_bot: RunningBot,
) -> None:
    bot = light_bot
    await _add_nurseries(bot)
    reply = await bot.reply_to("viveros de mezquite plántulas", user_id=USER)
    qid = int(_navigation(reply, "Otro pasaje ▶").split(":")[1])
    hits = (await asyncio.to_thread(bot.library.replay, qid, user_id=USER, chat_id=USER)).hits
    assert len({h.document_id for h in hits[:3]}) == 3
    await asyncio.to_thread(bot.library.remove_document, hits[1].document_id)
    shown = bot.fake.last_message(USER)
    pressed = await bot.press(_navigation(reply, "Otro pasaje ▶"), user_id=USER, message=shown)
    assert pressed.get("text") != PASSAGE_GONE
    edit = (await bot.fake.await_call("editMessageText", timeout=20))[0]
    assert hits[2].text in plain(edit)


async def test_buttons_sent_before_passage_ids_were_added_still_work(
    light_bot: RunningBot,
) -> None:
    bot = light_bot
    await _add_nurseries(bot)
    reply = await bot.reply_to("viveros de mezquite plántulas", user_id=USER)
    qid, position, _ = _navigation(reply, "Otro pasaje ▶").split(":")[1:]
    hits = (await asyncio.to_thread(bot.library.replay, int(qid), user_id=USER, chat_id=USER)).hits
    shown = bot.fake.last_message(USER)
    await bot.press(f"n:{qid}:{position}", user_id=USER, message=shown)
    edit = (await bot.fake.await_call("editMessageText", timeout=20))[0]
    assert hits[1].text in plain(edit)
