"""FAISS inner-product index keyed by passage id, saved atomically with the state it reflects."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

import faiss
import numpy as np
import numpy.typing as npt

from acuerdo.index.embedding import Matrix
from acuerdo.index.index_file import read_streamed, write_file

# The e5 engine has its own OpenMP runtime and pool; FAISS's pool beside it on two cores slowed
# a query from 9 to 16 ms, and a single-question search gains nothing from threads. The setting
# is per thread (an OpenMP ICV), so every thread that searches makes it: set only at import, a
# bot's worker thread still searched with two FAISS threads, `ask` 27 ms there against 20 ms on
# the main thread (benchmarks/bot_roundtrip.py).
_threads = threading.local()


def _one_faiss_thread() -> None:
    if not getattr(_threads, "single", False):
        faiss.omp_set_num_threads(1)
        _threads.single = True


_one_faiss_thread()

_MAGIC = b"ACUVEC01"  # then `index.index_file`'s header and the serialised FAISS index

# Above this many passages an inverted-file index replaces exact search. Exact search of both
# encoders costs 0.27 ms per 1,000 passages on one core (benchmarks/scale.py): 2.5 ms at 20k,
# 25 ms at 100k, against < 1 ms for IVF. Below it, exact search is cheap and perfect.
APPROXIMATE_FROM = 20_000
# 2·sqrt(n) lists probed 24 at a time: recall@10 against exact search 0.994 (questions) and
# 0.970 (held-out passages) at 100k, trained in 6.5 s; 4·sqrt(n) lists needed nprobe 32 for
# the same recall and 26 s of training (benchmarks/scale.py).
IVF_NPROBE = 24


def ivf_lists(count: int) -> int:
    """Number of inverted lists: about 2·sqrt(n)."""
    return max(16, int(2 * np.sqrt(count)))


@dataclass(frozen=True)
class IndexMeta:
    """What the saved index was built from, compared with the database on start."""

    model_id: str
    version: int
    count: int
    dim: int


class VectorIndex:
    """Exact cosine search (`IndexIDMap2(IndexFlatIP)`) over unit vectors, ids = passage ids."""

    def __init__(self, dim: int, index: faiss.Index | None = None) -> None:
        self.dim = dim
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    @classmethod
    def build(
        cls, dim: int, ids: npt.ArrayLike, vectors: Matrix, *, approximate_from: int | None = None
    ) -> VectorIndex:
        """A new index holding `vectors` under `ids`: exact, or IVF for large corpora."""
        matrix = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dim)
        threshold = APPROXIMATE_FROM if approximate_from is None else approximate_from
        approximate = len(matrix) >= threshold
        built = cls(dim, trained_ivf(dim, matrix)) if approximate else cls(dim)
        built.add(ids, matrix)
        return built

    @property
    def approximate(self) -> bool:
        """True when the index is an IVF (approximate) one."""
        return isinstance(self._index, faiss.IndexIVF)

    def copy(self) -> VectorIndex:
        """An independent copy, changed while the original keeps serving searches."""
        return VectorIndex(self.dim, faiss.clone_index(self._index))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: npt.ArrayLike, vectors: Matrix) -> None:
        """Add vectors; ids must not be present already."""
        id_array = np.ascontiguousarray(np.asarray(ids, dtype=np.int64))
        if len(id_array) == 0:
            return
        matrix = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(id_array), self.dim)
        self._index.add_with_ids(matrix, id_array)

    def remove(self, ids: npt.ArrayLike) -> int:
        """Remove ids; returns how many were present."""
        id_array = np.ascontiguousarray(np.asarray(ids, dtype=np.int64))
        if len(id_array) == 0:
            return 0
        return int(self._index.remove_ids(id_array))  # type: ignore[arg-type]  # numpy accepted

    def search(
        self, query: Matrix, k: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Best `k` (ids, cosines) for one query vector, best first; fewer if the index is small."""
        k = min(k, len(self))
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        _one_faiss_thread()
        matrix = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
        scores, ids = self._index.search(matrix, k)
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)

    def vector(self, passage_id: int) -> Matrix:
        """The stored vector of one id (IndexIDMap2 keeps the id → slot map)."""
        return np.asarray(self._index.reconstruct(int(passage_id)), dtype=np.float32)

    def vectors(self, passage_ids: Sequence[int]) -> Matrix:
        """The stored vectors of these ids, one row each, in one call into FAISS."""
        if not passage_ids:
            return np.zeros((0, self.dim), dtype=np.float32)
        keys = np.asarray(passage_ids, dtype=np.int64)
        return np.asarray(self._index.reconstruct_batch(keys), dtype=np.float32)

    def save(self, path: Path, meta: IndexMeta) -> int:
        """Write atomically with the state it reflects (`index.index_file`); returns bytes."""
        payload = faiss.serialize_index(self._index)
        return write_file(path, _MAGIC, asdict(meta), [payload.data])

    @classmethod
    def load(cls, path: Path) -> tuple[VectorIndex, IndexMeta] | None:
        """The saved index and its meta, or None when missing, unreadable or not byte for byte
        what was saved (then rebuild)."""
        return read_streamed(path, _MAGIC, cls._parse)

    @classmethod
    def _parse(
        cls, header: dict[str, Any], handle: BinaryIO
    ) -> tuple[VectorIndex, IndexMeta] | None:
        try:
            meta = IndexMeta(**header)
            reader = faiss.PyCallbackIOReader(handle.read, 1 << 20)  # type: ignore[attr-defined]
            index = faiss.read_index(reader)
        except (TypeError, RuntimeError):
            return None
        if index.d != meta.dim or index.ntotal != meta.count:
            return None
        if isinstance(index, faiss.IndexIVF):
            index.nprobe = IVF_NPROBE
        return cls(meta.dim, index), meta


def trained_ivf(dim: int, matrix: Matrix) -> faiss.Index:
    """An IVF-Flat index trained on (a sample of) the vectors.

    IVF rather than HNSW because documents are removed: IVF removes ids, HNSW cannot. Its own
    hash-table direct map gives `reconstruct` by passage id and keeps removal cheap.
    """
    nlist = ivf_lists(len(matrix))
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    sample_size = min(len(matrix), nlist * 64)
    sample = matrix[rng.choice(len(matrix), sample_size, replace=False)]
    index.train(sample)
    index.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]
    index.nprobe = IVF_NPROBE
    # The quantizer must outlive this function; IndexIVF does not own it unless told to.
    index.own_fields = True
    quantizer.this.disown()  # type: ignore[attr-defined]
    return index
