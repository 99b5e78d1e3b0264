"""The vector index switches to IVF past its size threshold and keeps working the same way."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from embeddings.index import Manifest, VectorIndex


def clustered(rng: np.random.Generator, centers: np.ndarray, n: int) -> np.ndarray:
    v = centers[rng.integers(0, len(centers), n)] + 0.3 * rng.standard_normal((n, centers.shape[1]))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def test_large_bulk_load_becomes_ivf_and_agrees_with_exact_search(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    centers = rng.standard_normal((40, 32))
    items = [(f"e{i}", clustered(rng, centers, 2)) for i in range(3000)]
    exact = VectorIndex(32)
    exact.ivf_threshold = 10**9
    exact.add_many(items)
    ivf = VectorIndex(32)
    ivf.ivf_threshold = 2000
    ivf.add_many(items)
    assert isinstance(ivf._index, faiss.IndexIVFFlat)
    assert ivf.vector_count == exact.vector_count == 6000
    queries = clustered(rng, centers, 50)
    agree = sum(exact.search(q, 5)[0][0] == ivf.search(q, 5)[0][0] for q in queries)
    assert agree >= 45

    target = queries[0]
    ivf.upsert("new-entry", target[None, :])
    assert ivf.search(target, 3)[0][0] == "new-entry"
    ivf.delete("new-entry")
    assert "new-entry" not in dict(ivf.search(target, 10))
    assert ivf.vector_count == 6000

    ivf.save(tmp_path / "idx", Manifest("enc", 32, 1, ivf.entry_count, ivf.vector_count))
    loaded = VectorIndex.load(tmp_path / "idx", "enc", 32)
    assert loaded is not None
    index, manifest = loaded
    assert isinstance(index._index, faiss.IndexIVF) and index._index.nprobe == VectorIndex.nprobe
    assert manifest.vector_count == 6000
    assert index.search(queries[1], 3) == ivf.search(queries[1], 3)


class _ThreadProbe:
    """Wraps a FAISS index and records how many OpenMP threads FAISS would use for each search."""

    def __init__(self, index: faiss.Index) -> None:
        self.index = index
        self.threads: list[int] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.index, name)

    def search(self, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        self.threads.append(faiss.omp_get_max_threads())
        return self.index.search(x, k)


def test_one_query_is_searched_on_one_thread_and_the_setting_is_restored() -> None:
    rng = np.random.default_rng(5)
    index = VectorIndex(16)
    index.add_many([(f"e{i}", clustered(rng, rng.standard_normal((4, 16)), 3)) for i in range(50)])
    probe = _ThreadProbe(index._index)
    index._index = probe  # type: ignore[assignment]
    caller = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(2)
    try:
        hits = index.search(clustered(rng, rng.standard_normal((4, 16)), 1)[0], 5)
        assert len(hits) == 5
        assert probe.threads == [1]
        assert faiss.omp_get_max_threads() == 2
    finally:
        faiss.omp_set_num_threads(caller)
