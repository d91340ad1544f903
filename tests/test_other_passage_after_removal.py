"""«Otro pasaje» / «Anterior» after a document of the answer was removed: the button leads to the
passage it named, not to whatever slid into its position."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from acuerdo.bot.buttons import PASSAGE_GONE
from acuerdo.index import Hit
from tests.botkit import RunningBot
from tests.fake_telegram import Call
from tests.test_bot import buttons, plain

USER = 4242
NURSERIES = [
    ("Acta uno", "Los viveros de mezquite de Coahuila entregaron plántulas a los ejidos."),
    ("Acta dos", "Los viveros de mezquite de Sonora duplicaron su producción de plántulas."),
    ("Acta tres", "Los viveros de mezquite de Chihuahua recibieron semillas certificadas."),
    ("Acta cuatro", "Los viveros de mezquite de Durango abrieron un segundo invernadero."),
]


@dataclass(frozen=True)
class Asked:
    reply: Call  # the answer as sent, with its «Otro pasaje ▶» button
    hits: tuple[Hit, ...]  # the passages it listed, in order

    @property
    def next_button(self) -> str:
        return _button(self.reply, "Otro pasaje ▶")


async def _ask_about_nurseries(bot: RunningBot) -> Asked:
    """Four documents of one passage each (removing one shifts the others), then a question
    whose first three passages come from three of them."""
    for title, text in NURSERIES:
        await asyncio.to_thread(
            bot.library.add_document, f"{title}.txt", text.encode(), title=title
        )
    reply = await bot.reply_to("viveros de mezquite plántulas", user_id=USER)
    asked = Asked(reply, ())
    qid = int(asked.next_button.split(":")[1])
    answer = await asyncio.to_thread(bot.library.replay, qid, user_id=USER, chat_id=USER)
    assert len({h.document_id for h in answer.hits[:3]}) == 3
    return Asked(reply, answer.hits)


async def _press(bot: RunningBot, data: str) -> tuple[Call, Call]:
    """Press the button of `data` on the answer; the callback's answer and the edit."""
    pressed = await bot.press(data, user_id=USER, message=bot.fake.last_message(USER))
    edit = (await bot.fake.await_call("editMessageText", timeout=20))[0]
    return pressed, edit


async def _next_after_removing(bot: RunningBot, index: int) -> tuple[Asked, Call, Call]:
    """Ask, remove the document of the answer's passage `index`, then press «Otro pasaje ▶»
    (which names the second passage); the answer, the callback's answer and the edit."""
    asked = await _ask_about_nurseries(bot)
    await asyncio.to_thread(bot.library.remove_document, asked.hits[index].document_id)
    pressed, edit = await _press(bot, asked.next_button)
    return asked, pressed, edit


async def test_other_passage_after_a_removal_shows_the_passage_it_named(
    light_bot: RunningBot,
) -> None:
    # The first passage's document goes; the second is still the one «Otro pasaje» leads to.
    asked, _, edit = await _next_after_removing(light_bot, 0)
    assert asked.hits[1].text in plain(edit) and asked.hits[2].text not in plain(edit)
    # It is now the first passage left, so nothing comes before it.
    assert not [b for b in buttons(edit) if b["text"] == "◀ Anterior"]


async def test_other_passage_to_a_removed_passage_shows_the_one_in_its_place(
    light_bot: RunningBot,
) -> None:
    asked, pressed, edit = await _next_after_removing(light_bot, 1)
    assert pressed.get("text") != PASSAGE_GONE
    assert asked.hits[2].text in plain(edit)


async def test_buttons_sent_before_passage_ids_were_added_still_work(
    light_bot: RunningBot,
) -> None:
    asked = await _ask_about_nurseries(light_bot)
    qid, position, _ = asked.next_button.split(":")[1:]
    _, edit = await _press(light_bot, f"n:{qid}:{position}")
    assert asked.hits[1].text in plain(edit)


async def test_previous_to_a_removed_passage_steps_back_from_the_one_on_screen(
    light_bot: RunningBot,
) -> None:
    asked = await _ask_about_nurseries(light_bot)
    _, second = await _press(light_bot, asked.next_button)
    light_bot.fake.clear()
    _, third = await _press(light_bot, _button(second, "Otro pasaje ▶"))
    assert asked.hits[2].text in plain(third)
    back = _button(third, "◀ Anterior")  # names the second passage, which now goes
    await asyncio.to_thread(light_bot.library.remove_document, asked.hits[1].document_id)
    light_bot.fake.clear()
    _, edit = await _press(light_bot, back)
    assert asked.hits[0].text in plain(edit), "not the passage already on screen again"


def _button(call: Call, label: str) -> str:
    return next(b["callback_data"] for b in buttons(call) if b["text"] == label)
