"""Cross-encoder re-ranking of the hybrid engine's top candidates (the ``RERANKER`` setting).

A folder written by ``make adapt`` (``var/models/e5-reranker``) holds a transformers sequence
classifier that reads the question and an entry's passage together, and ``reranker.json`` with
what was chosen on held-out guides: Platt calibration of its logit into a probability, the blend
weight with the first-stage order, and the probability floor under which the engine abstains.
``RERANKER=off`` (or a missing folder, logged once) leaves today's engine unchanged.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from knowledge.models import Entry

log = logging.getLogger(__name__)


class Reranker(Protocol):
    k: int
    min_probability: float

    def scores(self, query: str, entries: list[Entry]) -> list[float]:
        """Calibrated probability that each entry answers ``query``."""
        ...

    def blend(self, probabilities: list[float]) -> list[float]:
        """Final re-ranking scores from the probabilities of the first-stage top-k, in that order."""
        ...


def entry_passage(entry: Entry) -> str:
    """What the re-ranker reads of an entry: the passage the dense index holds (training used it)."""
    from retrieval.engine import passages

    return passages(entry.summary, 300, 1)[0]


@dataclass(frozen=True)
class RerankerMeta:
    weight: float = 1.0
    platt_a: float = 1.0
    platt_b: float = 0.0
    min_probability: float = 0.0
    max_length: int = 160


class CrossEncoderReranker:
    def __init__(self, path: Path, k: int = 20) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        meta_file = path / "reranker.json"
        raw = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
        known = RerankerMeta.__dataclass_fields__
        self.meta = RerankerMeta(**{key: v for key, v in raw.items() if key in known})
        self.k = k
        self.min_probability = self.meta.min_probability
        self.name = str(path)
        self._tok = AutoTokenizer.from_pretrained(str(path))
        self._model = AutoModelForSequenceClassification.from_pretrained(str(path)).eval()
        self._torch = torch
        self._lock = threading.Lock()  # one forward pass at a time: the cores are shared anyway

    def scores(self, query: str, entries: list[Entry]) -> list[float]:
        if not entries:
            return []
        batch = self._tok(
            [query] * len(entries),
            [entry_passage(e) for e in entries],
            padding=True,
            truncation="only_second",
            max_length=self.meta.max_length,
            return_tensors="pt",
        )
        with self._lock, self._torch.inference_mode():
            logits = self._model(**batch).logits[:, 0].tolist()
        a, b = self.meta.platt_a, self.meta.platt_b
        return [1 / (1 + math.exp(-(a * x + b))) for x in logits]

    def blend(self, probabilities: list[float]) -> list[float]:
        n, w = len(probabilities), self.meta.weight
        return [w * p + (1 - w) * (1 - i / n) for i, p in enumerate(probabilities)]


def load_reranker(spec: str, k: int = 20) -> Reranker | None:
    """``off`` → None; a folder → its re-ranker; a missing or broken folder → None, with a log line."""
    if not spec or spec.strip().lower() == "off":
        return None
    path = Path(spec)
    if not (path / "config.json").exists():
        log.warning(
            "RERANKER=%s: no model folder there (run 'make adapt'); searching without re-ranking", spec
        )
        return None
    try:
        return CrossEncoderReranker(path, k)
    except Exception as exc:  # a broken folder must not stop the service
        log.warning("RERANKER=%s cannot be loaded (%s); searching without re-ranking", spec, exc)
        return None


def rerank(reranker: Reranker, query: str, cands: list[Any], entries: dict[str, Entry]) -> list[Any]:
    """Re-order the first ``reranker.k`` candidates; each gets ``rerank`` = its calibrated probability
    and ``score`` stays the first-stage score. Candidates past k keep their order behind them."""
    head, tail = cands[: reranker.k], cands[reranker.k :]
    known = [c for c in head if c.id in entries]
    probs = reranker.scores(query, [entries[c.id] for c in known])
    final = reranker.blend(probs)
    for cand, prob, score in zip(known, probs, final, strict=True):
        cand.rerank = round(prob, 4)
        cand.rerank_score = round(score, 4)
    ordered = sorted(known, key=lambda c: -c.rerank_score)  # stable: ties keep the first-stage order
    return ordered + [c for c in head if c.id not in entries] + tail
