"""Okapi BM25 over jieba tokens, with per-query term coverage as an absolute confidence signal."""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np


class Bm25Index:
    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.doc_ids: list[str] = []
        self._postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self._lengths: list[int] = []
        self._idf: dict[str, float] = {}
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._len_arr = np.zeros(0, dtype=np.float32)
        self._avgdl = 1.0

    def build(self, docs: list[tuple[str, list[str]]]) -> None:
        """Index ``(entry id, tokens)`` pairs (replaces anything indexed before)."""
        self.doc_ids = [d for d, _ in docs]
        self._postings = defaultdict(list)
        self._lengths = []
        for n, (_, toks) in enumerate(docs):
            self._lengths.append(len(toks))
            for term, tf in Counter(toks).items():
                self._postings[term].append((n, tf))
        total = len(docs)
        self._avgdl = (sum(self._lengths) / total) if total else 1.0
        self._idf = {
            t: math.log(1 + (total - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self._postings.items()
        }
        self._len_arr = np.asarray(self._lengths, dtype=np.float32)
        self._arrays = {
            t: (
                np.fromiter((d for d, _ in p), np.int64, len(p)),
                np.fromiter((f for _, f in p), np.float32, len(p)),
            )
            for t, p in self._postings.items()
        }
        self._postings = defaultdict(list)

    def idf(self, term: str) -> float:
        return self._idf.get(term, 0.0)

    def search(self, query: list[str], k: int = 10) -> list[tuple[str, float, float]]:
        """Top entries as ``(id, bm25 score, coverage)``; coverage = matched share of query IDF."""
        if not self.doc_ids:
            return []
        terms = list(dict.fromkeys(query))
        scores = np.zeros(len(self.doc_ids), dtype=np.float32)
        matched = np.zeros(len(self.doc_ids), dtype=np.float32)
        # unknown query terms count in the denominator with the highest idf: they are informative
        max_idf = max(self._idf.values(), default=1.0)
        total_idf = sum(self._idf.get(t, max_idf) for t in terms) or 1.0
        norm = self.k1 * (1 - self.b + self.b * self._len_arr / self._avgdl)
        for term in terms:
            arrays = self._arrays.get(term)
            if arrays is None:
                continue
            idf = self._idf[term]
            docs, tfs = arrays
            scores[docs] += idf * tfs * (self.k1 + 1) / (tfs + norm[docs])
            matched[docs] += idf
        if k < len(scores):
            part = np.argpartition(-scores, k)[:k]
            top = part[np.argsort(-scores[part])]
        else:
            top = np.argsort(-scores)
        return [
            (self.doc_ids[i], float(scores[i]), float(matched[i] / total_idf)) for i in top if scores[i] > 0
        ]
