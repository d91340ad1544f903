"""Characters nobody sees, shared by everything that reads text: documents, titles, questions.

Documents and questions must lose the same ones, or a word split by one of them on one side
never meets its twin on the other ("fenta\\u200dnilo" in a pasted PDF, "fentanilo" in the
question). Terminal escape sequences go whole: removing only their ESC left "[2J" or "[31m" in
the text.
"""

from __future__ import annotations

import re

# CSI (ESC [ or its one-byte form … final byte), OSC (ESC ] … BEL or ST), other escapes (ESC,
# intermediate bytes, one final byte), or a lone ESC: "de\x1b árboles" keeps its space.
# Why it matters beyond the search: PostgreSQL refuses NUL in text, terminals obey escapes.
# A lone C1 byte (U+009B, U+009D) in text is more often mojibake ("ě", "ĝ" read as Latin-1)
# than a command, and must not take the letter or the paragraphs after it: the one-byte CSI
# needs a parameter, an OSC its terminator within one line (unterminated, only ESC ] goes).
ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[[0-?]*|\x9b[0-?]+)[ -/]*[@-~]"
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c\n]{0,4096}(?:\x07|\x1b\\|\x9c)"
    r"|\x1b(?:[!-/]*[0-~])?"
)
# Soft hyphen, zero-width space, LRM/RLM, word joiner and BOM; bidi marks and overrides (ALM,
# U+202A–E, U+2066–9) come with text pasted from right-to-left pages. Inside a word each splits
# it for the lexical index.
INVISIBLE = re.compile("[\u00ad\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
# Zero-width (non-)joiners split a word as well, but between emoji they make one picture
# (👨‍👩‍👧): they go only from between two letters or digits.
JOINER_IN_WORD = re.compile(r"(?<=\w)[\u200c\u200d]+(?=\w)")


def without_escapes(text: str) -> str:
    """`text` without terminal escape sequences, each removed whole. Readers remove these before
    control characters (ESC is one), and invisible characters after (see `without_invisible`)."""
    return ESCAPE_SEQUENCE.sub("", text)


def without_invisible(text: str) -> str:
    """`text` without invisible characters and in-word joiners. Run after a reader's removal of
    control characters: a NUL between a letter and a joiner would otherwise keep the joiner."""
    return JOINER_IN_WORD.sub("", INVISIBLE.sub("", text))


def without_unseen(text: str) -> str:
    """`text` without escape sequences and invisible characters (control characters stay: what
    they mean, a space or nothing, depends on the reader)."""
    return without_invisible(without_escapes(text))
