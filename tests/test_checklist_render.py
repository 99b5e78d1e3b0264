"""一次性告知: conditional materials, bundle de-duplication and the four renderings."""

from __future__ import annotations

import datetime as dt

from knowledge.checklist import UNSURE, build_checklist, open_situations
from knowledge.models import Entry
from knowledge.render import card, html_page, plain_text, speech


def _bundle() -> Entry:
    return Entry.model_validate(
        {
            "id": "demo-bundle",
            "title": "演示一件事",
            "kind": "bundle",
            "category": "测试",
            "audience": ["个人"],
            "summary": "两个事项合并办理",
            "bundled_matters": [
                {"name": "甲事项", "department": "甲局"},
                {"name": "乙事项", "department": "乙局"},
            ],
            "situations": [
                {"id": "agent", "question": "是否委托他人办理？"},
                {"id": "married", "question": "是否已婚？"},
            ],
            "materials": [
                {"name": "居民身份证", "matters": ["甲事项"]},
                {"name": "居民 身份证", "matters": ["乙事项"], "copies": 2},
                {"name": "授权委托书", "condition": {"agent": "yes"}, "condition_text": "委托他人办理的"},
                {
                    "name": "结婚证",
                    "condition": {"married": "yes"},
                    "condition_text": "已婚的",
                    "waivable": True,
                },
                {"name": "<script>alert(1)</script>", "form": "复印件"},
            ],
            "time_limit": {"promised_days": 1},
            "fees": "不收费",
            "source": "测试",
            "reviewed_at": dt.date(2026, 11, 1),
        }
    )


def test_shared_material_appears_once_with_all_matters() -> None:
    items = build_checklist(_bundle(), {"agent": "no", "married": "no"})
    ids = [i for i in items if "身份证" in i.name]
    assert len(ids) == 1
    assert ids[0].matters == ["甲事项", "乙事项"]
    assert ids[0].copies == 2


def test_conditional_materials_follow_the_answers() -> None:
    names = lambda answers: [i.name for i in build_checklist(_bundle(), answers)]  # noqa: E731
    assert "授权委托书" not in names({"agent": "no", "married": "no"})
    assert "授权委托书" in names({"agent": "yes", "married": "no"})
    assert "结婚证" in names({"agent": "no", "married": "yes"})


def test_unsure_keeps_the_item_marked_as_conditional() -> None:
    items = build_checklist(_bundle(), {"agent": UNSURE, "married": "no"})
    proxy = next(i for i in items if i.name == "授权委托书")
    assert proxy.conditional and proxy.condition_text == "委托他人办理的"
    assert not next(i for i in items if "身份证" in i.name).conditional


def test_open_situations_only_lists_unanswered_relevant_questions() -> None:
    assert open_situations(_bundle(), {}) == ["agent", "married"]
    assert open_situations(_bundle(), {"agent": "yes"}) == ["married"]


def test_card_carries_entry_source_review_date_and_notice() -> None:
    reviewed = _bundle().model_copy(update={"sample": False})
    c = card(reviewed, ["materials"], {"agent": "yes", "married": "yes"})
    assert c["type"] == "card" and c["entry_id"] == "demo-bundle"
    assert c["source"] == "测试" and c["reviewed_at"] == "2026-11-01"
    assert c["review_status"] == "审核日期：2026-11-01"
    assert c["notice"] == "以窗口最新告知为准"
    (section,) = c["sections"]
    assert [i["name"] for i in section["items"]][:3] == ["居民身份证", "授权委托书", "结婚证"]


def test_card_reports_missing_parts() -> None:
    c = card(_bundle(), ["legal_basis"])
    assert c["sections"] == [] and c["missing"] == ["设定依据"]


def test_plain_text_and_speech() -> None:
    text = plain_text(_bundle(), {"agent": "no", "married": "no"})
    assert "【演示一件事】一次性告知" in text and "授权委托书" not in text
    spoken = speech(_bundle(), {"agent": "yes", "married": "no"})
    assert "一共需要准备三样材料" in spoken
    assert "第二，授权委托书" in spoken


def test_html_page_escapes_entry_text() -> None:
    page = html_page(_bundle())
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
