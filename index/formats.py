"""Readers for binary formats (PDF, DOCX, HTML), imported only when such a file arrives.

Their parsers (pypdf, python-docx, BeautifulSoup) add ~0.2 s to start-up, which a bot that only
answers questions should not pay.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from itertools import pairwise

import docx
from bs4 import BeautifulSoup, NavigableString, Tag
from docx.document import Document as DocxDocument
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from pypdf import PageObject, PdfReader
from pypdf.errors import DependencyError

from index.errors import DocumentError, EmptyDocumentError
from index.loaders import CONTROL_CHARACTERS, clean_text

# Typeset PDFs use ligature glyphs; a question typed with "fi" must still match them.
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬆ": "st"})
_SENTENCE_END = tuple(".!?:;…»\"”')]")
_BULLETS = tuple("•◦▪▫●■□‣⁃")
_HTML_HIDDEN = re.compile(r"script|style|nav|noscript|template|head|title|svg|iframe|object")
_HTML_BLOCKS = re.compile(
    r"p|li|h[1-6]|blockquote|div|tr|section|article|main|header|footer|aside|ul|ol|dl|dt|dd"
    r"|table|pre|figure|figcaption|address|hr|caption|details|summary|form|fieldset|legend|body"
)
_CELL = "\x00"  # marks a table cell boundary; control characters are removed beforehand


def load_pdf(name: str, data: bytes) -> tuple[str | None, str]:
    """The text layer of each page, hard-wrapped lines joined back into paragraphs."""
    try:
        reader = PdfReader(io.BytesIO(data))
        # An empty password opens PDFs "encrypted" only to restrict printing or copying.
        locked = reader.is_encrypted and not reader.decrypt("")
        pages = [] if locked else [_pdf_page_lines(page) for page in reader.pages]
        title = None if locked or not reader.metadata else reader.metadata.title
    except DependencyError:  # AES decryption needs the optional "cryptography" package
        locked, pages, title = True, [], None
    except Exception as exc:  # pypdf signals damage with many exception types; all mean the same
        raise DocumentError(f"El PDF «{name}» está dañado; guárdelo de nuevo y reenvíelo.") from exc
    if locked:
        raise DocumentError(f"El PDF «{name}» está protegido; envíe una copia sin protección.")
    text = "\n\n".join(_pdf_paragraphs(pages))
    if not clean_text(text):
        raise EmptyDocumentError(
            f"El PDF «{name}» no tiene texto seleccionable: parece escaneado, y no leo texto "
            "en imágenes. Envíe una versión con texto (por ejemplo, pasada por OCR)."
        )
    return (title if isinstance(title, str) else None), text


def _pdf_page_lines(page: PageObject) -> tuple[list[str], set[str]]:
    """A page's lines (reading order) and those the layout shows followed by a vertical gap."""
    plain = page.extract_text().translate(_LIGATURES)
    layout = ""
    with contextlib.suppress(Exception):  # best effort: the reading order comes from plain mode
        layout = page.extract_text(extraction_mode="layout")
    # Layout mode shows vertical gaps as blank lines but may interleave columns: use the gaps only.
    rows = [" ".join(row.translate(_LIGATURES).split()) for row in layout.rstrip().split("\n")]
    gaps = {row for row, after in pairwise(rows) if row and not after}
    return [" ".join(line.split()) for line in plain.split("\n")], gaps


def _pdf_paragraphs(pages: list[tuple[list[str], set[str]]]) -> Iterator[str]:
    """Join hard-wrapped lines; a paragraph ends at a gap, a bullet, or a short final line."""
    current = ""
    for (lines, gaps), (next_lines, _) in pairwise([*pages, ([], set())]):
        longest = max((len(line) for line in lines), default=0)
        for line, following in pairwise([*lines, ""]):
            # "coope-" + "ración": a word hyphenated across the line break is joined back.
            hyphenated = current.endswith("-") and current[-2:-1].isalpha() and line[:1].islower()
            current = current[:-1] + line if hyphenated else f"{current} {line}".strip()
            closes = line.endswith(_SENTENCE_END) or following[:1].isupper()
            # With no spacing between paragraphs, a clearly short line that closes one ends it.
            ends = not line or (line in gaps if gaps else len(line) < 0.7 * longest and closes)
            if current and (ends or following.startswith(_BULLETS)):
                yield current
                current = ""
        next_line = next((line for line in next_lines if line), "")
        # A paragraph continues on the next page only if it is mid-sentence there.
        if current and (current.endswith(_SENTENCE_END) or not next_line[:1].islower()):
            yield current
            current = ""


