"""Uploaded files (txt, md, pdf, docx, html) → a title and the text as typed blocks.

The binary formats are read by their own modules (`pdf_reader`, `docx_reader`, `html_reader`),
imported only when such a file arrives: their parsers cost start-up time a bot answering
questions should not pay.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path, PurePath

from acuerdo.index.blocks import ITEM_MARKER, Block, blocks_text, guess_blocks
from acuerdo.index.errors import (
    DocumentError,
    EmptyDocumentError,
    EncodingError,
    UnsupportedFormatError,
)
from acuerdo.index.source_files import check_size, read_source
from acuerdo.index.unseen_characters import (
    without_escapes,
    without_invisible,
    without_unseen,
)

MAX_NAME_CHARS = 120
MAX_TITLE_CHARS = 300  # width of the title column in the database

# Exotic spaces (no-break, thin, ideographic…) become plain spaces so quotes and searches match.
_SPACES = re.compile(r"[ \t\v\f\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
# Invisible characters (zero-width, BOM, soft hyphen, bidi marks and overrides) would split
# words silently.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
# Controls that separate: file, group and record separators and NEL end a line, the unit
# separator ends a field. Removed with the other controls, they glued two words into one.
_LINE_SEPARATORS = re.compile("[\x1c-\x1e\x85]")
_FIELD_SEPARATOR = "\x1f"
_ATX_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*))?")


@dataclass(frozen=True)
class LoadedDocument:
    """A document's title and its blocks (headings, paragraphs, list items, table rows…)."""

    title: str
    blocks: tuple[Block, ...]

    @property
    def text(self) -> str:
        """The plain text: one block per paragraph, separated by one blank line."""
        return blocks_text(self.blocks)


Reader = Callable[[str, bytes], tuple[str | None, Sequence[Block]]]
"""(file name, bytes) → (the title the file gives itself, if any; its blocks)."""


@dataclass(frozen=True)
class FileFormat:
    """A kind of file the library reads: its extensions (the first one is how it is named to
    people), the MIME type Telegram reports for it, and a factory returning its reader — called
    only when such a file arrives, so a parser's import is paid then, not at start-up."""

    extensions: tuple[str, ...]
    mime_type: str
    reader: Callable[[], Reader]


_FORMATS: dict[str, FileFormat] = {}


def register_format(file_format: FileFormat) -> None:
    """Make `load_bytes` read files with these extensions (a later registration wins)."""
    for extension in file_format.extensions:
        _FORMATS[extension.lower()] = file_format


def file_formats() -> tuple[FileFormat, ...]:
    """Every registered format, once each, in registration order."""
    return tuple(dict.fromkeys(_FORMATS.values()))


def supported_extensions() -> tuple[str, ...]:
    return tuple(_FORMATS)


def formats_listed(last: str = " y ") -> str:
    """ ".txt, .md, .pdf, .docx y .html": the formats as people know them, one extension each."""
    names = [f.extensions[0] for f in file_formats()]
    return ", ".join(names[:-1]) + last + names[-1] if len(names) > 1 else "".join(names)


def reader_for(name: str) -> Reader:
    """The reader for a (safe) file name; `UnsupportedFormatError` in Spanish when none fits."""
    found = _FORMATS.get(PurePath(name).suffix.lower())
    if found is None:
        extensions = supported_extensions()
        listed = ", ".join(extensions[:-1]) + f" y {extensions[-1]}"
        raise UnsupportedFormatError(
            f"No puedo leer «{name}»: los formatos admitidos son {listed}. Guarde el documento "
            "en uno de ellos (por ejemplo, como PDF o DOCX) y vuelva a enviarlo."
        )
    return found.reader()


def upload_name(file_name: str | None, mime_type: str | None) -> str:
    """The safe name of an upload, refused (before any download) when its format is unknown.

    Telegram may omit the file name, or the name may have no extension (a file saved without
    one); the MIME type then tells which reader to use.
    """
    by_mime = {f.mime_type: f.extensions[0] for f in file_formats()}
    name = safe_file_name(file_name or "documento")
    if not PurePath(name).suffix:
        name += by_mime.get(mime_type or "", "")
    reader_for(name)
    return name


def safe_file_name(name: str) -> str:
    """The base name of an uploaded file: no folders, no control characters, at most ~120 chars."""
    # Escape sequences go before the folders: an OSC hyperlink carries slashes of its own.
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", without_unseen(name)))[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch) != "Cc")
    # Windows silently drops trailing dots and spaces, and "." / ".." are not names at all.
    base = _SPACES.sub(" ", base).strip().rstrip(". ")
    if len(base) > MAX_NAME_CHARS:
        suffix = PurePath(base).suffix[:10]
        base = base[: MAX_NAME_CHARS - len(suffix)].rstrip(". ") + suffix
    if not base:
        raise DocumentError("El nombre del archivo no es válido; cámbielo y vuelva a enviarlo.")
    return base


