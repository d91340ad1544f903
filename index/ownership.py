"""Who asked a logged question, kept as pseudonyms, so only they can act on its answer again.

Query ids are sequential and travel in button data, which any Telegram client can forge. An
answer is replayed ("Otro pasaje") or rated only for the person who asked it, in the chat where
they asked it; anyone else learns nothing, not even whether the id exists.
"""

from __future__ import annotations

import hashlib

from acuerdo.index.models import QueryLog


def hash_user(user_id: int | str | None) -> str | None:
    """A stable pseudonym: the log needs to group by user, not to know who they are."""
    if user_id is None:
        return None
    return hashlib.sha256(f"acuerdo-bot:{user_id}".encode()).hexdigest()[:32]


def hash_owner(user_id: int | str | None, chat_id: int | str | None) -> str | None:
    """The pseudonym of one person in one chat (None when nobody in particular asked)."""
    if user_id is None:
        return None
    return hashlib.sha256(f"acuerdo-bot-owner:{chat_id}:{user_id}".encode()).hexdigest()[:32]


def owns(entry: QueryLog, *, user_id: int | str, chat_id: int | str | None) -> bool:
    """Whether `user_id` in `chat_id` asked the logged question `entry`.

    Rows written before owners were recorded carry only the user's pseudonym: the same person
    may still use their old buttons, nobody else can.
    """
    if entry.owner_hash is not None:
        return entry.owner_hash == hash_owner(user_id, chat_id)
    return entry.user_hash is not None and entry.user_hash == hash_user(user_id)


def shown_passages(entry: QueryLog) -> set[int]:
    """The passage ids the answer logged in `entry` showed."""
    return {int(x) for x in entry.passage_ids.split(",") if x.strip().isdigit()}
