"""Inline keyboards and their callback data: compact, within Telegram's 64 bytes, restart-proof.

Callback data carries ids that the database can resolve again, never keys into memory, so a
button still works after the bot restarts or on another replica.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from acuerdo.bot.telegram_text import telegram_cut
from acuerdo.index import Answer, Followed, OutgoingNotification, PassageView

CALLBACK_LIMIT = 64
STOP_FOLLOWING = "sg"  # callback kind: stop one subscription (bot/follow.py)
SHARE_QUERY_LIMIT = 200  # UTF-16 units, within an inline query's 256


@dataclass(frozen=True)
class Callback:
    """A decoded button press: `kind` and its integer arguments."""

    kind: str
    args: tuple[int, ...]


def encode(kind: str, *args: int) -> str:
    data = ":".join([kind, *(str(int(a)) for a in args)])
    if len(data.encode()) > CALLBACK_LIMIT:  # ids are ints, so this only guards future changes
        raise ValueError("callback data over Telegram's 64-byte limit")
    return data


# What `encode` produces: a short kind, then ASCII decimal ids that fit a 64-bit column.
_CALLBACK = re.compile(r"[a-z]{1,8}(:[0-9]{1,18})*")


def decode(data: str | None) -> Callback | None:
    """The callback, or None for data we never produced (old or forged buttons)."""
    if not data or not _CALLBACK.fullmatch(data):
        return None
    kind, *rest = data.split(":")
    return Callback(kind, tuple(int(x) for x in rest))


def pattern(kind: str, arity: int) -> str:
    """The callback data `encode(kind, <arity ids>)` produces, for `CallbackQueryHandler`."""
    # \Z, not $: "$" also matches before a final newline, and forged data may end in one.
    return rf"^{kind}(?::[0-9]{{1,18}}){{{arity}}}\Z"


def button_args(data: str | None, arity: int) -> tuple[int, ...] | None:
    """The `arity` ids of callback data a `pattern` matched, or None when it holds other ones:
    a press without data reaches the first pattern handler whatever its pattern (PTB)."""
    decoded = decode(data)
    if decoded is None or len(decoded.args) != arity:
        return None
    return decoded.args


def answer_keyboard(answer: Answer, *, position: int, share: bool) -> InlineKeyboardMarkup | None:
    """Otro pasaje / Anterior, 👍 / 👎 and (in private chats) Compartir."""
    if answer.query_id is None or not answer.hits:
        return None
    qid = answer.query_id
    hit = answer.hits[position]
    rows: list[list[InlineKeyboardButton]] = []
    navigation = []
    for label, target in (("◀ Anterior", position - 1), ("Otro pasaje ▶", position + 1)):
        if 0 <= target < len(answer.hits):
            data = encode("n", qid, target, answer.hits[target].passage_id)
            navigation.append(InlineKeyboardButton(label, callback_data=data))
    if navigation:
        rows.append(navigation)
    rows.append(
        [
            InlineKeyboardButton("👍", callback_data=encode("f", qid, hit.passage_id, 1)),
            InlineKeyboardButton("👎", callback_data=encode("f", qid, hit.passage_id, 0)),
        ]
    )
    if share:
        rows.append(
            [
                InlineKeyboardButton(
                    "Compartir",
                    switch_inline_query=telegram_cut(answer.question, SHARE_QUERY_LIMIT),
                )
            ]
        )
    return InlineKeyboardMarkup(rows)


def follow_keyboard(
    note: OutgoingNotification, *, bot_username: str | None
) -> InlineKeyboardMarkup | None:
    """Ver documento (a passage link) and Dejar de seguir under a follower's message."""
    row = []
    if bot_username:
        url = f"https://t.me/{bot_username}?start=p{note.passage_id}"
        row.append(InlineKeyboardButton("Ver documento", url=url))
    if note.subscription_id is not None:
        row.append(
            InlineKeyboardButton(
                "Dejar de seguir", callback_data=encode(STOP_FOLLOWING, note.subscription_id)
            )
        )
    return InlineKeyboardMarkup([row]) if row else None


def followed_keyboard(topics: Sequence[Followed]) -> InlineKeyboardMarkup | None:
    """/siguiendo: one stop button per topic."""
    if not topics:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    f"Dejar {t.number}: " + ("todo" if t.everything else t.topic)[:40],
                    callback_data=encode(STOP_FOLLOWING, t.id),
                )
            ]
            for t in topics
        ]
    )


def examples_keyboard(examples: Sequence[str]) -> InlineKeyboardMarkup | None:
    """One button per example question."""
    if not examples:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(text[:60], callback_data=encode("ex", i))]
            for i, text in enumerate(examples)
        ]
    )


def passage_keyboard(view: PassageView) -> InlineKeyboardMarkup | None:
    """Previous / next paragraph of the same document."""
    row = []
    if view.previous_id is not None:
        row.append(
            InlineKeyboardButton("◀ Párrafo anterior", callback_data=encode("p", view.previous_id))
        )
    if view.next_id is not None:
        row.append(
            InlineKeyboardButton("Párrafo siguiente ▶", callback_data=encode("p", view.next_id))
        )
    return InlineKeyboardMarkup([row]) if row else None


CONTENT_TAG_HEX = 12


def content_tag(sha256: str) -> int:
    """The first 48 bits of a document's content hash, as a callback-data integer."""
    return int(sha256[:CONTENT_TAG_HEX], 16)


def content_prefix(tag: int) -> str:
    """The hash prefix a `content_tag` stands for."""
    return f"{tag:0{CONTENT_TAG_HEX}x}"


def confirm_keyboard(kind: str, *args: int) -> InlineKeyboardMarkup:
    """Sí / Cancelar for admin actions (the `kind` names the action)."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Sí", callback_data=encode(kind, *args, 1)),
                InlineKeyboardButton("Cancelar", callback_data=encode(kind, *args, 0)),
            ]
        ]
    )


def upload_choice_keyboard(token: int) -> InlineKeyboardMarkup:
    """Reemplazar / Añadir como nuevo / Cancelar for an upload whose title already exists."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Reemplazar", callback_data=encode("up", token, 1)),
                InlineKeyboardButton("Añadir como nuevo", callback_data=encode("up", token, 2)),
            ],
            [InlineKeyboardButton("Cancelar", callback_data=encode("up", token, 0))],
        ]
    )
