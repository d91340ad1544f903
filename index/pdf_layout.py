"""Positioned runs of text from a PDF → blocks in reading order, without running headers.

PDF has no paragraphs, only glyphs at positions; this rebuilds what a reader sees: columns read
one after the other, lines repeated at the top or bottom of many pages (running headers, footers,
page numbers) dropped, lines joined into paragraphs where the spacing, the indentation and the
punctuation say they continue, words hyphenated at line ends joined back, larger or bold lines
marked as headings.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass, field, replace

from acuerdo.index.blocks import ITEM_MARKER, Block, has_words, looks_like_heading

HYPHEN = "\x02"  # PDFium's mark for a hyphen at the end of a line
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬆ": "st"})
_SENTENCE_END = tuple(".!?:;…»\"”')]")
_PAGE_NUMBER = re.compile(
    r"[\W_]*(?:p[áa]g(?:ina)?\.?|page)?\s*(?:\d{1,4}|[ivxlc]{1,7})(?:\s*(?:de|/|of)\s*\d{1,4})?[\W_]*",
    re.I,
)
_EDGE = 0.15  # running headers and footers live in the outer 15 % of the page height
_REPEATED_SHARE = 0.4  # on at least this share of pages (odd and even pages may differ)


@dataclass(frozen=True)
class Segment:
    """Glyphs on one line of one page without a wide gap; coordinates in points, y upwards."""

    page: int
    text: str
    left: float
    right: float
    bottom: float
    top: float
    size: float  # glyph box height, comparable across fonts of the same document
    bold: bool
    column: int = 0


@dataclass(frozen=True)
class PageLines:
    index: int
    width: float
    height: float
    segments: list[Segment] = field(default_factory=list)


def layout_blocks(pages: list[PageLines]) -> list[Block]:
    """Blocks of the whole document, in reading order."""
    ordered = [_lines(page) for page in pages]
    body = _drop_running_lines(ordered, pages)
    lines = [line for page in body for line in page]
    if not lines:
        return []
    return _paragraphs(lines)


def _lines(page: PageLines) -> list[Segment]:
    """The page's segments in reading order, those on one line of one column joined."""
    segments = [replace(s, text=s.text.translate(_LIGATURES)) for s in page.segments]
    gutter = _gutter(segments, page.width)
    if gutter is not None:
        segments = _by_columns(segments, gutter)
    joined: list[Segment] = []
    for segment in segments:
        last = joined[-1] if joined else None
        if (
            last is not None
            and last.column == segment.column
            and abs((last.top + last.bottom) / 2 - (segment.top + segment.bottom) / 2)
            < 0.3 * max(last.size, segment.size)
            and segment.left >= last.right - 1
        ):
            joined[-1] = replace(
                last,
                text=f"{last.text} {segment.text}",
                right=segment.right,
                bottom=min(last.bottom, segment.bottom),
                top=max(last.top, segment.top),
                bold=last.bold and segment.bold,
            )
        else:
            joined.append(segment)
    return joined


def _gutter(segments: list[Segment], width: float) -> float | None:
    """The x of a gap between two columns of text on this page, if it has two."""
    if len(segments) < 6:
        return None
    best: tuple[int, float, float] | None = None
    x = 0.3 * width
    while x <= 0.7 * width:
        crossing = sum(1 for s in segments if s.left < x < s.right)
        candidate = (crossing, abs(x - width / 2), x)
        best = candidate if best is None or candidate < best else best
        x += 2.0
    assert best is not None
    crossing, _, x = best
    left = [s for s in segments if s.right <= x]
    right = [s for s in segments if s.left >= x]
    if len(left) < 3 or len(right) < 3 or crossing > max(2, 0.15 * len(segments)):
        return None
    # Both sides must hold text at the same heights, not a narrow block beside a margin note.
    overlap = min(max(s.top for s in left), max(s.top for s in right)) - max(
        min(s.bottom for s in left), min(s.bottom for s in right)
    )
    return x if overlap > 0 else None


def _by_columns(segments: list[Segment], gutter: float) -> list[Segment]:
    """Top to bottom; between full-width lines, the left column first, then the right one."""
    result: list[Segment] = []
    band: tuple[list[Segment], list[Segment]] = ([], [])

    def flush() -> None:
        for side in band:
            result.extend(sorted(side, key=lambda s: -s.top))
            side.clear()

    for segment in sorted(segments, key=lambda s: -s.top):
        if segment.left < gutter < segment.right:
            flush()
            result.append(segment)
        elif segment.right <= gutter:
            band[0].append(replace(segment, column=1))
        else:
            band[1].append(replace(segment, column=2))
    flush()
    return result


def _key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def _drop_running_lines(
    ordered: list[list[Segment]], pages: list[PageLines]
) -> list[list[Segment]]:
    """Without lines repeated at the top or bottom of many pages, nor page numbers there."""

    def edges(lines: list[Segment], page: PageLines) -> list[Segment]:
        by_height = sorted(lines, key=lambda s: -s.top)
        outer = [*by_height[:2], *by_height[-2:]]
        return [
            s for s in outer if s.top > (1 - _EDGE) * page.height or s.bottom < _EDGE * page.height
        ]

    counts: Counter[str] = Counter()
    for lines, page in zip(ordered, pages, strict=True):
        counts.update({_key(s.text) for s in edges(lines, page)})
    needed = max(2, _REPEATED_SHARE * len(pages))
    marked = []
    for lines, page in zip(ordered, pages, strict=True):
        outer = edges(lines, page)
        numbers = {id(s) for s in outer if _PAGE_NUMBER.fullmatch(s.text)}
        repeated = {id(s) for s in outer if counts[_key(s.text)] >= needed} - numbers
        marked.append((lines, numbers, repeated))
    # A header or footer runs above or below a body: a repeated line that never shares its page
    # with other text (one line per page, alike but for a number) is the body itself, while
    # a real header stays out even of a page where nothing else is left.
    beside_body = {
        _key(s.text)
        for lines, numbers, repeated in marked
        if any(id(s) not in numbers | repeated for s in lines)
        for s in lines
        if id(s) in repeated
    }
    return [
        [
            s
            for s in lines
            if id(s) not in numbers and (id(s) not in repeated or _key(s.text) not in beside_body)
        ]
        for lines, numbers, repeated in marked
    ]


