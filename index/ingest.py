"""A file's bytes → a prepared document (title, hash, passages) and its passage embeddings."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from acuerdo.index.chunking import Chunk, chunk_blocks
from acuerdo.index.embedding import Embedder
from acuerdo.index.errors import EmptyDocumentError
from acuerdo.index.loaders import load_bytes, safe_file_name
from acuerdo.index.question_text import clean_question
from acuerdo.index.sandbox import ReadLimits, read_isolated
from acuerdo.index.storage import content_hash

Progress = Callable[[int, int], None]
"""Called with (done, total) as passages are embedded."""


@dataclass(frozen=True)
class PreparedDocument:
    """Everything about a new document except its vectors: read, bounded, parsed and chunked
    once, then shown to the person adding it and stored as it is (`Library.add_prepared`)."""

    title: str
    source_name: str
    sha256: str
    chunks: tuple[Chunk, ...]
    source: bytes = field(repr=False)  # the file as received, kept so `rebuild` can re-read it


def prepare_document(
    name: str,
    data: bytes,
    *,
    title: str | None = None,
    limits: ReadLimits | None = ReadLimits(),  # noqa: B008 (frozen)
) -> PreparedDocument:
    """Read and chunk a file; errors are `DocumentError`s with messages fit for users.

    The file is read in a child process held to `limits` (time, memory); `limits=None` reads
    it in this process, for trusted files such as the tests' own.
    """
    source_name = safe_file_name(name)
    if limits is None:
        loaded = load_bytes(source_name, data)
    else:
        loaded = read_isolated(source_name, data, limits=limits)
    chunks = tuple(chunk_blocks(loaded.blocks))
    if not chunks:
        raise EmptyDocumentError("El documento no tiene texto que se pueda indexar.")
    # A caption or --title is cleaned like a question (escape sequences go whole, controls and
    # invisible characters too): PostgreSQL refuses NUL in text, terminals obey escapes.
    chosen_title = clean_question(title or "") or loaded.title or source_name
    return PreparedDocument(
        title=chosen_title[:300],
        source_name=source_name,
        sha256=content_hash(loaded.text),
        chunks=chunks,
        source=data,
    )


def embed_passages(
    embedder: Embedder,
    texts: Sequence[str],
    *,
    batch_size: int,
    known: Mapping[str, bytes] | None = None,
    progress: Progress | None = None,
) -> list[bytes]:
    """float32 bytes per text, reusing stored vectors (by text hash) and batching the rest."""
    seen = known or {}
    result: list[bytes | None] = [seen.get(content_hash(t)) for t in texts]
    missing = [i for i, vector in enumerate(result) if vector is None]
    total = len(texts)
    done = total - len(missing)
    if progress is not None:
        progress(done, total)
    for start in range(0, len(missing), batch_size):
        batch = missing[start : start + batch_size]
        vectors = embedder.embed_passages([texts[i] for i in batch])
        for i, vector in zip(batch, vectors, strict=True):
            result[i] = np.asarray(vector, dtype=np.float32).tobytes()
        done += len(batch)
        if progress is not None:
            progress(done, total)
    return [v for v in result if v is not None]
