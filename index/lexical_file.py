"""BM25 postings saved beside the FAISS file, so a restart does not analyse every passage again.

Analysing 100,000 passages (folding, stop words, Snowball) took 4.2 s of a 9.7 s restart
(benchmarks/scale.py); reading these arrays back takes a fraction of that. Like the vector
file, this is a cache: written atomically with a checksum (`index.index_file`), reused only
when it reflects exactly the database state being loaded and the same analysis, else rebuilt.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from acuerdo.index.index_file import read_file, write_file
from acuerdo.index.lexical import LexicalIndex, SpanishAnalyzer

_TAG = b"ACULEX01"
_ALIGN = 8  # every array starts on an 8-byte boundary, so it is read in place


@dataclass(frozen=True)
class LexicalMeta:
    """What the saved postings were built from, compared with the database on start."""

    model_id: str  # the passages indexed are those embedded with this model
    version: int
    count: int
    analyzer: str  # `SpanishAnalyzer.fingerprint`


def save_lexical(path: Path, lexical: LexicalIndex, meta: LexicalMeta) -> int:
    """Write the postings with the state they reflect; returns the file's size in bytes."""
    words, arrays = lexical.export()
    vocabulary = "\n".join(words).encode()  # terms are \w+ runs: never a newline
    chunks: list[bytes | memoryview] = []
    layout: list[list[Any]] = []
    offset = 0
    for name, array in arrays.items():
        data = np.ascontiguousarray(array)
        layout.append([name, data.dtype.str, len(data), offset])
        padding = -data.nbytes % _ALIGN
        chunks += [data.data.cast("B"), bytes(padding)]
        offset += data.nbytes + padding
    layout.append(["vocabulary", "", len(vocabulary), offset])
    chunks.append(vocabulary)
    header = {"meta": asdict(meta), "words": len(words), "layout": layout}
    return write_file(path, _TAG, header, chunks)


def load_lexical(
    path: Path,
    meta: LexicalMeta,
    ids: npt.NDArray[np.int64],
    *,
    analyzer: SpanishAnalyzer | None = None,
) -> LexicalIndex | None:
    """The saved postings when they match `meta` and index exactly `ids` (in that order among
    their live rows); None otherwise (then rebuild)."""
    found = read_file(path, _TAG)
    if found is None:
        return None
    header, body = found
    try:
        if LexicalMeta(**header["meta"]) != meta:
            return None
        arrays: dict[str, npt.NDArray[Any]] = {}
        words: list[str] = []
        for name, dtype, length, offset in header["layout"]:
            if name == "vocabulary":
                text = bytes(body[offset : offset + length]).decode()
                words = text.split("\n") if text else []
            else:
                arrays[name] = np.frombuffer(
                    body, dtype=np.dtype(dtype), count=length, offset=offset
                )
        if len(words) != header["words"]:
            return None
        lexical = LexicalIndex.restored(words, arrays, analyzer)
    except (KeyError, TypeError, ValueError, UnicodeDecodeError):
        return None
    live = arrays["ids"][arrays["alive"]]
    if not np.array_equal(live, ids):
        return None
    return lexical
