"""Uploaded files (txt, md, pdf, docx, html) → a title and plain text with blank-line paragraphs."""

from __future__ import annotations

import codecs
import contextlib
import io
import math
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path, PurePath

import docx
from bs4 import BeautifulSoup, NavigableString, Tag
from docx.document import Document as DocxDocument
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from pypdf import PageObject, PdfReader
from pypdf.errors import DependencyError

from index.errors import (
    DocumentError,
    DocumentTooLargeError,
    EmptyDocumentError,
    EncodingError,
    UnsupportedFormatError,
)

SUPPORTED_EXTENSIONS: tuple[str, ...] = (".txt", ".md", ".pdf", ".docx", ".html", ".htm")
MAX_FILE_BYTES = 20 * 1024 * 1024  # the Telegram Bot API won't let a bot download anything bigger
MAX_NAME_CHARS = 120
MAX_TITLE_CHARS = 300  # width of the title column in the database

# Exotic spaces (no-break, thin, ideographic…) become plain spaces so quotes and searches match.
_SPACES = re.compile(r"[ \t\v\f\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
# Invisible characters (zero-width, BOM, soft hyphen, bidi overrides) would split words silently.
_INVISIBLE = re.compile(r"[\u00ad\u200b\u2060\ufeff\u202a-\u202e\u2066-\u2069]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
# Typeset PDFs use ligature glyphs; a question typed with "fi" must still match them.
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬆ": "st"})
_SENTENCE_END = tuple(".!?:;…»\"”')]")
_BULLETS = tuple("•◦▪▫●■□‣⁃")
_ATX_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*))?")
_HTML_HIDDEN = re.compile(r"script|style|nav|noscript|template|head|title|svg|iframe|object")
_HTML_BLOCKS = re.compile(
    r"p|li|h[1-6]|blockquote|div|tr|section|article|main|header|footer|aside|ul|ol|dl|dt|dd"
    r"|table|pre|figure|figcaption|address|hr|caption|details|summary|form|fieldset|legend|body"
)
_CELL = "\x00"  # marks a table cell boundary; control characters are removed beforehand


@dataclass(frozen=True)
class LoadedDocument:
    """A document's title and its text: paragraphs separated by one blank line."""

    title: str
    text: str


def check_size(size: int) -> None:
    """Refuse files larger than `MAX_FILE_BYTES`."""
    if size > MAX_FILE_BYTES:
        shown = f"{math.ceil(size * 10 / 2**20) / 10:.1f}".replace(".", ",")
        raise DocumentTooLargeError(
            f"El archivo ocupa {shown} MB y el máximo admitido es {MAX_FILE_BYTES // 2**20} MB. "
            "Divídalo en partes más pequeñas y envíelas por separado."
        )


def safe_file_name(name: str) -> str:
    """The base name of an uploaded file: no folders, no control characters, at most ~120 chars."""
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", name))[-1]
    base = "".join(ch for ch in _INVISIBLE.sub("", base) if unicodedata.category(ch) != "Cc")
    # Windows silently drops trailing dots and spaces, and "." / ".." are not names at all.
    base = _SPACES.sub(" ", base).strip().rstrip(". ")
    if len(base) > MAX_NAME_CHARS:
        suffix = PurePath(base).suffix[:10]
        base = base[: MAX_NAME_CHARS - len(suffix)].rstrip(". ") + suffix
    if not base:
        raise DocumentError("El nombre del archivo no es válido; cámbielo y vuelva a enviarlo.")
    return base


def load_path(path: Path) -> LoadedDocument:
    """Read a file from disk, check its size, then `load_bytes`."""
    try:
        check_size(path.stat().st_size)
        data = path.read_bytes()
    except OSError as exc:  # missing, a folder, no permission, a disk error…
        verb = "encuentro" if isinstance(exc, FileNotFoundError) else "puedo leer"
        raise DocumentError(f"No {verb} el archivo «{path}».") from exc
    return load_bytes(path.name, data)


