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
from typing import Any

import docx
from docx.document import Document as DocxDocument
from docx.oxml.ns import nsmap, qn
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from acuerdo.index.blocks import Block
from acuerdo.index.errors import DocumentError, DocumentTooLargeError

MAX_UNPACKED_BYTES = 100 * 2**20  # what the parts of a 20 MB .docx may add up to once inflated
MAX_MEMBERS = 10_000
_CHUNK = 1 << 16
_HEADING_STYLE = re.compile(r"(?:heading|t[íi]tulo|encabezado)\s*(\d)", re.I)
# Word's "TOC 1"… ("TDC 1" in Spanish Word), LibreOffice's "Contents 1" ("Contenido 1").
_W = {"w": nsmap["w"]}
_TOC_GALLERY = "./w:sdtPr/w:docPartObj/w:docPartGallery/@w:val"
_TOC_STYLE = re.compile(r"(?:toc|tdc|contents|contenido)\s*\d|toc heading|tdc encabezado")


def read_docx(name: str, data: bytes) -> tuple[str | None, list[Block]]:
    """Body paragraphs and tables, in document order."""
    check_unpacked_size(name, data)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(_blocks(document))
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


def _heading_level(paragraph: Paragraph) -> int:
    style = paragraph.style
    name = style.name if style is not None and style.name else ""
    if name.lower() == "title":
        return 1
    match = _HEADING_STYLE.fullmatch(name.strip())
    if match:
        return max(int(match.group(1)), 1)
    # Headings in styles of other names still carry an outline level (0 is the top one).
    outline = paragraph._p.xpath("./w:pPr/w:outlineLvl/@w:val")
    return int(outline[0]) + 1 if outline and outline[0].isdigit() and int(outline[0]) < 9 else 0


def _is_item(paragraph: Paragraph) -> bool:
    style = paragraph.style
    name = (style.name or "") if style is not None else ""
    return name.lower().startswith(("list", "lista")) or bool(paragraph._p.xpath("./w:pPr/w:numPr"))


def _inner_content(container: DocxDocument | _Cell) -> Iterator[Paragraph | Table]:
    """Paragraphs and tables in document order, also those inside content controls (w:sdt),
    which python-docx's own iteration skips: templates and forms keep their text in them. A
    table of contents, whether a content control or paragraphs in TOC styles, is left out: a
    list of section titles matches every question and answers none."""
    parent = container if isinstance(container, _Cell) else container._body
    element = container._element if isinstance(container, _Cell) else container.element.body
    yield from _elements(element, parent)


def _elements(element: Any, parent: Any) -> Iterator[Paragraph | Table]:
    for child in element.iterchildren():
        if child.tag == qn("w:p"):
            paragraph = Paragraph(child, parent)
            if not _TOC_STYLE.fullmatch(_style_name(paragraph)):
                yield paragraph
        elif child.tag == qn("w:tbl"):
            yield Table(child, parent)
        elif child.tag == qn("w:sdt"):
            # Not a class python-docx registers: its plain lxml xpath needs the namespace.
            gallery = child.xpath(_TOC_GALLERY, namespaces=_W)
            contents = any("contents" in str(value).lower() for value in gallery)
            if not contents and not _unfilled(child):
                for content in child.iterchildren(qn("w:sdtContent")):
                    yield from _elements(content, parent)
        elif child.tag == qn("w:customXml"):
            yield from _elements(child, parent)


def _style_name(paragraph: Paragraph) -> str:
    style = paragraph.style
    return (style.name or "").strip().lower() if style is not None else ""


_RUN_TEXT = {qn("w:t"), qn("w:tab"), qn("w:ptab"), qn("w:br"), qn("w:cr"), qn("w:noBreakHyphen")}
# Text that is not (or no longer) in the document as it reads: tracked deletions and moves away,
# text boxes (drawings anchored in a run, with paragraphs of their own), and tab stops.
_NOT_READ = {qn("w:del"), qn("w:moveFrom"), qn("w:txbxContent"), qn("w:pPr")}


def _text(paragraph: Paragraph) -> str:
    """The paragraph as it reads. python-docx's `text` keeps only plain runs and hyperlinks: a
    word in an inline content control or a tracked insertion vanished from mid-sentence, and a
    verbatim quote must not lose words ("El programa se llama  y durará…")."""
    pieces: list[str] = []
    for node in paragraph._p.iter(*_RUN_TEXT):
        if any(a.tag in _NOT_READ or _unfilled(a) for a in _ancestors(node, paragraph._p)):
            continue
        tag = node.tag
        if tag == qn("w:t"):
            pieces.append(node.text or "")
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
    shown = element.xpath("./w:sdtPr/w:showingPlcHdr", namespaces=_W)
    return any(flag.get(qn("w:val"), "true") not in ("0", "false", "off") for flag in shown)


def _ancestors(node: Any, stop: Any) -> Iterator[Any]:
    parent = node.getparent()
    while parent is not None and parent is not stop:
        yield parent
        parent = parent.getparent()


def _blocks(container: DocxDocument | _Cell) -> Iterator[Block]:
    for item in _inner_content(container):
        if isinstance(item, Table):
            yield from _table_rows(item)
            continue
        level = _heading_level(item)
        if level:
            yield Block("heading", _text(item), level)
        else:
            yield Block("item" if _is_item(item) else "paragraph", _text(item))


def _table_rows(table: Table) -> Iterator[Block]:
    """One row block per table row: its cells' text joined with " | "; nested tables follow."""
    for row in table.rows:
        seen: set[object] = set()  # merged cells appear once per grid column they span
        cells: list[str] = []
        nested: list[Table] = []
        for cell in row.cells:
            if cell._tc in seen:
                continue
            seen.add(cell._tc)
            paragraphs = [p for p in _inner_content(cell) if isinstance(p, Paragraph)]
            texts = [_text(p).strip() for p in paragraphs]
            cells.append(" ".join(t for t in texts if t))
            nested += cell.tables
        if any(cells):
            yield Block("row", " | ".join(c for c in cells if c))
        for inner in nested:
            yield from _table_rows(inner)
