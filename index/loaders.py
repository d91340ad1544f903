"""Uploaded files (txt, md, pdf, docx, html) → a title and plain text with blank-line paragraphs."""

from __future__ import annotations

import codecs
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath

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
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_ATX_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*))?")


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
    if not (text := clean_text(raw)):
        raise EmptyDocumentError(f"El documento «{safe}» no tiene texto que se pueda indexar.")
    stem = PurePath(safe).stem
    fallback = " ".join(re.sub(r"[_-]+", " ", stem).split()) if extension == ".txt" else stem
    title = " ".join(clean_text(title or "").split()) or fallback
    return LoadedDocument(title=title[:MAX_TITLE_CHARS].rstrip(), text=text)


def clean_text(text: str) -> str:
    """NFC; one kind of newline and space; invisible characters gone; at most one blank line."""
    text = unicodedata.normalize("NFC", CONTROL_CHARACTERS.sub("", _INVISIBLE.sub("", text)))
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


_LOADERS: dict[str, Callable[[str, bytes], tuple[str | None, str]]] = {
    ".txt": lambda name, data: (None, _decode_utf8(name, data)),
    ".md": _load_md,
    ".pdf": lambda name, data: _formats().load_pdf(name, data),
    ".docx": lambda name, data: _formats().load_docx(name, data),
    ".html": lambda name, data: _formats().load_html(name, data),
    ".htm": lambda name, data: _formats().load_html(name, data),
}


def _formats():  # type: ignore[no-untyped-def]
    from index import formats

    return formats