def load_path(path: Path) -> LoadedDocument:
    """Read a file from disk (at most `MAX_FILE_BYTES`, see `read_source`), then `load_bytes`."""
    return load_bytes(path.name, read_source(path))


def load_bytes(name: str, data: bytes) -> LoadedDocument:
    """Turn an uploaded file into a `LoadedDocument`, choosing the reader by its extension."""
    safe = safe_file_name(name)
    extension = PurePath(safe).suffix.lower()
    loader = reader_for(safe)
    check_size(len(data))
    if not data.strip():
        raise EmptyDocumentError(f"El archivo «{safe}» está vacío.")
    title, raw_blocks = loader(safe, data)
    blocks = tuple(
        Block(block.kind, text, block.level)
        for block in raw_blocks
        if (text := clean_text(block.text))
    )
    if not blocks:
        raise EmptyDocumentError(f"El documento «{safe}» no tiene texto que se pueda indexar.")
    stem = PurePath(safe).stem
    fallback = " ".join(re.sub(r"[_-]+", " ", stem).split()) if extension == ".txt" else stem
    title = " ".join(clean_text(title or "").split()) or fallback
    return LoadedDocument(title=title[:MAX_TITLE_CHARS].rstrip(), blocks=blocks)


def without_controls(text: str, *, line_break: str = "\n") -> str:
    """`text` without control characters; those that separate lines become `line_break`, the
    unit separator a space."""
    text = _LINE_SEPARATORS.sub(line_break, text.replace(_FIELD_SEPARATOR, " "))
    return _CONTROL_CHARACTERS.sub("", text)


def clean_text(text: str) -> str:
    """NFC; one kind of newline and space; invisible characters gone; at most one blank line."""
    # NFC first as well: a joiner after a decomposed accent ("o\u0301\u200dn") sits between two
    # letters only once the accent is composed.
    text = without_controls(without_escapes(unicodedata.normalize("NFC", text)))
    text = unicodedata.normalize("NFC", without_invisible(text))
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


def _load_txt(name: str, data: bytes) -> tuple[str | None, list[Block]]:
    return None, guess_blocks(clean_text(_decode_utf8(name, data)))


_TABLE_RULE = re.compile(r"\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?")


def _load_md(name: str, data: bytes) -> tuple[str | None, list[Block]]:
    """Markdown as written, minus heading markers; headings, list items and table rows marked."""
    blocks: list[Block] = []
    title: str | None = None
    lines: list[str] = []
    code: list[str] | None = None

    def flush() -> None:
        if lines:
            blocks.append(Block("paragraph", "\n".join(lines)))
            lines.clear()

    for line in _decode_utf8(name, data).splitlines():
        fence = line.lstrip().startswith(("```", "~~~"))
        if code is not None:  # "# comment" in code is no heading
            code.append(line)
            if fence:
                blocks.append(Block("code", "\n".join(code)))
                code = None
            continue
        stripped = line.strip()
        heading = _ATX_HEADING.fullmatch(line)
        if fence or heading or not stripped or stripped.startswith("|"):
            flush()
        if fence:
            code = [line]
        elif heading is not None:
            words = re.sub(r"(?:^|[ \t])#+[ \t]*$", "", heading.group(2) or "").strip()  # "## T ##"
            title = title or (words if heading.group(1) == "#" else None)
            blocks.append(Block("heading", words, len(heading.group(1))))
        elif stripped.startswith("|"):
            if not _TABLE_RULE.fullmatch(stripped):
                blocks.append(Block("row", stripped.strip("|").strip()))
        elif ITEM_MARKER.match(stripped):
            flush()
            blocks.append(Block("item", stripped))
        elif stripped:
            lines.append(line)
    flush()
    if code:
        blocks.append(Block("code", "\n".join(code)))
    return title, blocks


def _imported(module: str, function: str) -> Callable[[], Reader]:
    def reader() -> Reader:
        found: Reader = getattr(import_module(f".{module}", __package__), function)
        return found

    return reader


for _format in (
    FileFormat((".txt",), "text/plain", lambda: _load_txt),
    FileFormat((".md",), "text/markdown", lambda: _load_md),
    FileFormat((".pdf",), "application/pdf", _imported("pdf_reader", "read_pdf")),
    FileFormat(
        (".docx",),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _imported("docx_reader", "read_docx"),
    ),
    FileFormat((".html", ".htm"), "text/html", _imported("html_reader", "read_html")),
):
    register_format(_format)

SUPPORTED_EXTENSIONS: tuple[str, ...] = supported_extensions()
"""The built-in formats' extensions (`supported_extensions()` includes later registrations)."""
