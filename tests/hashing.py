"""The fast deterministic embedder for tests where the model's quality is not what is tested
(plumbing, storage, chunking, /ayuda…), registered as `test:hashing` so settings can name it."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from acuerdo.index import EmbedderKind, register_embedder
from acuerdo.index.embedding import Matrix, normalise_rows

HASHING_MODEL = "test:hashing"


class HashingEmbedder:
    """Deterministic bag-of-words vectors: fast and good enough to test plumbing, not ranking."""

    def __init__(self, dim: int = 64, model_id: str = "test/hashing-64") -> None:
        self._dim = dim
        self._model_id = model_id
        self.calls = 0
        self.embedded = 0

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return self._dim

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self._dim, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            vector[int.from_bytes(digest[:4], "little") % self._dim] += 1.0
        if not vector.any():
            vector[0] = 1.0
        return vector

    def embed_queries(self, texts: Sequence[str]) -> Matrix:
        return self._encode(texts)

    def embed_passages(self, texts: Sequence[str]) -> Matrix:
        return self._encode(texts)

    def _encode(self, texts: Sequence[str]) -> Matrix:
        self.calls += 1
        self.embedded += len(texts)
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return normalise_rows(np.stack([self._vector(t) for t in texts]))


register_embedder(
    EmbedderKind(
        names=(HASHING_MODEL,),
        create=lambda _, __: HashingEmbedder(),
        model_prefix="test/hashing",
    )
)
