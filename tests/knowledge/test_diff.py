"""knowledge/diff.py: what an editor and a reviewer read about a change, field by field."""

from __future__ import annotations

import copy
from typing import Any

from knowledge.diff import diff_entries, unified

BASE: dict[str, Any] = {
    "id": "marriage-registration",
    "title": "结婚登记",
    "status": "published",
    "version": 3,
    "similar_questions": ["结婚证怎么办", "领证要带什么"],
    "materials": [
        {"name": "户口簿", "copies": 1, "required": True},
        {"name": "身份证", "copies": 1, "required": True},
    ],
    "steps": [{"title": "申请", "department": "婚姻登记处"}, {"title": "领证"}],
}


def texts(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return [c.text() for c in diff_entries(a, b)]


def test_a_material_is_matched_by_name_not_by_position() -> None:
    b = copy.deepcopy(BASE)
    b["materials"] = [
        {"name": "身份证", "copies": 2, "required": True},
        {"name": "户口簿", "copies": 1, "required": True},
    ]
    # one changed number and one move, not two rewritten blocks
    assert texts(BASE, b) == ["修改 申请材料「身份证」 · 份数：1 → 2", "调整顺序 申请材料：身份证、户口簿"]


def test_added_and_removed_items_and_plain_text_lists() -> None:
    b = copy.deepcopy(BASE)
    b["materials"] = [*b["materials"][1:], {"name": "近期半身免冠照片", "copies": 3, "required": True}]
    b["similar_questions"] = ["结婚证怎么办", "领证需要带什么材料", "在哪里领结婚证"]
    assert texts(BASE, b) == [  # the schema's field order: similar questions before materials
        "删除 相似问法第2项：领证要带什么",
        "新增 相似问法第2项：领证需要带什么材料",
        "新增 相似问法第3项：在哪里领结婚证",
        "删除 申请材料「户口簿」：名称：户口簿；份数：1；必需：是",
        "新增 申请材料「近期半身免冠照片」：名称：近期半身免冠照片；份数：3；必需：是",
    ]


def test_workflow_fields_alone_are_no_change_and_new_fields_are_reported() -> None:
    b = {**BASE, "status": "draft", "version": 4, "reviewed_at": "2026-11-30"}
    assert diff_entries(BASE, b) == []
    c = {**BASE, "summary": "夫妻双方到婚姻登记处申请", "title": "结婚登记（内地居民）"}
    changes = diff_entries(BASE, c)
    assert [(ch.field, ch.op) for ch in changes] == [("title", "changed"), ("summary", "added")]
    assert changes[0].to_dict()["text"] == "修改 标题：结婚登记 → 结婚登记（内地居民）"


def test_the_unified_view_is_yaml_without_workflow_fields() -> None:
    b = {**BASE, "version": 4, "title": "结婚登记（内地居民）"}
    lines = unified(BASE, b, "v3", "v4")
    assert lines[:2] == ["--- v3", "+++ v4"]
    assert "-title: 结婚登记" in lines and "+title: 结婚登记（内地居民）" in lines
    assert not any(line.startswith(("-version", "+version")) for line in lines)
