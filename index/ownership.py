"""Who asked a logged question, kept as pseudonyms (index/pseudonyms.py), so only they can act on
its answer again.

Query ids are sequential and travel in button data, which any Telegram client can forge. An
answer is replayed ("Otro pasaje") or rated only for the person who asked it, in the chat where
they asked it; anyone else learns nothing, not even whether the id exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from acuerdo.index.models import QueryLog


@dataclass(frozen=True)
class Asker:
    """Somebody acting on a logged answer, as pseudonyms (index/pseudonyms.py): worked out
    before a transaction opens, since the first one may have to read the key and check it."""

    user_hash: str | None
    owner_hash: str | None


def owns(entry: QueryLog, asker: Asker) -> bool:
    """Whether `asker` (a person in a chat) asked the logged question `entry`.

    Rows written before owners were recorded carry only the user's pseudonym: the same person
    may still use their old buttons, nobody else can.
    """
    if entry.owner_hash is not None:
        return entry.owner_hash == asker.owner_hash
    return entry.user_hash is not None and entry.user_hash == asker.user_hash


def shown_passages(entry: QueryLog) -> set[int]:
    """The passage ids the answer logged in `entry` showed."""
    return {int(x) for x in entry.passage_ids.split(",") if x.strip().isdigit()}
