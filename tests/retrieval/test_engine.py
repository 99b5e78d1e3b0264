"""The real hybrid engine (e5-small-q4 + jieba BM25) over the seed entries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings.index import Manifest, VectorIndex
from knowledge.models import Entry
from retrieval.engine import NAMED, Mode, SearchEngine, name_strength


def test_finds_the_newborn_bundle(engine: SearchEngine) -> None:
    result = engine.search("宝宝刚出生要办什么手续")
    assert result.answerable
    assert result.candidates[0].id == "newborn-birth"


def test_synonyms_reach_the_right_entry(engine: SearchEngine) -> None:
    assert engine.search("廉租房怎么申请", mode="bm25").candidates[0].id == "public-rental-housing"


@pytest.mark.parametrize(
    ("typed", "meant", "entry_id"),
    [
        ("公基金怎么提取", "公积金", "housing-fund-withdrawal"),  # by sound: no lexicon line for 公基金
        ("身份正丢了怎么补办", "身份证", "id-card-reissue"),
        ("户口簿要迁到岳阳怎么办", "户口本", "hukou-transfer"),  # by the lexicon
        ("户口部要迁到岳阳怎么办", "户口本", "hukou-transfer"),  # by sound to 户口簿, then the lexicon
    ],
)
@pytest.mark.parametrize("mode", ["bm25", "hybrid"])
def test_pinyin_typos_reach_the_entry(
    engine: SearchEngine, typed: str, meant: str, entry_id: str, mode: Mode
) -> None:
    result = engine.search(typed, mode=mode)
    assert meant in result.normalised
    assert result.candidates[0].id == entry_id
    assert mode == "bm25" or result.answerable


def test_a_new_entry_is_matched_by_sound_until_it_is_deleted(
    engine: SearchEngine, seed_entries: list[Entry]
) -> None:
    new = seed_entries[0].model_copy(
        update={
            "id": "dragon-boat-permit",
            "title": "龙舟竞渡活动备案",
            "aliases": ["赛龙舟备案", "龙舟竞渡"],
            "related": [],
        }
    )
    assert "龙舟竞渡" not in engine.normalise_query("龙周竞渡要备案吗")
    engine.upsert(new)
    try:
        assert engine.normalise_query("龙周竞渡要备案吗") == "龙舟竞渡要备案吗"
        assert engine.search("赛龙周备案去哪里办", mode="bm25").candidates[0].id == "dragon-boat-permit"
    finally:
        engine.delete("dragon-boat-permit")
    assert engine.normalise_query("龙周竞渡要备案吗") == "龙周竞渡要备案吗"


@pytest.mark.parametrize(
    "query", ["明天岳阳会下雨吗", "给我讲个笑话", "公鸡金毛狗哪个好养", "推荐几个岳阳的饭点"]
)
def test_unrelated_questions_are_not_pinyin_matched_into_an_answer(engine: SearchEngine, query: str) -> None:
    result = engine.search(query)
    assert result.normalised == query
    assert not result.answerable


@pytest.mark.parametrize(
    ("query", "entry_id"),
    [
        ("居住证要准备哪些材料", "residence-permit"),  # 入学一件事 scores higher by meaning
        ("社保卡怎么申请 要啥材料", "social-security-card"),  # 新生儿出生一件事 scores higher
        ("公积金提取要带什么", "housing-fund-withdrawal"),  # 退休一件事 covers a withdrawal too
        ("公积金待款怎么申请", "housing-fund-loan"),  # named after the pinyin correction
    ],
)
def test_a_question_that_names_one_of_close_services_is_not_ambiguous(
    engine: SearchEngine, query: str, entry_id: str
) -> None:
    result = engine.search(query)
    assert result.answerable and not result.ambiguous
    assert result.candidates[0].id == entry_id


def test_close_services_that_no_name_decides_stay_ambiguous(engine: SearchEngine) -> None:
    entries = engine.entries
    # both titles hold 公积金: naming it alone decides nothing
    assert name_strength(entries["housing-fund-withdrawal"], "公积金", engine.lexicon) < NAMED
    assert name_strength(entries["housing-fund-loan"], "公积金怎么办", engine.lexicon) < NAMED
    assert name_strength(entries["housing-fund-loan"], "公积金贷款怎么申请", engine.lexicon) == 1.0


def test_out_of_scope_is_not_answerable(engine: SearchEngine) -> None:
    assert not engine.search("明天岳阳会下雨吗").answerable
    assert not engine.search("给我讲个笑话").answerable


def test_upsert_and_delete_without_rebuild(engine: SearchEngine, seed_entries: list[Entry]) -> None:
    new = seed_entries[0].model_copy(
        update={
            "id": "dragon-boat-permit",
            "title": "龙舟竞渡活动备案",
            "aliases": ["赛龙舟备案"],
            "similar_questions": ["端午节村里想组织划龙舟要报备吗"],
            "related": [],
        }
    )
    before = engine.dense_index.vector_count
    engine.upsert(new)
    try:
        assert engine.search("赛龙舟要去哪里备案").candidates[0].id == "dragon-boat-permit"
    finally:
        engine.delete("dragon-boat-permit")
    assert engine.dense_index.vector_count == before
    assert "dragon-boat-permit" not in engine.entries


def test_index_persists_with_manifest_and_refuses_another_encoder(tmp_path: Path) -> None:
    index = VectorIndex(4)
    index.add_many([("a", np.eye(4, dtype=np.float32)[:2]), ("b", np.eye(4, dtype=np.float32)[2:])])
    index.save(tmp_path / "idx", Manifest("enc", 4, 7, 2, 4))
    loaded = VectorIndex.load(tmp_path / "idx", "enc", 4)
    assert loaded is not None
    again, manifest = loaded
    assert manifest.knowledge_version == 7 and again.entry_ids() == {"a", "b"}
    assert again.search(np.array([0, 0, 1, 0], dtype=np.float32))[0][0] == "b"
    assert VectorIndex.load(tmp_path / "idx", "other-encoder", 4) is None
    assert VectorIndex.load(tmp_path / "idx", "enc", 8) is None
