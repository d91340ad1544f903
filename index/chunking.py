"""Blocks → passages that stand alone, and sentence spans.

One passage per paragraph (long ones cut at sentence boundaries); a heading is never a passage
but the context of the passages below it; list items and table rows stay with the sentence that
leads into them, up to `MAX_GROUP_CHARS`; a passage always has words, and at least
`MIN_PASSAGE_WORDS` of them: a shorter unit (an option tag, a caption, a lone link, a saying)
joins a neighbour — the text it introduces when it is no sentence, else the one before. Text is
kept verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from acuerdo.index.blocks import Block, ends_sentence, guess_blocks, has_words, stands_alone

MAX_PASSAGE_CHARS = 800
# A lead-in with its list: long enough for a typical list of a dozen short items, short enough
# that the quote still fits a phone screen and the embedding is not diluted (e5 reads 512 tokens).
MAX_GROUP_CHARS = 1200
MAX_HEADING_CHARS = 300
# A list number or bullet on a line of its own (PDFs set them apart): it goes with what follows.
_LONE_MARKER = re.compile(
    r"\(?(?:\d{1,3}|[a-zA-Z])[.)]|[-*+•◦▪▫●■□‣⁃–—]"
)  # a path of headings, "Capítulo 2 › Requisitos", stored with each passage

# A table of contents' entry: a title, a dot leader, perhaps its page ("Antecedentes ..... 3").
# Whatever the format, such a block is a list of titles that matches everything, answers nothing.
# A title is short: a longer text before the dots or underscores is a sentence ending in a blank
# to fill in ("Declaro … que los datos son ciertos. Firma: ______"), and is kept.
_CONTENTS_ENTRY = re.compile(
    r".{0,120}\S\s*(?:(?:\.\s?){5,}|…{2,}|(?:·\s?){5,}|_{5,})\s*(?:\d{1,4}|[ivxlc]{1,6})?\s*", re.I
)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")
# A sentence ends at . ! ? or … (optionally followed by closing quotes/brackets) before whitespace.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)")
_ABBREVIATIONS = frozenset(
    """
sr sra srta dr dra lic ing arq gral mtro mtra no núm art etc ee uu ud uds pág págs vol cap
av ej aprox dir depto mr mrs ms st vs jr
""".split()
)


@dataclass(frozen=True)
class Chunk:
    """A passage before it is stored: its place in the document and its verbatim text."""

    ordinal: int
    paragraph: int
    text: str
    heading: str | None = None


def split_paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, trimmed, empty ones dropped."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    return [p.strip() for p in _PARAGRAPH_BREAK.split(normalised) if p.strip()]


def _is_abbreviation(text: str, period_at: int) -> bool:
    start = period_at
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:period_at]
    if re.fullmatch(r"(?:[A-Za-zÁÉÍÓÚÑáéíóúñ]\.)*[A-Za-zÁÉÍÓÚÑáéíóúñ]", word):
        return True  # initials such as "U.S." or "J."
    return word.lower().strip("(\"'“«") in _ABBREVIATIONS


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each sentence in `text`, whitespace excluded."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.group() == "." and _is_abbreviation(text, match.start()):
            continue
        end = match.end()
        rest = text[end:].lstrip()
        if rest and not (rest[0].isupper() or rest[0] in "¿¡\"'“«(-—–0123456789"):
            continue  # "p. ej. algo" or a lowercase continuation is not a new sentence
        spans.append((start, end))
        start = end
    spans.append((start, len(text)))
    result = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            result.append((s, e))
    return result


def _cut_long(text: str, limit: int) -> list[str]:
    """Cut a single over-long sentence at the last space before the limit."""
    pieces = []
    while len(text) > limit:
        cut = text.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def split_long_paragraph(paragraph: str, limit: int = MAX_PASSAGE_CHARS) -> list[str]:
    """Pack whole sentences into pieces of at most `limit` characters."""
    if len(paragraph) <= limit:
        return [paragraph]
    pieces: list[str] = []
    current_start: int | None = None
    current_end = 0
    for start, end in sentence_spans(paragraph):
        if current_start is not None and end - current_start > limit:
            pieces.append(paragraph[current_start:current_end])
            current_start = None
        if current_start is None:
            current_start = start
        current_end = end
    if current_start is not None:
        pieces.append(paragraph[current_start:current_end])
    return [part for piece in pieces for part in _cut_long(piece, limit)]


def chunk_text(text: str, *, max_chars: int = MAX_PASSAGE_CHARS) -> list[Chunk]:
    """Passages of plain text (see `guess_blocks`), numbered in reading order from 1."""
    return chunk_blocks(guess_blocks(text), max_chars=max_chars)


def chunk_blocks(
    blocks: Sequence[Block],
    *,
    max_chars: int = MAX_PASSAGE_CHARS,
    group_chars: int = MAX_GROUP_CHARS,
) -> list[Chunk]:
    """Passages of a document's blocks; `paragraph` numbers the units a reader would count."""
    chunks: list[Chunk] = []
    headings: list[tuple[int, str]] = []
    group: list[Block] = []
    paragraph = 0

    def emit(texts: list[str]) -> None:
        nonlocal paragraph
        texts = [t for t in texts if has_words(t)]
        if not texts:
            return
        paragraph += 1
        context = " › ".join(text for _, text in headings)[:MAX_HEADING_CHARS].rstrip() or None
        for text in texts:
            chunks.append(Chunk(len(chunks), paragraph, text, context))

    def flush() -> None:
        if group:
            emit(["\n".join(block.text for block in group)])
            group.clear()

    pending_marker = ""  # "1." or "•" alone on its line belongs to the text after it
    for block in blocks:
        text = f"{pending_marker} {block.text}".strip() if pending_marker else block.text
        pending_marker = ""
        if block.kind != "code" and _is_contents(text):
            continue
        if not has_words(text):
            if block.kind in ("item", "row") and group and any(c.isdigit() for c in text):
                group.append(Block(block.kind, text))  # a row of figures belongs to its table
            elif _LONE_MARKER.fullmatch(text):
                pending_marker = text
            continue
        if block.kind == "heading":
            flush()
            level = max(block.level, 1)
            kept = [(lv, t) for lv, t in headings if lv < level]
            headings[:] = [*kept, (level, " ".join(text.split()))]
            continue
        if block.kind in ("item", "row"):
            size = sum(len(b.text) + 1 for b in group) + len(text)
            if group and size > group_chars:
                flush()
            if len(text) > max_chars:
                flush()
                emit(split_long_paragraph(text, max_chars))
            else:
                group.append(Block(block.kind, text))
            continue
        flush()
        pieces = split_long_paragraph(text, max_chars)
        if len(pieces) == 1:
            group.append(Block(block.kind, text))  # may lead into a list: wait and see
        else:
            emit(pieces)
    flush()
    return _standing_alone(chunks, group_chars)


