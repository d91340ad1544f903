"""PDF → blocks with PDFium (the `pypdfium2` wheel): its text layer, glyph by glyph, with boxes.

PDFium puts the spaces back where a producer only moved the pen between words (TeX's justified
lines: no space glyphs, only TJ offsets), which pypdf did not: 65 % of a TeX manual's passages
came out as "Elcorreoelectrónicosepasaalcomando…". It also decrypts files locked only against
printing or copying (empty user password), and is ~20× faster. PDFium's lines are cut further
where the pen jumps (a column gap, a move back to the left), and `pdf_layout` orders them,
drops running headers and page numbers and builds paragraphs.
"""

from __future__ import annotations

import ctypes

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from acuerdo.index.blocks import Block
from acuerdo.index.errors import DocumentError, EmptyDocumentError
from acuerdo.index.pdf_layout import PageLines, Segment, layout_blocks

# A horizontal gap wider than this many glyph heights ends a segment: a column gutter or the
# space between table cells; a justified word space stays far below it (under one em).
_GAP_IN_HEIGHTS = 1.5
_BOLD_WEIGHT = 600


def read_pdf(name: str, data: bytes) -> tuple[str | None, list[Block]]:
    """The text of every page as blocks; `DocumentError`s say what is wrong in Spanish."""
    # The PDF header may follow up to 1 KiB of junk; without it the file is something else
    # renamed (a text, a Word file), which "dañado" would misdescribe.
    if b"%PDF-" not in data[:1024]:
        raise DocumentError(
            f"«{name}» no es un PDF aunque su nombre termine en .pdf; envíe el PDF original "
            "o el archivo con la extensión que le corresponde (.txt, .docx, .html…)."
        )
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if exc.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise DocumentError(
                f"El PDF «{name}» está protegido; envíe una copia sin protección."
            ) from exc
        raise _damaged(name) from exc
    try:
        title = document.get_metadata_value("Title") or None
        pages = [_page_lines(document, index) for index in range(len(document))]
    except pdfium.PdfiumError as exc:
        raise _damaged(name) from exc
    finally:
        document.close()
    blocks = layout_blocks(pages)
    if not blocks:
        raise EmptyDocumentError(
            f"El PDF «{name}» no tiene texto seleccionable: parece escaneado, y no leo texto "
            "en imágenes. Envíe una versión con texto (por ejemplo, pasada por OCR)."
        )
    return title, blocks


def _damaged(name: str) -> DocumentError:
    return DocumentError(f"El PDF «{name}» está dañado; guárdelo de nuevo y reenvíelo.")


def _page_lines(document: pdfium.PdfDocument, index: int) -> PageLines:
    page = document[index]
    try:
        width, height = page.get_size()
        textpage = page.get_textpage()
        try:
            return PageLines(index, width, height, _segments(textpage, index))
        finally:
            textpage.close()
    finally:
        page.close()


def _segments(textpage: pdfium.PdfTextPage, page: int) -> list[Segment]:
    """Runs of glyphs on one line without a wide gap, in PDFium's (content stream) order."""
    segments: list[Segment] = []
    text: list[str] = []
    box = pdfium_c.FS_RECTF()
    left = right = bottom = top = size = 0.0
    bold = False

    def close() -> None:
        joined = "".join(text).strip()
        if joined:
            segments.append(Segment(page, joined, left, right, bottom, top, size, bold))
        text.clear()

    # Per glyph, so the hot loop calls PDFium on the raw handle through local names.
    handle, pointer = textpage.raw, ctypes.byref(box)
    unicode_of, box_of = pdfium_c.FPDFText_GetUnicode, pdfium_c.FPDFText_GetLooseCharBox
    for i in range(pdfium_c.FPDFText_CountChars(handle)):
        code = unicode_of(handle, i)
        if code in (10, 13):
            close()
            continue
        char = chr(code)
        if char.isspace() or code == 0xFFFE:
            if text:
                text.append(" ")
            continue
        if not box_of(handle, i, pointer):
            continue
        height = box.top - box.bottom
        if height <= 0:
            continue
        if text:
            middle, current = (box.top + box.bottom) / 2, (top + bottom) / 2
            if (
                abs(middle - current) > 0.5 * max(height, size)
                or box.left < right - height  # the pen went back: a new line or column
                or box.left - right > _GAP_IN_HEIGHTS * max(height, size)
            ):
                close()
        if not text:
            left, right, bottom, top, size = box.left, box.right, box.bottom, box.top, height
            bold = pdfium_c.FPDFText_GetFontWeight(handle, i) >= _BOLD_WEIGHT
        else:
            left, right = min(left, box.left), max(right, box.right)
            bottom, top, size = min(bottom, box.bottom), max(top, box.top), max(size, height)
        text.append(char)
    close()
    return segments