def load_docx(name: str, data: bytes) -> tuple[str | None, str]:
    """Body paragraphs and table cells, in document order, one paragraph each."""
    try:
        document = docx.Document(io.BytesIO(data))
        paragraphs = list(_docx_blocks(document))
        title = document.core_properties.title
    except Exception as exc:  # not a zip, missing parts, bad XML: the same advice for all
        raise DocumentError(
            f"El archivo .docx «{name}» está dañado o no es de Word; guárdelo de nuevo y reenvíelo."
        ) from exc
    return title or None, "\n\n".join(paragraphs)


def _docx_blocks(container: DocxDocument | _Cell) -> Iterator[str]:
    """Paragraph texts of a document or table cell, descending into (nested) tables."""
    for block in container.iter_inner_content():
        if isinstance(block, Paragraph):
            yield block.text
            continue
        seen: set[object] = set()  # merged cells appear once per grid column they span
        for cell in (cell for row in block.rows for cell in row.cells if cell._tc not in seen):
            seen.add(cell._tc)
            yield from _docx_blocks(cell)


def _decode_html(data: bytes) -> str:
    """The declared charset, else UTF-8, else Windows-1252: what a browser would do."""
    match = re.search(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", data[:4096], re.I)
    declared = match.group(1).decode("ascii").lower() if match else ""
    # Browsers read Latin-1/ASCII pages as Windows-1252 (“”, €, —) and a declared UTF-16 as UTF-8.
    latin = re.fullmatch(r"iso[-_]?8859[-_]1|latin[-_]?1|l1|(?:us-)?ascii", declared)
    declared = "cp1252" if latin else "" if declared.startswith("utf-16") else declared
    for encoding in (declared, "utf-8-sig", "cp1252"):
        with contextlib.suppress(LookupError, UnicodeDecodeError):  # "" is no encoding at all
            return data.decode(encoding)
    return data.decode("utf-8", "replace")


def load_html(name: str, data: bytes) -> tuple[str | None, str]:
    """Visible text; block elements become paragraphs, <br> a line break, table cells " | "."""
    soup = BeautifulSoup(CONTROL_CHARACTERS.sub("", _decode_html(data)), "html.parser")
    heading = soup.title if soup.title and soup.title.get_text().strip() else soup.find("h1")
    title = heading.get_text(" ") if isinstance(heading, Tag) else None
    # One pass in document order (editing the tree is quadratic on deeply nested pages).
    context: dict[int, tuple[int, bool]] = {id(soup): (id(soup), False)}
    paragraphs: list[list[str]] = [[]]
    current = id(soup)
    for node in soup.descendants:
        block, hidden = context[id(node.parent)]
        if isinstance(node, Tag):
            hidden = hidden or bool(_HTML_HIDDEN.fullmatch(node.name))
            starts_block = bool(_HTML_BLOCKS.fullmatch(node.name))
            context[id(node)] = (id(node) if starts_block else block, hidden)
            if starts_block:
                current = -1  # the next text starts a new paragraph
            elif node.name == "br" and not hidden:
                paragraphs[-1].append("\n")
            elif node.name in ("td", "th") and block == current and not hidden:
                paragraphs[-1].append(_CELL)
        elif type(node) is NavigableString and not hidden:  # not comments or doctypes
            if block != current:
                paragraphs.append([])
                current = block
            paragraphs[-1].append(re.sub(r"\s+", " ", node))
    # Only <br> made newlines; a cell marker at the edge of a line has nothing to separate.
    text = re.sub(
        f"^[{_CELL} ]+|[{_CELL} ]+$", "", "\n\n".join(map("".join, paragraphs)), flags=re.M
    )
    return title, text.replace(_CELL, " | ")
