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
# A passage that stands alone says something: at least this many words. Fewer is a title, an
# option tag, a lone link, a proverb or a "Vaya a": quoted alone it answers nothing, and short
# texts sit close to every question in embedding space and win on one shared stem.
MIN_PASSAGE_WORDS = 8
_CLOSING = "\"'”’»)]"


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


def word_count(text: str) -> int:
    """Whitespace-separated tokens that hold a word ("--rsh-command=/usr/bin/ssh" is one)."""
    return sum(1 for token in text.split() if has_words(token))


def stands_alone(text: str) -> bool:
    """True when a passage carries enough words to be quoted by itself."""
    return word_count(text) >= MIN_PASSAGE_WORDS


def ends_sentence(text: str) -> bool:
    """True when the text ends as a sentence does (a title, a tag or a lead-in "…:" does not)."""
    return text.rstrip().rstrip(_CLOSING).endswith((".", "!", "?", "…"))


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
    if ", " in text and not numbered:
        return 0  # "Quien hijo cría, oro cría" is a saying; titles are rarely clauses
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
        first, _, rest = paragraph.partition("\n")
        if rest.strip() and _capital_title(first):
            # "SINOPSIS" / "DESCRIPCIÓN" above their text with no blank line (man pages, forms)
            blocks.append(Block("heading", first.strip(), 1))
            paragraph = rest.strip()
        level = looks_like_heading(paragraph, following)
        if level:
            blocks.append(Block("heading", paragraph, level))
        elif ITEM_MARKER.match(paragraph):
            blocks.append(Block("item", paragraph))
        else:
            blocks.append(Block("paragraph", paragraph))
    return blocks


def _capital_title(line: str) -> bool:
    """A short line in capitals with words: a section title however it is spaced."""
    line = line.strip()
    letters = [c for c in line if c.isalpha()]
    return (
        has_words(line)
        and len(line.split()) <= HEADING_MAX_WORDS
        and len(line) <= HEADING_MAX_CHARS
        and all(c.isupper() for c in letters)
        and not line.endswith(_NO_HEADING_END)
    )
