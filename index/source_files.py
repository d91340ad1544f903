"""A file named on the command line → its bytes, bounded by bytes actually read and by time.

`stat` cannot be trusted for this: /dev/zero says it holds 0 bytes and never ends, a FIFO blocks
until a writer comes, a file may grow while read. So every read counts what it got and stops one
byte past the limit, and anything that is not a regular file is read with a deadline.
"""

from __future__ import annotations

import math
import os
import select
import stat
import time
from pathlib import Path

from acuerdo.index.errors import DocumentError, DocumentTooLargeError

MAX_FILE_BYTES = 20 * 1024 * 1024  # the Telegram Bot API won't let a bot download anything bigger
READ_TIMEOUT_SECONDS = 30.0
_CHUNK = 1 << 20


def megabytes(size: int) -> str:
    """ "20,1": the size in MB, rounded up to a tenth, with a Spanish decimal comma."""
    return f"{math.ceil(size * 10 / 2**20) / 10:.1f}".replace(".", ",")


def check_size(size: int | None) -> None:
    """Refuse files larger than `MAX_FILE_BYTES` (an unknown size passes: count the bytes)."""
    if size is not None and size > MAX_FILE_BYTES:
        raise DocumentTooLargeError(
            f"El archivo ocupa {megabytes(size)} MB y el máximo admitido es "
            f"{MAX_FILE_BYTES // 2**20} MB. Divídalo en partes más pequeñas y envíelas por "
            "separado."
        )


def check_download_size(size: int | None, limit: int) -> None:
    """Refuse, before fetching it, a file a front end was told is bigger than it takes."""
    if size is not None and size > limit:
        raise DocumentTooLargeError(
            f"El archivo ocupa {megabytes(size)} MB y el máximo que puedo descargar es "
            f"{megabytes(limit)} MB. Divídalo en partes más pequeñas y envíelas por separado."
        )


def read_source(
    path: Path, *, limit: int = MAX_FILE_BYTES, timeout: float = READ_TIMEOUT_SECONDS
) -> bytes:
    """The file's bytes; `DocumentError` (in Spanish) when missing, too big, slow or not a file."""
    try:
        # Non-blocking open: opening a FIFO for reading would otherwise wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except FileNotFoundError as exc:
        raise DocumentError(f"No encuentro el archivo «{path}».") from exc
    except OSError as exc:
        raise DocumentError(f"No puedo leer el archivo «{path}»: {_reason(exc)}.") from exc
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise DocumentError(f"No puedo leer el archivo «{path}»: es una carpeta.")
        if stat.S_ISREG(info.st_mode):
            check_size(info.st_size)  # the cheap refusal first; the count below is the real one
            os.set_blocking(fd, True)
            return _read(fd, path, limit, timeout=None)
        if stat.S_ISFIFO(info.st_mode) or stat.S_ISCHR(info.st_mode):
            return _read(fd, path, limit, timeout=timeout)
        raise DocumentError(
            f"No puedo leer «{path}»: no es un archivo normal. Guarde el documento en un archivo "
            "y vuelva a intentarlo."
        )
    except OSError as exc:
        raise DocumentError(f"No puedo leer el archivo «{path}»: {_reason(exc)}.") from exc
    finally:
        os.close(fd)


def _read(fd: int, path: Path, limit: int, *, timeout: float | None) -> bytes:
    deadline = None if timeout is None else time.monotonic() + timeout
    parts: list[bytes] = []
    total = 0
    while True:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            ready = remaining > 0 and select.select([fd], [], [], remaining)[0]
            if not ready:
                raise DocumentError(
                    f"«{path}» no terminó de llegar en {timeout:g} s: no es un "
                    "archivo normal, o quien lo escribe no lo cierra. Guárdelo en un archivo y "
                    "vuelva a intentarlo."
                )
        try:
            part = os.read(fd, min(_CHUNK, limit + 1 - total))
        except BlockingIOError:
            continue
        if not part:
            return b"".join(parts)
        parts.append(part)
        total += len(part)
        if total > limit:
            raise DocumentTooLargeError(
                f"«{path}» ocupa más de {limit // 2**20} MB, el máximo admitido; he dejado de "
                "leerlo ahí. Divídalo en partes más pequeñas y añádalas por separado."
            )


def _reason(error: OSError) -> str:
    return (error.strerror or type(error).__name__).lower()
