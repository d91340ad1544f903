"""A fixed set of unrelated texts that tells how close a question sits to text in general.

Questions differ in how high they score against anything: an English question scores lower
cosines against Spanish passages than a Spanish one, a long preamble dilutes every score, a
one-word question sits near many short texts. Comparing the best passage's cosine with the same
question's cosines against a cohort of unrelated texts (as speaker verification normalises a
voice's score against impostors) cancels those effects. The texts ship with the package
(`cohort_texts.txt`); their vectors are computed once per model and kept in the data dir's
cache, and for the bundled model they ship precomputed so a first start stays fast.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from acuerdo.index.calibration import calibration_name
from acuerdo.index.embedding import Embedder, Matrix

log = logging.getLogger(__name__)


def cohort_texts() -> list[str]:
    text = (resources.files("acuerdo.index") / "cohort_texts.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


@dataclass(frozen=True)
class CohortScores:
    """The question's cosines against the cohort, summarised."""

    mean: float
    std: float
    top: float


class Cohort:
    """The cohort's vectors for one model."""

    def __init__(self, vectors: Matrix) -> None:
        self._vectors = np.ascontiguousarray(vectors, dtype=np.float32)

    def __len__(self) -> int:
        return len(self._vectors)

    def scores(self, query: Matrix) -> CohortScores:
        cosines = self._vectors @ query.reshape(-1)
        return CohortScores(
            mean=float(cosines.mean()), std=float(cosines.std()) or 1e-6, top=float(cosines.max())
        )

    @classmethod
    def for_embedder(cls, embedder: Embedder, *, cache_dir: Path | None) -> Cohort:
        """Vectors from the shipped file, the cache, or computed now (then cached)."""
        texts = cohort_texts()
        digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
        family = f"cohort-{calibration_name(embedder.model_id)}-{digest}"
        name = f"cohort-{calibration_name(embedder.model_id)}-{_model_digest(embedder)}-{digest}"
        candidates: list[Path] = []
        if cache_dir is not None:
            candidates.append(cache_dir / f"{name}.npy")
        # Shipped for the bundled model without its version: a new release of the same model
        # moves the cohort's mean and spread far less than recomputing 240 vectors costs at a
        # first start (~30 s on two cores).
        shipped = resources.files("acuerdo.index") / "calibrations" / f"{family}.npy"
        if shipped.is_file():
            candidates.append(Path(str(shipped)))
        for path in candidates:
            vectors = _read(path, (len(texts), embedder.dim))
            if vectors is not None:
                return cls(vectors)
        log.info("computing the cohort's %d vectors for %s", len(texts), embedder.model_id)
        vectors = embedder.embed_passages(texts)
        if cache_dir is not None:
            _write(cache_dir / f"{name}.npy", vectors)
        return cls(vectors)


def _model_digest(embedder: Embedder) -> str:
    # The full id (version, prompts) decides the vectors; the file name stays short.
    return hashlib.sha256(embedder.model_id.encode()).hexdigest()[:8]


def _read(path: Path, shape: tuple[int, int]) -> Matrix | None:
    try:
        vectors = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if vectors.shape != shape or not np.all(np.isfinite(vectors)):
        return None
    return np.asarray(vectors, dtype=np.float32)


def _write(path: Path, vectors: Matrix) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as file:
            np.save(file, vectors.astype(np.float16))
        os.chmod(temporary, 0o644)  # mkstemp makes it private; it holds nothing secret
        os.replace(temporary, path)
    except OSError as exc:  # a read-only data dir only costs recomputing next time
        log.warning("could not cache the cohort vectors in %s: %s", path.parent, exc)
