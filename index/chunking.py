"""Text → passages (one per paragraph, long ones cut at sentence boundaries) and sentence spans."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_PASSAGE_CHARS = 800

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
    """Passages of a document, numbered in reading order; paragraph numbers start at 1."""
    chunks: list[Chunk] = []
    for paragraph_number, paragraph in enumerate(split_paragraphs(text), start=1):
        for piece in split_long_paragraph(paragraph, max_chars):
            chunks.append(Chunk(ordinal=len(chunks), paragraph=paragraph_number, text=piece))
    return chunks
