"""一次性告知: conditional materials, bundle de-duplication and the four renderings."""

from __future__ import annotations

import datetime as dt

from knowledge.checklist import UNSURE, build_checklist, open_situations
from knowledge.models import Entry, Kind, OnlineEntry, TimeLimit
from knowledge.render import card, html_page, known_answers, plain_text, speech


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


def _matter() -> Entry:
    return _bundle().model_copy(
        update={"kind": Kind.matter, "bundled_matters": [], "legal_basis": ["《条例》"]}
    )


def test_a_single_matter_card_has_no_bundle_part() -> None:
    """联办事项 applies only to a 一件事: a single matter's card neither shows nor misses it."""
    c = card(_matter())
    assert "bundled_matters" not in c["parts"] and "联办事项" not in c["missing"]
    assert c["missing"] == []  # a whole guide leaves out an empty part (no 暂未收录 line)
    assert card(_matter(), ["steps"])["missing"] == ["办理流程"]  # asked for: said it is not there
    assert "联办事项" not in plain_text(_matter()) and "联办事项" not in html_page(_matter())
    assert "联办事项" in [s["title"] for s in card(_bundle())["sections"]]


def test_a_faq_card_has_no_time_limit_or_fee_lines_of_its_own() -> None:
    faq = _matter().model_copy(
        update={"kind": Kind.faq, "materials": [], "situations": [], "fees": "", "time_limit": TimeLimit()}
    )
    c = card(faq)
    assert {"time_limit", "fees", "materials", "location"}.isdisjoint(c["parts"])
    assert c["missing"] == []


def test_focus_is_the_part_asked_for_or_the_cards_lead() -> None:
    assert card(_bundle(), ["conditions"])["focus"] == []  # the bundle has no conditions: nothing shown
    assert card(_bundle(), ["time_limit"])["focus"] == ["time_limit"]
    assert card(_bundle())["focus"] == ["materials"]
    assert card(_bundle(), ["time_limit", "fees", "online"])["focus"] == ["time_limit"]
    assert card(_bundle(), ["fees", "time_limit", "steps"], focus=["time_limit"])["focus"] == ["time_limit"]


def test_guide_link_carries_the_answers_and_the_site() -> None:
    c = card(_bundle(), None, {"agent": "yes", "married": UNSURE, "bogus": "x"}, site="pingjiang")
    assert c["guide_url"] == "/guide/demo-bundle?agent=yes&married=unsure&site=pingjiang"
    assert c["answers"] == ["是否委托他人办理：是", "是否已婚：不确定"]
    assert card(_bundle())["guide_url"] == "/guide/demo-bundle"
    assert known_answers(_bundle(), {"agent": "maybe", "married": "no"}) == {"married": "no"}


def test_tailored_guide_page_says_whose_situation_it_is() -> None:
    page = html_page(_bundle(), {"agent": "no", "married": "yes"})
    assert "按您的情况生成" in page and "是否委托他人办理：否" in page
    assert "授权委托书" not in page and "结婚证" in page
    assert "href='/guide/demo-bundle'" in page  # the general guide, one click away
    general = html_page(_bundle())
    assert "按您的情况生成" not in general and "授权委托书" in general
    assert "guide-print" in general and "/static/guide.js" in general


def test_card_speech_reads_what_the_card_leads_with() -> None:
    spoken = card(_bundle(), None, {"agent": "yes", "married": "no"})["speech"]
    assert spoken.startswith("您要办的是演示一件事。") and "一共需要准备" in spoken
    fees = card(_bundle(), ["fees"])
    assert fees["speech"].startswith("您问的是演示一件事。收费标准：不收费。")
    linked = _bundle().model_copy(update={"online": OnlineEntry(name="湘易办", url="https://x.example")})
    online = card(linked, ["online"])
    assert "https://" not in online["speech"]
