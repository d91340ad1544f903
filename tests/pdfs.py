"""Real-looking PDFs for the reader tests: hand-written content streams, as TeX writes them.

TeX sets a justified line as runs of glyphs moved apart with TJ offsets, without space glyphs;
that is what made pypdf glue words. `typeset` writes such files: Helvetica (PDF's standard font,
whose metrics every reader knows), first-line indents and no gap between paragraphs, words
hyphenated at line ends, a running header and a page number on every page, one or two columns
(two columns written line by line across both, so the file's order is not the reading order).
"""

from __future__ import annotations

import re

_WIDTH, _HEIGHT = 595.0, 842.0
_SIZE, _LEADING, _HEADING_SIZE = 10.0, 12.5, 13.0
_TOP, _BOTTOM, _MARGIN = 770.0, 80.0, 70.0
_CHAR_EM = 0.5  # a rough mean glyph width of Helvetica: good enough to fill lines


def _literal(text: str) -> bytes:
    raw = text.encode("cp1252")
    return b"(" + re.sub(rb"([()\\])", rb"\\\1", raw) + b")"


def _wrap(words: list[str], width: float, indent: float) -> list[tuple[list[str], float]]:
    """Lines of words (a long word split with a hyphen at the end of a line), with their indent."""
    lines: list[tuple[list[str], float]] = []
    current: list[str] = []
    room = width - indent
    used = 0.0
    queue = list(words)
    while queue:
        word = queue.pop(0)
        need = len(word) * _CHAR_EM * _SIZE + (_SIZE * 0.3 if current else 0)
        if used + need <= room:
            current.append(word)
            used += need
            continue
        if len(word) >= 9 and word.isalpha():  # hyphenate: "coopera-" / "ción"
            cut = len(word) // 2 + 1
            head = word[:cut] + "-"
            if used + len(head) * _CHAR_EM * _SIZE + _SIZE * 0.3 <= room:
                current.append(head)
                queue.insert(0, word[cut:])
                word = ""
        lines.append((current, indent if not lines else 0.0))
        current, used, room = [], 0.0, width
        if word:
            queue.insert(0, word)
    if current:
        lines.append((current, indent if not lines else 0.0))
    return lines


def _tj_line(words: list[str], x: float, y: float, gap: float, font: bytes, size: float) -> bytes:
    runs = b" ".join(
        _literal(word) + (b" %d" % -round(gap * 1000 / size) if i < len(words) - 1 else b"")
        for i, word in enumerate(words)
    )
    return b"BT /%s %.1f Tf 1 0 0 1 %.2f %.2f Tm [%s] TJ ET\n" % (font, size, x, y, runs)


def typeset(
    sections: list[tuple[str, list[str]]], *, header: str, columns: int = 1
) -> tuple[bytes, int]:
    """A PDF of `sections` (heading, paragraphs); returns it with its number of pages."""
    gutter = 30.0
    width = (_WIDTH - 2 * _MARGIN - (columns - 1) * gutter) / columns
    rows: list[tuple[bytes, float, list[str], float, bool]] = []  # font, size, words, indent, last
    for heading, paragraphs in sections:
        rows.append((b"F2", _HEADING_SIZE, heading.split(), 0.0, True))
        for paragraph in paragraphs:
            wrapped = _wrap(paragraph.split(), width, 15.0)
            for number, (words, indent) in enumerate(wrapped):
                rows.append((b"F1", _SIZE, words, indent, number == len(wrapped) - 1))
    per_column = int((_TOP - _BOTTOM) / _LEADING)
    pages: list[bytes] = []
    for start in range(0, len(rows), per_column * columns):
        page_rows = rows[start : start + per_column * columns]
        stream = _tj_line(header.split(), _MARGIN, 800.0, 2.5, b"F1", 9.0)
        number = str(len(pages) + 1)
        stream += _tj_line([number], _WIDTH / 2 - 3, 45.0, 0, b"F1", 9.0)
        for line in range(per_column):  # across the columns, line by line
            for column in range(columns):
                index = column * per_column + line
                if index >= len(page_rows):
                    continue
                font, size, words, indent, last = page_rows[index]
                x = _MARGIN + column * (width + gutter) + indent
                natural = sum(len(w) for w in words) * _CHAR_EM * size
                spaces = max(len(words) - 1, 1)
                gap = 0.3 * size if last else max((width - indent - natural) / spaces, 0.2 * size)
                stream += _tj_line(words, x, _TOP - line * _LEADING, gap, font, size)
        pages.append(stream)
    return _document(pages), len(pages)


def _document(streams: list[bytes]) -> bytes:
    objects: list[bytes] = [b"", b""]  # 1: catalog, 2: pages (filled below)
    fonts = []
    for name in (b"Helvetica", b"Helvetica-Bold"):
        objects.append(
            b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>" % name
        )
        fonts.append(len(objects))
    kids = []
    for stream in streams:
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        content = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> >>"
            % (int(_WIDTH), int(_HEIGHT), content, fonts[0], fonts[1])
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
