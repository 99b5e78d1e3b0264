"""knowledge/importers/guangdong.py: the Guangdong portal's guides mapped onto entries, with reasons."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from knowledge.importers.guangdong import map_file, map_guide

ROW: dict[str, Any] = {
    "TASK_CODE": "11440000MB2C12345X4440112001000",
    "TASK_NAME": "社会团体成立登记",
    "DEPT_NAME": "广东省民政厅",
    "TASK_TYPE_TEXT": "行政许可",
    "service_object_name": ["法人", "其他组织"],
    "material_intro": ["成立登记申请书", "无", "章程草案"],
    "handle_location": "办理地点：广州市越秀区东风中路",
    "handle_time_limit": "20（工作日）",
    "handle_time": "60(工作日)",  # the portal's own form; the promised one above is full-width
    "charge": "不收费",
    "consult_phone": "020-12345678",
    "theme_category": ["社会组织"],
    "CATANAME": "社团登记",
    "URL": "https://www.gdzwfw.gov.cn/",
}


def test_a_guide_becomes_a_sample_entry_field_by_field() -> None:
    e = map_guide(ROW)
    assert e.id.startswith("gd-") and e.id == map_guide(dict(ROW)).id  # stable: from TASK_CODE
    assert e.title == "社会团体成立登记" and e.audience == ["法人"] and e.category == "社会组织"
    assert [m.name for m in e.materials] == ["成立登记申请书", "章程草案"]  # "无" is no material
    assert e.time_limit.promised_days == 20 and e.time_limit.legal_days == 60
    assert e.location.address == "广州市越秀区东风中路" and e.phone == "020-12345678"
    assert e.sample and e.source == "广东政务服务网 广东省民政厅" and "社团登记" in e.aliases


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"TASK_NAME": "  "}, "no TASK_NAME"), ({"DEPT_NAME": "暂无"}, "no DEPT_NAME")],
)
def test_a_guide_without_a_name_or_department_is_rejected_with_the_reason(
    change: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        map_guide({**ROW, **change})


def test_a_file_is_counted_mapped_rejected_and_incomplete(tmp_path: Path) -> None:
    lines = [
        ROW,
        {**ROW},  # the same TASK_CODE again
        {**ROW, "TASK_CODE": "other", "TASK_NAME": "个体工商户注册", "material_intro": [], "charge": "无"},
        {**ROW, "TASK_CODE": "third", "DEPT_NAME": ""},
    ]
    path = tmp_path / "guides.jsonl"
    path.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in lines) + "\n\nnot json\n", encoding="utf-8"
    )
    report = map_file(path)
    assert [e.title for e in report.mapped] == ["社会团体成立登记", "个体工商户注册"]
    assert report.rejected["duplicate TASK_CODE"] == 1 and report.rejected["no DEPT_NAME"] == 1
    assert sum(report.rejected.values()) == 3  # and the line that is not JSON
    assert report.gaps["materials"] == 1 and report.gaps["fees"] == 1 and report.gaps["phone"] == 0
    assert "mapped cleanly: 2; rejected: 3" in report.summary()
