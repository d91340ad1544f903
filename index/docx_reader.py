"""Word .docx → blocks (headings by style, list items, one row per table row), bounded in size.

A .docx is a zip: 1.5 MB of it once unpacked to 430 MB of XML and took the process to 2.5 GB.
Before python-docx sees the file, the sizes the zip declares are checked and then every member
is inflated in small pieces, counting what actually comes out, so a bomb is refused within a
few megabytes of memory whatever its headers claim.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import docx
from docx.document import Document as DocxDocument
from docx.oxml.ns import nsmap, qn
from docx.text.paragraph import Paragraph
from lxml import etree

from acuerdo.index.blocks import Block
from acuerdo.index.errors import DocumentError, DocumentTooLargeError

MAX_UNPACKED_BYTES = 100 * 2**20  # what the parts of a 20 MB .docx may add up to once inflated
MAX_MEMBERS = 10_000
_CHUNK = 1 << 16
_HEADING_STYLE = re.compile(r"(?:heading|t[íi]tulo|encabezado)\s*(\d)", re.I)
_W = {"w": nsmap["w"]}
# Compiled with the namespace: python-docx's own element classes take no `namespaces` argument
# in `xpath`, plain lxml elements (content controls) need one; a compiled XPath serves both.
_TOC_GALLERY = etree.XPath("./w:sdtPr/w:docPartObj/w:docPartGallery/@w:val", namespaces=_W)
_PLACEHOLDER = etree.XPath("./w:sdtPr/w:showingPlcHdr", namespaces=_W)
_OUTLINE_LEVEL = etree.XPath("./w:pPr/w:outlineLvl/@w:val", namespaces=_W)
_NUMBERING = etree.XPath("./w:pPr/w:numPr", namespaces=_W)
_VERTICAL_MERGE = etree.XPath("./w:tcPr/w:vMerge", namespaces=_W)
_GRID_BEFORE = etree.XPath("./w:trPr/w:gridBefore/@w:val", namespaces=_W)
_GRID_SPAN = etree.XPath("./w:tcPr/w:gridSpan/@w:val", namespaces=_W)
_BLOCK_TAGS = frozenset({qn("w:p"), qn("w:tbl")})
_ROW_TAGS = frozenset({qn("w:tr")})
_CELL_TAGS = frozenset({qn("w:tc")})
# Word's "TOC 1"… ("TDC 1" in Spanish Word), LibreOffice's "Contents 1" ("Contenido 1").
_TOC_STYLE = re.compile(r"(?:toc|tdc|contents|contenido)\s*\d|toc heading|tdc encabezado")


def read_docx(name: str, data: bytes) -> tuple[str | None, list[Block]]:
    """Body paragraphs and tables, in document order."""
    check_unpacked_size(name, data)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(_blocks(document.element.body, document))
        title = document.core_properties.title
    except Exception as exc:  # not a zip, missing parts, bad XML: the same advice for all
        raise DocumentError(
            f"El archivo .docx «{name}» está dañado o no es de Word; guárdelo de nuevo y reenvíelo."
        ) from exc
    return title or None, blocks


def check_unpacked_size(name: str, data: bytes) -> None:
    """Refuse a zip whose members declare or inflate to more than `MAX_UNPACKED_BYTES`."""
    too_big = DocumentTooLargeError(
        f"«{name}» ocupa más de {MAX_UNPACKED_BYTES // 2**20} MB una vez descomprimido, el máximo "
        "que leo. Divídalo en partes más pequeñas, o quite las imágenes, y vuelva a enviarlo."
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise too_big
            if sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
                raise too_big
            inflated = 0
            for member in members:
                with archive.open(member) as stream:
                    while piece := stream.read(_CHUNK):
                        inflated += len(piece)
                        if inflated > MAX_UNPACKED_BYTES:
                            raise too_big
    except DocumentTooLargeError:
        raise
    except Exception as exc:  # not a zip, bad CRC (sizes that lied), unsupported compression…
        raise DocumentError(
            f"El archivo .docx «{name}» está dañado o no es de Word; guárdelo de nuevo y reenvíelo."
        ) from exc


@dataclass(frozen=True)
class _Paragraph:
    """A body paragraph: its XML (read directly: python-docx's text skips words, see `_text`)
    and python-docx's view of it (for its style, resolved through the document's styles)."""

    element: Any
    view: Paragraph


def _heading_level(paragraph: _Paragraph) -> int:
    name = _style_name(paragraph)
    if name == "title":
        return 1
    match = _HEADING_STYLE.fullmatch(name)
    if match:
        return max(int(match.group(1)), 1)
    # Headings in styles of other names still carry an outline level (0 is the top one).
    outline = _OUTLINE_LEVEL(paragraph.element)
    return int(outline[0]) + 1 if outline and outline[0].isdecimal() and int(outline[0]) < 9 else 0


def _is_item(paragraph: _Paragraph) -> bool:
    return _style_name(paragraph).startswith(("list", "lista")) or bool(
        _NUMBERING(paragraph.element)
    )


def _elements(element: Any, document: DocxDocument) -> Iterator[_Paragraph | Any]:
    """Paragraphs and tables (`w:tbl` elements) in document order, also those inside content
    controls, but no table of contents (see `_wrapped`; paragraphs in TOC styles neither)."""
    for child in _wrapped(element, _BLOCK_TAGS):
        if child.tag == qn("w:tbl"):
            yield child
            continue
        paragraph = _Paragraph(child, Paragraph(child, document))
        if not _TOC_STYLE.fullmatch(_style_name(paragraph)):
            yield paragraph


def _style_name(paragraph: _Paragraph) -> str:
    style = paragraph.view.style
    return (style.name or "").strip().lower() if style is not None else ""


_RUN_TEXT = {qn("w:t"), qn("w:tab"), qn("w:ptab"), qn("w:br"), qn("w:cr"), qn("w:noBreakHyphen")}
# Text that is not (or no longer) in the document as it reads: tracked deletions and moves away,
# text boxes (drawings anchored in a run, with paragraphs of their own), and tab stops.
_NOT_READ = {qn("w:del"), qn("w:moveFrom"), qn("w:txbxContent"), qn("w:pPr")}


def _text(paragraph: Any) -> str:
    """The paragraph (a `w:p` element) as it reads. python-docx's `text` keeps only plain runs
    and hyperlinks: a word in an inline content control or a tracked insertion vanished from
    mid-sentence, and a verbatim quote must not lose words ("El programa se llama  y durará…")."""
    pieces: list[str] = []
    for node in paragraph.iter(*_RUN_TEXT):
        if any(a.tag in _NOT_READ or _unfilled(a) for a in _ancestors(node, paragraph)):
            continue
        tag = node.tag
        if tag == qn("w:t"):
            # An entity reference is never resolved (it could name a local file): it stays a
            # child node, and the words after it are its tail.
            pieces.append((node.text or "") + "".join(child.tail or "" for child in node))
        elif tag in (qn("w:tab"), qn("w:ptab")):
            pieces.append("\t")
        elif tag == qn("w:noBreakHyphen"):
            pieces.append("-")
        else:
            pieces.append("\n")
    return "".join(pieces)


def _unfilled(element: Any) -> bool:
    """A content control still showing its prompt ("Haga clic o pulse aquí para escribir
    texto."): Word's words, not the document's."""
    if element.tag != qn("w:sdt"):
        return False
    shown = _PLACEHOLDER(element)
    return any(flag.get(qn("w:val"), "true") not in ("0", "false", "off") for flag in shown)


def _ancestors(node: Any, stop: Any) -> Iterator[Any]:
    parent = node.getparent()
    while parent is not None and parent is not stop:
        yield parent
        parent = parent.getparent()


def _blocks(element: Any, document: DocxDocument) -> Iterator[Block]:
    for item in _elements(element, document):
        if not isinstance(item, _Paragraph):
            yield from _table_rows(item, document)
            continue
        level = _heading_level(item)
        if level:
            yield Block("heading", _text(item.element), level)
        else:
            yield Block("item" if _is_item(item) else "paragraph", _text(item.element))


def _grid_value(element: Any, path: etree.XPath, default: int) -> int:
    found = path(element)
    return int(found[0]) if found and str(found[0]).isdecimal() else default


def _wrapped(element: Any, tags: frozenset[str]) -> Iterator[Any]:
    """`element`'s children with one of `tags`, in document order, also those inside content
    controls (w:sdt) and custom XML, which python-docx's own iteration skips: templates and forms
    keep their paragraphs in them, a repeating section whole rows, a cell control one cell. A
    control still showing its prompt, or holding a table of contents (a list of section titles
    matches every question and answers none), is left out."""
    for child in element.iterchildren():
        if child.tag in tags:
            yield child
        elif child.tag == qn("w:sdt"):
            contents = any("contents" in str(value).lower() for value in _TOC_GALLERY(child))
            if not contents and not _unfilled(child):
                for content in child.iterchildren(qn("w:sdtContent")):
                    yield from _wrapped(content, tags)
        elif child.tag == qn("w:customXml"):
            yield from _wrapped(child, tags)


def _table_rows(table: Any, document: DocxDocument) -> Iterator[Block]:
    """One row block per table row (`w:tr`): its cells' text joined with " | ", each merged
    cell once; a cell merged down from the row above repeats that cell's text, so every row
    stands alone as a passage. Nested tables follow their row."""
    above: dict[int, str] = {}  # grid column → text of the cell whose vertical merge it is in
    for row in _wrapped(table, _ROW_TAGS):
        column = _grid_value(row, _GRID_BEFORE, 0)
        cells: list[str] = []
        nested: list[Any] = []
        for cell in _wrapped(row, _CELL_TAGS):
            merge = _VERTICAL_MERGE(cell)
            if merge and merge[0].get(qn("w:val"), "continue") == "continue":
                text = above.get(column, "")
            else:
                items = list(_elements(cell, document))
                texts = [_text(p.element).strip() for p in items if isinstance(p, _Paragraph)]
                text = " ".join(t for t in texts if t)
                nested += [t for t in items if not isinstance(t, _Paragraph)]
                above[column] = text
            cells.append(text)
            column += max(_grid_value(cell, _GRID_SPAN, 1), 1)
        if any(cells):
            yield Block("row", " | ".join(c for c in cells if c))
        for inner in nested:
            yield from _table_rows(inner, document)
