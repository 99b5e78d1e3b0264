"""Okapi BM25 over jieba tokens, with per-query term coverage as an absolute confidence signal.

An index is never changed in place: ``with_changes`` returns a new index that shares every posting
list the change did not touch, so a single-entry upsert costs the size of that entry's terms, not
of the whole collection, and a search running meanwhile keeps a consistent view.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

import numpy as np

_NO_DOCS = np.zeros(0, dtype=np.int32)
_NO_TFS = np.zeros(0, dtype=np.float32)


class Bm25Index:
    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self._slot_id: list[str | None] = []  # slot -> entry id (None once deleted)
        self._slot_of: dict[str, int] = {}
        self._terms_of: list[tuple[str, ...]] = []  # slot -> distinct terms (to undo a document)
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # term -> (slots, tfs)
        self._lengths = np.zeros(0, dtype=np.float32)
        self._total_len = 0.0
        self._norm = np.zeros(0, dtype=np.float32)

    @property
    def doc_ids(self) -> list[str]:
        return list(self._slot_of)

    def __len__(self) -> int:
        return len(self._slot_of)

    def build(self, docs: list[tuple[str, list[str]]]) -> None:
        """Index ``(entry id, tokens)`` pairs (replaces anything indexed before)."""
        postings: dict[str, tuple[list[int], list[int]]] = {}
        self._slot_id, self._slot_of, self._terms_of = [], {}, []
        lengths = []
        for slot, (doc_id, toks) in enumerate(docs):
            counts = Counter(toks)
            self._slot_id.append(doc_id)
            self._slot_of[doc_id] = slot
            self._terms_of.append(tuple(counts))
            lengths.append(len(toks))
            for term, tf in counts.items():
                slots, tfs = postings.setdefault(term, ([], []))
                slots.append(slot)
                tfs.append(tf)
        self._postings = {
            t: (np.asarray(s, dtype=np.int32), np.asarray(f, dtype=np.float32))
            for t, (s, f) in postings.items()
        }
        self._lengths = np.asarray(lengths, dtype=np.float32)
        self._total_len = float(self._lengths.sum())
        self._refresh_norm()

    def with_changes(
        self, upserts: Iterable[tuple[str, list[str]]] = (), deletes: Iterable[str] = ()
    ) -> Bm25Index:
        """A new index with some documents replaced, added or removed; ``self`` is left untouched."""
        new = Bm25Index(self.k1, self.b)
        new._slot_id = list(self._slot_id)
        new._slot_of = dict(self._slot_of)
        new._terms_of = list(self._terms_of)
        new._postings = dict(self._postings)  # arrays are shared until a term is touched
        lengths = self._lengths.copy()
        total = self._total_len
        removed: dict[str, set[int]] = {}
        added: dict[str, tuple[list[int], list[int]]] = {}

        def drop(slot: int) -> None:
            nonlocal total
            for term in new._terms_of[slot]:
                removed.setdefault(term, set()).add(slot)
            total -= float(lengths[slot])
            lengths[slot] = 0.0
            new._terms_of[slot] = ()

        for doc_id in deletes:
            slot = new._slot_of.pop(doc_id, None)
            if slot is not None:
                drop(slot)
                new._slot_id[slot] = None
        grow: list[float] = []
        for doc_id, toks in upserts:
            slot = new._slot_of.get(doc_id)
            if slot is None:  # new document: a fresh slot (deleted slots are not reused)
                slot = len(new._slot_id)
                new._slot_id.append(doc_id)
                new._terms_of.append(())
                new._slot_of[doc_id] = slot
                grow.append(0.0)
            elif slot < len(lengths):
                drop(slot)
            counts = Counter(toks)
            new._terms_of[slot] = tuple(counts)
            if slot < len(lengths):
                lengths[slot] = len(toks)
            else:
                grow[slot - len(lengths)] = len(toks)
            total += len(toks)
            for term, tf in counts.items():
                new_slots, new_tfs = added.setdefault(term, ([], []))
                new_slots.append(slot)
                new_tfs.append(tf)
        for term in set(removed) | set(added):
            slots, tfs = new._postings.get(term, (_NO_DOCS, _NO_TFS))
            gone = removed.get(term)
            if gone:
                keep = ~np.isin(slots, np.fromiter(gone, np.int32, len(gone)))
                slots, tfs = slots[keep], tfs[keep]
            extra = added.get(term)
            if extra:
                slots = np.concatenate([slots, np.asarray(extra[0], dtype=np.int32)])
                tfs = np.concatenate([tfs, np.asarray(extra[1], dtype=np.float32)])
            if len(slots):
                new._postings[term] = (slots, tfs)
            else:
                new._postings.pop(term, None)
        new._lengths = np.concatenate([lengths, np.asarray(grow, dtype=np.float32)]) if grow else lengths
        new._total_len = total
        new._refresh_norm()
        return new

    def _refresh_norm(self) -> None:
        avgdl = (self._total_len / len(self._slot_of)) if self._slot_of else 1.0
        self._norm = (self.k1 * (1 - self.b + self.b * self._lengths / max(avgdl, 1e-9))).astype(np.float32)

    def idf(self, term: str) -> float:
        posting = self._postings.get(term)
        return self._idf_of(len(posting[0])) if posting is not None else 0.0

    def _idf_of(self, df: int) -> float:
        return math.log(1 + (len(self._slot_of) - df + 0.5) / (df + 0.5))

    def search(self, query: list[str], k: int = 10) -> list[tuple[str, float, float]]:
        """Top entries as ``(id, bm25 score, coverage)``; coverage = matched share of query IDF."""
        if not self._slot_of:
            return []
        terms = list(dict.fromkeys(query))
        # unknown query terms count in the denominator with the highest idf: they are informative
        max_idf = self._idf_of(1)
        found = [(t, self._postings[t]) for t in terms if t in self._postings]
        idfs = [self._idf_of(len(p[0])) for _, p in found]
        total_idf = (sum(idfs) + max_idf * (len(terms) - len(found))) or 1.0
        if not found:
            return []
        # only the documents that share a term with the query are scored
        touched = np.unique(np.concatenate([p[0] for _, p in found]))
        scores = np.zeros(len(touched), dtype=np.float32)
        matched = np.zeros(len(touched), dtype=np.float32)
        norm = self._norm[touched]
        for (_, (slots, tfs)), idf in zip(found, idfs, strict=True):
            pos = np.searchsorted(touched, slots)
            scores[pos] += idf * tfs * (self.k1 + 1) / (tfs + norm[pos])
            matched[pos] += idf
        if k < len(scores):
            part = np.argpartition(-scores, k)[:k]
            top = part[np.argsort(-scores[part], kind="stable")]
        else:
            top = np.argsort(-scores, kind="stable")
        out = []
        for i in top:
            doc_id = self._slot_id[int(touched[i])]
            if doc_id is not None and scores[i] > 0:
                out.append((doc_id, float(scores[i]), float(matched[i] / total_idf)))
        return out