def _body_size(lines: list[Segment]) -> float:
    sizes: Counter[float] = Counter()
    for line in lines:
        sizes[round(line.size, 1)] += len(line.text)
    return sizes.most_common(1)[0][0]


def _paragraphs(lines: list[Segment]) -> list[Block]:
    body = _body_size(lines)
    steps = [
        a.bottom - b.bottom
        for a, b in itertools.pairwise(lines)
        if (a.page, a.column) == (b.page, b.column) and 0 < a.bottom - b.bottom < 3 * body
    ]
    # The lower quartile: in short documents the gaps between paragraphs can be most steps.
    leading = sorted(steps)[len(steps) // 4] if steps else 1.2 * body
    margins: dict[tuple[int, int], tuple[float, float]] = {}
    for key in {(line.page, line.column) for line in lines}:
        column = [line for line in lines if (line.page, line.column) == key]
        lefts = sorted(line.left for line in column)
        rights = sorted(line.right for line in column)
        margins[key] = (lefts[len(lefts) // 10], rights[len(rights) * 9 // 10])
    vocabulary = {w for line in lines for w in re.findall(r"\w+(?:-\w+)+", line.text)}

    groups: list[list[Segment]] = []
    for line in lines:
        previous = groups[-1][-1] if groups else None
        if previous is None or _breaks(previous, line, groups[-1], margins, leading, body):
            groups.append([line])
        else:
            groups[-1].append(line)
    blocks = [block for group in groups if (block := _block(group, body, vocabulary))]
    # A short line in the body font without closing punctuation ("Artículo 1", "3.2 ¿Qué
    # contiene?") is a heading too; below those the fonts told apart.
    for index, block in enumerate(blocks):
        following = blocks[index + 1].text if index + 1 < len(blocks) else None
        # Lines alike but for their numbers ("Acta 1", "Acta 2") are siblings, not a heading.
        sibling = following is not None and _key(following) == _key(block.text)
        if block.kind == "paragraph" and not sibling and looks_like_heading(block.text, following):
            blocks[index] = Block("heading", block.text, 4)
    return blocks


def _breaks(
    previous: Segment,
    line: Segment,
    group: list[Segment],
    margins: dict[tuple[int, int], tuple[float, float]],
    leading: float,
    body: float,
) -> bool:
    """Whether `line` starts a new paragraph after `previous`."""
    text = previous.text
    if text.endswith(HYPHEN):
        return False
    if (previous.page, previous.column) != (line.page, line.column):
        # Another page or column: the paragraph goes on only if it stopped mid-sentence there.
        return text.endswith(_SENTENCE_END) or not line.text[:1].islower()
    if abs(previous.size - line.size) > 0.12 * max(previous.size, line.size):
        return True
    if previous.bold != line.bold or ITEM_MARKER.match(line.text):
        return True
    step = previous.bottom - line.bottom
    if step > 1.4 * leading or step < 0:
        return True
    left, right = margins[(line.page, line.column)]
    in_item = ITEM_MARKER.match(group[0].text) is not None
    if not in_item and line.left - left > 0.6 * body and previous.left - left < 0.4 * body:
        return True  # an indented first line
    short = previous.right < right - 0.15 * (right - left)
    return short and text.endswith(_SENTENCE_END)


def _join(lines: list[Segment], vocabulary: set[str]) -> str:
    text = ""
    for line in lines:
        if text.endswith((HYPHEN, "-")) and text[-2:-1].isalpha():
            head = text[:-1]
            word = re.search(r"\w+$", head)
            tail = re.match(r"\w+", line.text)
            hyphenated = f"{word.group() if word else ''}-{tail.group() if tail else ''}"
            # "coopera-" + "ción" is one word; "México-" + "Estados" and words the document
            # writes with a hyphen elsewhere ("teórico-práctico") keep theirs.
            keep = not line.text[:1].islower() or hyphenated in vocabulary
            text = f"{head}-{line.text}" if keep else head + line.text
        else:
            text = f"{text} {line.text}" if text else line.text
    return " ".join(text.replace(HYPHEN, "-").split())


def _block(group: list[Segment], body: float, vocabulary: set[str]) -> Block | None:
    text = _join(group, vocabulary)
    if not text:
        return None
    size = max(line.size for line in group)
    bold = all(line.bold for line in group)
    heading_like = (
        len(group) <= 3
        and len(text) <= 150
        and has_words(text)
        and not text.endswith((".", ",", ";"))
        and not ITEM_MARKER.match(text)
    )
    if heading_like and size >= 1.12 * body:
        return Block("heading", text, 1 if size >= 1.6 * body else 2 if size >= 1.3 * body else 3)
    if heading_like and bold and len(group) <= 2 and len(text) <= 100:
        return Block("heading", text, 4)
    return Block("item" if ITEM_MARKER.match(text) else "paragraph", text)
