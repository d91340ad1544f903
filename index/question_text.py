"""What a question says, once what a keyboard or a terminal slipped into it is gone.

Questions arrive from chats, inline queries, shell arguments and pasted text: terminal colour
codes (ESC [31m), NULs and other control characters, zero-width, bidi and soft-hyphen
characters, lone surrogates from undecodable bytes. Escape sequences go whole (not leaving
"[31m" behind); invisible characters go without a trace, so "fenta\\u200bnilo" is still one
word; line breaks and tabs become spaces.
"""

from __future__ import annotations

import re

from acuerdo.index.unseen_characters import without_escapes, without_invisible

_SPACING_CONTROL = re.compile("[\t\n\v\f\r\x1c-\x1f\x85\u2028\u2029]")
# The other C0/C1 controls, and lone surrogates from undecodable bytes.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff]")


def clean_question(question: str) -> str:
    """The question's visible text on one line, single-spaced; empty when nothing is left."""
    text = _SPACING_CONTROL.sub(" ", without_escapes(question))
    text = without_invisible(_CONTROL.sub("", text))
    return " ".join(text.split())


# Shouted questions ("¿QUÉ DIJERON SOBRE EL FENTANILO?") embed unlike the same words in lower
# case: e5 is cased, and capitals are rare in its training text. Short capitals are acronyms
# ("DEA", "FBI y DEA"), left alone.
SHOUTED_MIN_LETTERS = 12
SHOUTED_UPPER_SHARE = 0.8


def unshouted(question: str) -> str:
    """The question in lower case when it is written (almost) all in capitals, else as is."""
    cased = [c for c in question if c.isupper() or c.islower()]
    upper = sum(c.isupper() for c in cased)
    if len(cased) >= SHOUTED_MIN_LETTERS and upper >= SHOUTED_UPPER_SHARE * len(cased):
        return question.lower()
    return question


TOPIC_WORDS = 3


def names_only_a_topic(question: str) -> bool:
    """Up to three words and no question mark: a keyword search ("México", "robo de gasolina",
    "2025"), not a question. The answer policy was fitted on questions; on bare keywords its
    confidence is least reliable (a country, a year or a generic word sits close to many
    passages), so such input gets at most the closest passage, offered as such."""
    return len(question.split()) <= TOPIC_WORDS and not any(mark in question for mark in "?¿")
