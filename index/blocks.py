"""What a reader hands to chunking: the document as typed blocks (headings, paragraphs, items…).

Readers know what a heading, a list item or a table row is (HTML tags, Word styles, font sizes in
a PDF); chunking needs to know it too, to attach headings to what they introduce and to keep a
list with the sentence that leads into it. Plain text has no such marks, so `guess_blocks`
recognises the few shapes that are unambiguous.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

BlockKind = Literal["heading", "paragraph", "item", "row", "code"]

# A word: two letters in a row. "…", "—", "1.", "iv" as a page number alone are not passages.
_WORD = re.compile(r"[^\W\d_]{2,}")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")
ITEM_MARKER = re.compile(r"(?:[-*+•◦▪▫●■□‣⁃–—]|\(?(?:\d{1,3}|[a-zA-Z])[.)])(?=\s)")
_SECTION_NUMBER = re.compile(r"(\d{1,3}(?:\.\d{1,3}){0,4})\.?\s+\S")
_NO_HEADING_END = tuple(".,;:…")
HEADING_MAX_CHARS = 90
HEADING_MAX_WORDS = 12


@dataclass(frozen=True)
class Block:
    """One unit of a document's text, kept verbatim; `level` only means something for headings."""

    kind: BlockKind
    text: str
    level: int = 0


def has_words(text: str) -> bool:
    """True when `text` holds at least one word: two letters in a row, not all the same one.

    Ornaments such as "--oo0oo--", "xxx" or "III" are letters but no words; a lone one won a
    confident quote for "ok" before it was refused here.
    """
    return any(len(set(match.group().lower())) > 1 for match in _WORD.finditer(text))


def blocks_text(blocks: Iterable[Block]) -> str:
    """The plain text of a document: one block per paragraph, blank lines between them."""
    return "\n\n".join(block.text for block in blocks)


def looks_like_heading(text: str, following: str | None) -> int:
    """The heading level of a lone line of plain text (0: not a heading).

    A heading is one short line without closing punctuation, followed by text; a numbered one
    ("3.2 ¿Qué contiene?") may end with a question mark, and its depth gives the level.
    """
    if following is None or "\n" in text or not has_words(text):
        return 0
    if len(text) > HEADING_MAX_CHARS or len(text.split()) > HEADING_MAX_WORDS:
        return 0
    numbered = _SECTION_NUMBER.match(text)
    if text.endswith(_NO_HEADING_END) or (text.endswith("?") and not numbered):
        return 0
    if ITEM_MARKER.match(text) and not numbered:
        return 0
    if not (text[0].isupper() or numbered or text[0] in "¿¡"):
        return 0
    return numbered.group(1).count(".") + 1 if numbered else 1


def guess_blocks(text: str) -> list[Block]:
    """Blocks of plain text: blank-line paragraphs, lone short lines as headings, list items."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = [p.strip() for p in _PARAGRAPH_BREAK.split(normalised) if p.strip()]
    blocks: list[Block] = []
    for index, paragraph in enumerate(paragraphs):
        following = paragraphs[index + 1] if index + 1 < len(paragraphs) else None
        level = looks_like_heading(paragraph, following)
        if level:
            blocks.append(Block("heading", paragraph, level))
        elif ITEM_MARKER.match(paragraph):
            blocks.append(Block("item", paragraph))
        else:
            blocks.append(Block("paragraph", paragraph))
    return blocks
