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


def showed_a_passage(entry: QueryLog) -> bool:
    """Whether the answer logged in `entry` quoted a passage (confidently or tentatively).

    An answer that found nothing still logs the passages it ranked, but showed none of them and
    sent no buttons: a button naming it is forged, refused by the bot (bot/buttons.py), and
    none of those passages can be rated.
    """
    return bool(entry.answered or entry.tentative) and bool(entry.passage_ids.strip())


def shown_passages(entry: QueryLog) -> set[int]:
    """The passage ids the answer logged in `entry` showed (none when it found nothing)."""
    if not showed_a_passage(entry):
        return set()
    return {int(x) for x in entry.passage_ids.split(",") if x.strip().isdigit()}