def _is_contents(text: str) -> bool:
    lines = [line for line in text.splitlines() if line.strip()]
    return bool(lines) and all(_CONTENTS_ENTRY.fullmatch(line) for line in lines)


def _join(first: Chunk, second: Chunk) -> Chunk:
    """`second` after `first`; across headings, the titles `first` lacks go along as lines, so a
    short table under "Montos" still says it is about amounts."""
    text = second.text
    if second.heading and second.heading != first.heading:
        own = (first.heading or "").split(" › ")
        titles = [t for t in second.heading.split(" › ") if t not in own]
        text = "\n".join([*titles, text])
    return Chunk(first.ordinal, first.paragraph, f"{first.text}\n{text}", first.heading)


def _standing_alone(units: list[Chunk], limit: int) -> list[Chunk]:
    """Units too short to stand alone joined to a neighbour; numbered again in reading order.

    First a unit that is no sentence (a tag, a title, "Vaya a") joins the one after it under the
    same heading; then any short unit joins the one before it under the same heading (a short
    saying after a longer one), or a short one before absorbs it; what is still short joins the
    passage before it even across headings, so no text is lost. A document with nothing longer
    keeps its short passages.
    """

    def fits(a: Chunk, b: Chunk) -> bool:
        return len(a.text) + len(b.text) + 1 <= limit

    forward: list[Chunk] = []
    carry: Chunk | None = None
    for unit in units:
        if carry is not None:
            if carry.heading == unit.heading and fits(carry, unit):
                unit = _join(carry, unit)
            else:
                forward.append(carry)
            carry = None
        if not stands_alone(unit.text) and not ends_sentence(unit.text):
            carry = unit
            continue
        forward.append(unit)
    if carry is not None:
        forward.append(carry)

    merged: list[Chunk] = []
    for same_heading in (True, False):
        merged = []
        for unit in forward:
            last = merged[-1] if merged else None
            if (
                last is not None
                and (last.heading == unit.heading or not same_heading)
                and fits(last, unit)
                and not (stands_alone(last.text) and stands_alone(unit.text))
            ):
                merged[-1] = _join(last, unit)
                if not stands_alone(last.text) and stands_alone(unit.text):
                    # A short opening (a page's links) goes under what it opens.
                    text = f"{last.text}\n{unit.text}"
                    merged[-1] = Chunk(last.ordinal, last.paragraph, text, unit.heading)
            else:
                merged.append(unit)
        forward = merged
    if any(stands_alone(unit.text) for unit in merged):
        merged = [unit for unit in merged if stands_alone(unit.text)]
    numbers: dict[int, int] = {}
    return [
        Chunk(ordinal, numbers.setdefault(u.paragraph, len(numbers) + 1), u.text, u.heading)
        for ordinal, u in enumerate(merged)
    ]
