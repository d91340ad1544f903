"""Reading a file in a child process, with a time limit and a memory limit.

Parsers are not interruptible: pure-Python ones hold the GIL (the bot's other users waited 4–8 s
behind one bad .docx) and none can be stopped halfway from another thread. A child process can
be killed at the deadline, its memory is capped by the kernel (RLIMIT_AS), and Ctrl-C reaches it.
It imports only the readers, not the `index` package (whose models and database layers cost a
second), so a small file costs ~0.1 s more than reading it in-process.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from acuerdo.index.blocks import Block
from acuerdo.index.errors import (
    DocumentError,
    DocumentTooLargeError,
    EmptyDocumentError,
    EncodingError,
    UnsupportedFormatError,
)
from acuerdo.index.loaders import LoadedDocument

log = logging.getLogger(__name__)

_ERRORS: dict[str, type[DocumentError]] = {
    cls.__name__: cls
    for cls in (
        DocumentError,
        DocumentTooLargeError,
        EmptyDocumentError,
        EncodingError,
        UnsupportedFormatError,
    )
}
# The child must not run index/__init__.py: a bare package object stands in for it.
_BOOTSTRAP = """
import importlib, resource, sys, types
limit = int(sys.argv[2])
if limit > 0:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
# The core's package (and its parents) as empty shells: its __init__ would import far more.
parts = sys.argv[3].split(".")
for depth in range(len(parts)):
    shell = types.ModuleType(".".join(parts[: depth + 1]))
    shell.__path__ = [sys.argv[1]] if depth == len(parts) - 1 else []
    sys.modules[shell.__name__] = shell
importlib.import_module(sys.argv[3] + ".sandbox_child").main()
"""


@dataclass(frozen=True)
class ReadLimits:
    """How long reading one file may take and how much memory its reader may map."""

    timeout_seconds: float = 60.0
    memory_bytes: int = 1024 * 2**20


def read_isolated(name: str, data: bytes, *, limits: ReadLimits) -> LoadedDocument:
    """`load_bytes(name, data)` in a child process; `DocumentError` when it fails or overruns."""
    command = [
        sys.executable,
        "-I",
        "-c",
        _BOOTSTRAP,
        str(Path(__file__).resolve().parent),
        str(limits.memory_bytes),
        __name__.rpartition(".")[0],
    ]
    header = json.dumps({"name": name}).encode() + b"\n"
    with subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as child:
        try:
            out, err = child.communicate(header + data, timeout=limits.timeout_seconds)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise DocumentError(
                f"Leer «{name}» llevaba más de {limits.timeout_seconds:g} s y lo he detenido; "
                "no he cambiado nada. Si el documento es muy grande, divídalo en partes."
            ) from None
    try:
        result = json.loads(out)
    except ValueError:
        result = None
    if not isinstance(result, dict):
        # Killed by the memory limit inside a C parser, or a bug: the log gets the details.
        log.warning("reader child for %r ended with %s: %s", name, child.returncode, err[-2000:])
        raise DocumentError(
            f"No pude leer «{name}»: su lector necesitó más memoria de la permitida o el "
            "archivo está dañado. No he cambiado nada; guárdelo de nuevo o divídalo en partes."
        )
    if result.get("error"):
        raise _ERRORS.get(result["error"], DocumentError)(result["message"])
    blocks = tuple(Block(kind, text, level) for kind, text, level in result["blocks"])
    return LoadedDocument(title=result["title"], blocks=blocks)
