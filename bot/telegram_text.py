"""Text as Telegram counts it: every limit (a message's 4096, a button answer's 200, an inline
search's 256) is in UTF-16 code units, so an emoji or any other character outside the Basic
Multilingual Plane counts 2, and a cut must not leave half of a symbol."""

from __future__ import annotations

import unicodedata


def telegram_length(text: str) -> int:
    """The length Telegram counts: UTF-16 code units (2 for an emoji or other astral character)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def telegram_prefix(text: str, limit: int) -> int:
    """How many characters of `text` fit within `limit` UTF-16 units, never ending inside a
    symbol made of several characters (a flag, a joined or skin-toned emoji, an accent)."""
    if len(text) * 2 <= limit:
        return len(text)
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return _symbol_start(text, index)
    return len(text)


def _symbol_start(text: str, index: int) -> int:
    while index > 0 and (
        text[index] in _JOINING
        or text[index - 1] == _ZWJ
        or unicodedata.combining(text[index])
        or _SKIN_TONES[0] <= text[index] <= _SKIN_TONES[1]
    ):
        index -= 1
    indicators = 0  # a flag is a pair of regional indicators: never keep half of one
    while indicators < index and _is_regional(text[index - 1 - indicators]):
        indicators += 1
    return index - 1 if indicators % 2 and _is_regional(text[index]) else index


_ZWJ = "\u200d"
_JOINING = {_ZWJ, "\ufe0e", "\ufe0f"}
_SKIN_TONES = ("\U0001f3fb", "\U0001f3ff")


def _is_regional(char: str) -> bool:
    return "\U0001f1e6" <= char <= "\U0001f1ff"


def telegram_cut(text: str, limit: int) -> str:
    """The longest prefix of `text` within `limit` UTF-16 units; a character is never halved."""
    return text[: telegram_prefix(text, limit)]
