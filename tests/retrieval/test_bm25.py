"""The incremental BM25 index must rank exactly like one built from scratch."""

from __future__ import annotations

import random

import pytest

from retrieval.bm25 import Bm25Index

VOCAB = ["公租房", "申请", "条件", "营业执照", "办理", "材料", "社保", "卡", "补办", "多久", "新生儿", "户口"]


def fresh(docs: dict[str, list[str]]) -> Bm25Index:
    index = Bm25Index()
    index.build(list(docs.items()))
    return index


def ranked(index: Bm25Index, query: list[str]) -> list[tuple[str, float, float]]:
    return sorted(
        ((d, round(s, 4), round(c, 4)) for d, s, c in index.search(query, k=50)), key=lambda r: r[0]
    )


@pytest.mark.parametrize("seed", range(5))
def test_random_changes_match_a_full_rebuild(seed: int) -> None:
    rng = random.Random(seed)
    docs = {f"e{i}": rng.choices(VOCAB, k=rng.randint(1, 12)) for i in range(30)}
    index = fresh(docs)
    for step in range(40):
        action = rng.random()
        if action < 0.5:  # edit or add
            doc_id = f"e{rng.randint(0, 45)}"
            docs[doc_id] = rng.choices(VOCAB, k=rng.randint(1, 12))
            index = index.with_changes(upserts=[(doc_id, docs[doc_id])])
        elif docs:
            doc_id = rng.choice(sorted(docs))
            del docs[doc_id]
            index = index.with_changes(deletes=[doc_id])
        for query in (["公租房", "申请"], ["补办", "社保", "卡"], ["新生儿", "没有的词"]):
            assert ranked(index, query) == ranked(fresh(docs), query), f"step {step}"
    assert sorted(index.doc_ids) == sorted(docs)


def test_a_change_leaves_the_old_index_untouched() -> None:
    old = fresh({"a": ["公租房", "申请"], "b": ["社保", "卡"]})
    new = old.with_changes(upserts=[("a", ["营业执照"])], deletes=["b"])
    assert [d for d, _, _ in old.search(["公租房"])] == ["a"]
    assert [d for d, _, _ in old.search(["社保"])] == ["b"]
    assert new.search(["公租房"]) == [] and new.search(["社保"]) == []
    assert [d for d, _, _ in new.search(["营业执照"])] == ["a"]


def test_coverage_is_the_matched_share_of_query_information() -> None:
    index = fresh({"a": ["公租房", "申请"], "b": ["社保", "卡"], "c": ["户口"]})
    (doc, _, coverage), *_ = index.search(["公租房", "社保"])
    assert doc in {"a", "b"}
    assert coverage == pytest.approx(0.5)
    assert index.search(["没有的词"]) == []