def load_bytes(name: str, data: bytes) -> LoadedDocument:
    """Turn an uploaded file into a `LoadedDocument`, choosing the reader by its extension."""
    safe = safe_file_name(name)
    extension = PurePath(safe).suffix.lower()
    loader = _LOADERS.get(extension)
    if loader is None:
        listed = ", ".join(SUPPORTED_EXTENSIONS[:-1]) + f" y {SUPPORTED_EXTENSIONS[-1]}"
        raise UnsupportedFormatError(
            f"No puedo leer «{safe}»: los formatos admitidos son {listed}. Guarde el documento "
            "en uno de ellos (por ejemplo, como PDF o DOCX) y vuelva a enviarlo."
        )
    check_size(len(data))
    if not data.strip():
        raise EmptyDocumentError(f"El archivo «{safe}» está vacío.")
    title, raw = loader(safe, data)
    if not (text := _clean_text(raw)):
        raise EmptyDocumentError(f"El documento «{safe}» no tiene texto que se pueda indexar.")
    stem = PurePath(safe).stem
    fallback = " ".join(re.sub(r"[_-]+", " ", stem).split()) if extension == ".txt" else stem
    title = " ".join(_clean_text(title or "").split()) or fallback
    return LoadedDocument(title=title[:MAX_TITLE_CHARS].rstrip(), text=text)


def _clean_text(text: str) -> str:
    """NFC; one kind of newline and space; invisible characters gone; at most one blank line."""
    text = unicodedata.normalize("NFC", _CONTROL.sub("", _INVISIBLE.sub("", text)))
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]  # also \r\n, \r, \u2028
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _decode_utf8(name: str, data: bytes) -> str:
    """Strict UTF-8 (BOM allowed), with a helpful error for binaries and other encodings."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise EncodingError(f"«{name}» está en UTF-16: guárdelo como UTF-8 y vuelva a enviarlo.")
    controls = len(re.findall(rb"[\x01-\x08\x0b\x0e-\x1a\x1c-\x1f]", data[:65536]))
    if b"\x00" in data or controls > 0.05 * min(len(data), 65536):
        raise EncodingError(
            f"El archivo «{name}» parece un archivo binario (una imagen, un programa…), no texto. "
            "Si es un PDF o un documento de Word, envíelo con su extensión original."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise EncodingError(
            f"El archivo «{name}» no está en UTF-8 (falla la línea {line}) y no intento adivinar "
            "otras codificaciones, como Latin-1 o Windows-1252. Guárdelo como UTF-8 y reenvíelo."
        ) from exc


def _load_md(name: str, data: bytes) -> tuple[str | None, str]:
    """Markdown as written, minus heading markers; each heading becomes its own paragraph."""
    out: list[str] = []
    title: str | None = None
    in_code = False
    for line in _decode_utf8(name, data).splitlines():
        in_code ^= line.lstrip().startswith(("```", "~~~"))  # "# comment" in code is no heading
        heading = None if in_code else _ATX_HEADING.fullmatch(line)
        if heading is None:
            out.append(line)
            continue
        words = re.sub(r"(?:^|[ \t])#+[ \t]*$", "", heading.group(2) or "").strip()  # "## T ##"
        title = title or (words if heading.group(1) == "#" else None)
        out += ["", words, ""]
    return title, "\n".join(out)


def _load_pdf(name: str, data: bytes) -> tuple[str | None, str]:
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
    if not _clean_text(text):
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


def _load_docx(name: str, data: bytes) -> tuple[str | None, str]:
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


def _load_html(name: str, data: bytes) -> tuple[str | None, str]:
    """Visible text; block elements become paragraphs, <br> a line break, table cells " | "."""
    soup = BeautifulSoup(_CONTROL.sub("", _decode_html(data)), "html.parser")
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


_LOADERS: dict[str, Callable[[str, bytes], tuple[str | None, str]]] = {
    ".txt": lambda name, data: (None, _decode_utf8(name, data)),
    ".md": _load_md,
    ".pdf": _load_pdf,
    ".docx": _load_docx,
    ".html": _load_html,
    ".htm": _load_html,
}
