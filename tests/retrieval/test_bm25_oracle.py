"""retrieval/bm25.py against an independent implementation (rank_bm25) as the oracle.

The engine uses Okapi BM25 with the non-negative IDF log(1 + (N − df + 0.5) / (df + 0.5)) (Lucene's);
rank_bm25's ``BM25Okapi`` scores the same way once given that IDF. Random collections, built at once
and changed by upserts and deletes (``with_changes``), must score every document as the oracle built
from the final collection does.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from retrieval.bm25 import Bm25Index


class LuceneIdfBM25(BM25Okapi):  # type: ignore[misc]
    def _calc_idf(self, nd: dict[str, int]) -> None:
        self.idf = {t: math.log(1 + (self.corpus_size - df + 0.5) / (df + 0.5)) for t, df in nd.items()}


VOCAB = [f"词{i}" for i in range(40)]


def _doc(rng: random.Random) -> list[str]:
    return rng.choices(VOCAB, weights=[1 / (i + 1) for i in range(len(VOCAB))], k=rng.randint(1, 25))


def _check(index: Bm25Index, docs: dict[str, list[str]], rng: random.Random) -> None:
    ids = list(docs)
    oracle = LuceneIdfBM25([docs[i] for i in ids], k1=index.k1, b=index.b)
    for _ in range(30):
        query = list(dict.fromkeys(rng.choices(VOCAB, k=rng.randint(1, 6))))  # the engine dedups terms
        expected = dict(zip(ids, oracle.get_scores(query), strict=True))
        got = {doc_id: score for doc_id, score, _coverage in index.search(query, k=len(ids))}
        assert set(got) == {i for i, s in expected.items() if s > 0}
        for doc_id, score in got.items():
            assert score == pytest.approx(expected[doc_id], rel=1e-5), (query, doc_id)
        ranked = [d for d, _, _ in index.search(query, k=5)]
        best = sorted(got.values(), reverse=True)[:5]
        assert np.allclose([got[d] for d in ranked], best, rtol=1e-6)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_scores_equal_the_oracle_after_builds_upserts_and_deletes(seed: int) -> None:
    rng = random.Random(seed)
    docs = {f"e{i}": _doc(rng) for i in range(40)}
    index = Bm25Index()
    index.build(list(docs.items()))
    _check(index, docs, rng)
    for _ in range(5):
        upserts = {f"e{rng.randint(0, 60)}": _doc(rng) for _ in range(rng.randint(1, 4))}
        deletes = [d for d in rng.sample(sorted(docs), 2) if d not in upserts]
        before, before_docs = index, dict(docs)
        index = index.with_changes(upserts=list(upserts.items()), deletes=deletes)
        docs.update(upserts)
        for d in deletes:
            docs.pop(d)
        _check(index, docs, rng)
        _check(before, before_docs, rng)  # the index a running search holds is left untouched
