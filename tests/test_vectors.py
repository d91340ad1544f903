from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from acuerdo.index.embedding import normalise_rows
from acuerdo.index.vectors import IndexMeta, VectorIndex


def _random(n: int, dim: int, seed: int = 0) -> np.ndarray:
    return normalise_rows(np.random.default_rng(seed).normal(size=(n, dim)))


def test_search_add_remove_by_passage_id() -> None:
    vectors = _random(50, 16)
    ids = np.arange(1000, 1050)
    index = VectorIndex.build(16, ids, vectors)
    found, scores = index.search(vectors[7], 3)
    assert found[0] == 1007
    assert abs(scores[0] - 1.0) < 1e-5
    assert index.remove([1007]) == 1
    assert 1007 not in index.search(vectors[7], 50)[0].tolist()
    index.add([5000], vectors[7:8])
    assert index.search(vectors[7], 1)[0].tolist() == [5000]
    assert np.allclose(index.vector(5000), vectors[7])


def test_k_larger_than_index_and_empty_index() -> None:
    index = VectorIndex(8)
    assert index.search(_random(1, 8)[0], 5)[0].tolist() == []
    index.add([1, 2], _random(2, 8))
    assert len(index.search(_random(1, 8, seed=3)[0], 10)[0]) == 2


def test_atomic_save_and_load_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "v.faiss"
    vectors = _random(20, 8)
    index = VectorIndex.build(8, range(20), vectors)
    meta = IndexMeta(model_id="m", version=3, count=20, dim=8)
    index.save(path, meta)
    assert [p.name for p in tmp_path.iterdir()] == ["v.faiss"]  # no temporary file left behind
    loaded = VectorIndex.load(path)
    assert loaded is not None
    again, loaded_meta = loaded
    assert loaded_meta == meta
    assert again.search(vectors[4], 1)[0].tolist() == [4]


def test_corrupt_truncated_or_missing_files_load_as_none(tmp_path: Path) -> None:
    path = tmp_path / "v.faiss"
    assert VectorIndex.load(path) is None
    VectorIndex.build(8, range(5), _random(5, 8)).save(path, IndexMeta("m", 1, 5, 8))
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    assert VectorIndex.load(path) is None
    path.write_bytes(b"garbage" * 10)
    assert VectorIndex.load(path) is None


def _clustered(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """Unit vectors around 200 topic centres: structured like real embeddings, unlike noise."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(200, dim))
    return normalise_rows(centres[rng.integers(0, 200, n)] + 0.6 * rng.normal(size=(n, dim)))


def test_large_corpora_switch_to_ivf_with_high_recall_and_removal(tmp_path: Path) -> None:
    vectors = _clustered(6000, 32)
    ids = np.arange(10, 6010)
    exact = VectorIndex.build(32, ids, vectors, approximate_from=10**9)
    approx = VectorIndex.build(32, ids, vectors, approximate_from=5000)
    assert approx.approximate and not exact.approximate
    queries = _clustered(100, 32, seed=1)
    recall = np.mean(
        [len(set(approx.search(q, 10)[0]) & set(exact.search(q, 10)[0])) / 10 for q in queries]
    )
    assert recall >= 0.95
    assert np.allclose(approx.vector(17), vectors[7])
    assert approx.remove([17]) == 1 and 17 not in approx.search(vectors[7], 10)[0].tolist()
    approx.save(tmp_path / "ivf.faiss", IndexMeta("m", 1, len(approx), 32))
    loaded = VectorIndex.load(tmp_path / "ivf.faiss")
    assert loaded is not None and loaded[0].approximate
    assert loaded[0].search(vectors[100], 1)[0].tolist() == [110]


def test_copy_is_independent() -> None:
    vectors = _random(10, 8)
    original = VectorIndex.build(8, range(10), vectors)
    changed = original.copy()
    changed.remove([3])
    assert len(original) == 10 and len(changed) == 9


def test_searching_from_another_thread_uses_one_faiss_thread_there_too() -> None:
    # OpenMP's thread count is per thread: the bot searches from its worker thread, where a
    # two-thread FAISS pool fought the e5 engine's own for the two cores.
    import faiss

    vectors = _random(20, 8)
    index = VectorIndex.build(8, np.arange(20), vectors)
    with ThreadPoolExecutor(max_workers=1) as worker:
        # A pool wider than one, whatever OMP_NUM_THREADS the tests run with (conftest sets 1).
        worker.submit(faiss.omp_set_num_threads, 2).result()
        assert worker.submit(faiss.omp_get_max_threads).result() == 2
        found = worker.submit(index.search, vectors[3], 1).result()[0]
        assert found.tolist() == [3]
        assert worker.submit(faiss.omp_get_max_threads).result() == 1
