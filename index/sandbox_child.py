"""The child side of `index.sandbox`: a file's name and bytes on stdin, its blocks as JSON out."""

from __future__ import annotations

import json
import sys

from acuerdo.index.errors import DocumentError
from acuerdo.index.loaders import load_bytes


def main() -> None:
    name = json.loads(sys.stdin.buffer.readline())["name"]
    data = sys.stdin.buffer.read()
    try:
        loaded = load_bytes(name, data)
        result: dict[str, object] = {
            "title": loaded.title,
            "blocks": [[b.kind, b.text, b.level] for b in loaded.blocks],
        }
    except DocumentError as exc:
        result = {"error": type(exc).__name__, "message": str(exc)}
    except MemoryError:
        result = {
            "error": "DocumentError",
            "message": (
                f"No pude leer «{name}»: su texto ocupa más memoria de la permitida. "
                "Divídalo en partes más pequeñas y envíelas por separado."
            ),
        }
    sys.stdout.buffer.write(json.dumps(result).encode("ascii"))  # whatever the locale


if __name__ == "__main__":
    main()
