"""The content is faithful to the bureau's plan (its reply to CPPCC proposal 156), the bureau
profile is the one place for contacts and 分站点, nothing is invented, and review status is honest."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from core.db import session_factory
from core.migrate import migrate
from core.settings import ROOT, Settings
from knowledge import catalogue
from knowledge.bureau import SAMPLE_STATUS, BureauProfile, contact_problems, current_profile
from knowledge.errors import EntryInvalid
from knowledge.io import entry_to_dict
from knowledge.models import Entry, Status
from knowledge.render import card, html_page, localize, plain_text, speech
from knowledge.store import EntryStore
from knowledge.validation import check_entry
from knowledge.workflow import Actor, Workflow

BUREAU = "岳阳市行政审批服务局"
OLD_NAME = "政务服务和大数据管理局"
PLAN = "岳阳市行政审批服务局关于市政协第156号提案的答复（2025年）"
COUNTIES = ["岳阳楼区", "云溪区", "君山区", "岳阳县", "华容县", "湘阴县", "平江县", "汨罗市", "临湘市"]
ZONES = ["岳阳经济技术开发区", "南湖新区", "城陵矶新港区", "屈原管理区"]
PROVINCE_FIRSTS = {
    "public-rental-housing": "公共租赁住房配租审批",
    "talent-apartment": "人才公寓入住资格申报",
    "civil-servant-lifecycle": "公职人员全生命周期",
}


def _by_id(entries: list[Entry], entry_id: str) -> Entry:
    return next(e for e in entries if e.id == entry_id)


def _text(entry: Entry) -> str:
    return json.dumps(entry_to_dict(entry), ensure_ascii=False)


def _section(c: dict[str, Any], key: str) -> dict[str, Any]:
    return next(s for s in c["sections"] if s["key"] == key)


def _profile_with(**site_fields: dict[str, str]) -> BureauProfile:
    """The real profile with some sites' contacts filled in (as the bureau would)."""
    data = current_profile().model_dump()
    for site in data["sites"]:
        site.update(site_fields.get(site["id"], {}))
    return BureauProfile.model_validate(data)


def _entry(**fields: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": "demo-matter",
        "title": "演示事项",
        "kind": "matter",
        "category": "测试",
        "audience": ["个人"],
        "summary": "一个演示用的事项",
        "source": "测试",
    }
    return raw | fields


# -- 1. the bureau's name, the plan's promises ----------------------------------------------------


def test_the_bureau_is_named_right_everywhere(seed_entries: list[Entry]) -> None:
    assert current_profile().name == BUREAU
    assert all(e.source.startswith(BUREAU) for e in seed_entries)
    folders = ["knowledge", "web", "docs", "bot", "actions"]
    files = [p for f in folders for p in (ROOT / f).rglob("*") if p.is_file() and p.suffix != ".pyc"]
    files += [ROOT / "README.md"]
    stale = [str(p.relative_to(ROOT)) for p in files if OLD_NAME in p.read_text("utf-8", errors="ignore")]
    assert stale == []
    assert BUREAU in (ROOT / "web" / "static" / "index.html").read_text("utf-8")
    assert BUREAU in html_page(seed_entries[0])


def test_enterprise_opening_promises_what_the_plan_says(seed_entries: list[Entry]) -> None:
    e = _by_id(seed_entries, "enterprise-opening")
    assert e.time_limit.promised_days == 2
    assert len(e.bundled_matters) == 6 and len(e.steps) == 3 and len(e.materials) <= 6
    for phrase in (
        "一门进出",
        "一次告知",
        "一窗受理",
        "一套表单",
        "一次采集",
        "一网通办",
        "一次办好",
        "一次送达",
    ):
        assert phrase in e.summary
    assert "2个工作日以内" in e.summary
    text = _text(e)
    for invented in ("半个工作日", "半日", "1个工作日", "首套印章免费", "住所申报承诺制", "承诺制"):
        assert invented not in text, invented
    c = card(e)
    assert "承诺时限：2个工作日" in _section(c, "time_limit")["lines"]


def test_the_plans_claims_carry_a_source_line(seed_entries: list[Entry]) -> None:
    e = _by_id(seed_entries, "enterprise-opening")
    claims = card(e)["claims"]
    texts = [c["text"] for c in claims]
    for claim in ("6个联办事项", "3个以内环节", "6份以内材料", "2个工作日以内办结"):
        assert claim in texts
    assert all(c["source"] == PLAN for c in claims)
    assert f"6份以内材料（来源：{PLAN}）" in plain_text(e)
    assert PLAN in html_page(e)


def test_after_death_is_a_pilot_without_a_promise(seed_entries: list[Entry]) -> None:
    e = _by_id(seed_entries, "after-death")
    assert e.pilot and e.time_limit.promised_days is None and e.time_limit.legal_days is None
    assert "专区" not in _text(e)  # no 湘易办 专区 announced for a pilot
    c = card(e)
    assert "试点（测试中）" in c["badges"] and c["pilot"] is True
    assert all("承诺时限" not in line for line in _section(c, "time_limit")["lines"])
    assert any("试点" in line and "12345" in line for line in _section(c, "time_limit")["lines"])
    assert "online" not in [s["key"] for s in c["sections"]]
    assert "试点测试中" in speech(e)
    with pytest.raises(EntryInvalid):
        check_entry(entry_to_dict(e) | {"time_limit": {"promised_days": 5}, "related": []})


def test_province_firsts_are_tagged_and_shown(seed_entries: list[Entry]) -> None:
    tagged = {e.id for e in seed_entries if "全省首推" in e.tags}
    assert tagged == set(PROVINCE_FIRSTS)
    for entry_id, name in PROVINCE_FIRSTS.items():
        c = card(_by_id(seed_entries, entry_id))
        assert c["province_first"] is True and "全省首推" in c["badges"]
        assert any(name in claim["text"] and claim["source"] == PLAN for claim in c["claims"])
    assert not card(_by_id(seed_entries, "newborn-birth"))["province_first"]


# -- 2. the bureau profile; nothing invented -------------------------------------------------------


def test_profile_has_the_city_hall_and_every_county_site() -> None:
    p = current_profile()
    names = [s.name for s in p.sites]
    assert p.hall.id == "city" and p.hall.map_url
    for place in COUNTIES + ZONES:
        assert any(n.startswith(place) for n in names), place
    assert p.hotline == "12345" == Settings().hotline
    assert p.online.name == "湘易办"
    for s in p.sites:  # empty until the bureau fills them in
        assert (s.address, s.hours, s.phone) == ("", "", ""), s.id


def test_seed_entries_invent_no_contacts_fees_or_time_limits(seed_entries: list[Entry]) -> None:
    profile = current_profile()
    for e in seed_entries:
        assert (
            e.phone == ""
            and e.fees == ""
            and e.location.model_dump()
            == {
                "window": "",
                "address": "",
                "hours": "",
                "map_url": "",
            }
        ), e.id
        text = _text(e)
        for invented in ("0730", "金鹗", "公众号", "12333", "12329"):
            assert invented not in text, (e.id, invented)
        if e.id != "enterprise-opening":
            assert e.time_limit.promised_days is None and e.time_limit.legal_days is None, e.id
        assert contact_problems(e, profile) == [], e.id


def test_unfilled_facts_say_call_12345(seed_entries: list[Entry]) -> None:
    c = card(_by_id(seed_entries, "id-card"))
    location = _section(c, "location")
    assert "地址：请拨打12345咨询" in location["lines"] and "时间：请拨打12345咨询" in location["lines"]
    assert location["map_url"] == current_profile().hall.map_url
    phone = _section(c, "phone")
    assert phone["tel"] == "12345" and phone["lines"] == ["12345政务服务便民热线：12345"]
    assert _section(c, "fees")["lines"] == ["请拨打12345咨询"]
    assert _section(c, "time_limit")["lines"] == ["请拨打12345咨询"]


def test_a_filled_profile_is_the_one_place_contacts_come_from(seed_entries: list[Entry]) -> None:
    p = _profile_with(city={"address": "示例路1号", "hours": "工作日", "phone": "0730-0000001"})
    for entry_id in ("id-card", "newborn-birth"):
        c = card(_by_id(seed_entries, entry_id), profile=p)
        assert "地址：示例路1号" in _section(c, "location")["lines"]
        assert _section(c, "phone")["tel"] == "07300000001"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "0730-1234567"),
        ("summary", "咨询电话0730-8888888"),
        ("summary", "地址：岳阳楼区金鹗东路"),
        ("summary", "办理地点：政务服务中心一楼3号窗口"),
        ("fees", "工本费40元"),
        ("summary", "办公时间9:00-12:00"),
        ("summary", "关注“岳阳12345”微信公众号"),
        ("summary", "人社服务热线12333"),
    ],
)
def test_contact_rule_rejects_unpublished_contacts_in_sample_entries(field: str, value: str) -> None:
    with pytest.raises(EntryInvalid) as err:
        check_entry(_entry(**{field: value}))
    assert any(p.field == field for p in err.value.problems)
    # the same fact from an official source, or in a reviewed (non-sample) entry, is accepted
    check_entry(_entry(**{field: value, "official_source": "岳阳市人民政府门户网站"}))
    check_entry(_entry(**{field: value, "sample": False}))


def test_contact_rule_accepts_numbers_the_profile_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    check_entry(_entry(summary="拨打12345咨询"))
    filled = _profile_with(pingjiang={"phone": "0730-6000000"})
    raw = Entry.model_validate(_entry(summary="平江县分站点电话0730-6000000"))
    assert contact_problems(raw, filled) == []
    assert contact_problems(raw, current_profile()) != []
    assert contact_problems(Entry.model_validate(_entry(sites=["atlantis"])), current_profile())


# -- 3. sites ------------------------------------------------------------------------------------


def test_location_answer_for_a_county_site_and_fallback_to_the_city(seed_entries: list[Entry]) -> None:
    p = _profile_with(pingjiang={"address": "平江示例地址", "hours": "周一至周五", "phone": "0730-6000000"})
    e = _by_id(seed_entries, "enterprise-opening")
    county = card(e, ["location", "phone"], site="pingjiang", profile=p)
    assert county["site"] == "pingjiang"
    assert "地点：平江县分站点" in _section(county, "location")["lines"]
    assert "地址：平江示例地址" in _section(county, "location")["lines"]
    assert _section(county, "phone")["tel"] == "07306000000"
    # a site that has not filled in its contacts says so; no site or an unknown site: the city hall
    assert (
        "地址：请拨打12345咨询"
        in _section(card(e, ["location"], site="huarong", profile=p), "location")["lines"]
    )
    for site in (None, "atlantis"):
        city = card(e, ["location", "phone"], site=site, profile=p)
        assert city["site"] == "city" and "地点：岳阳市政务服务中心" in _section(city, "location")["lines"]


def test_entries_can_be_overridden_or_limited_per_site(seed_entries: list[Entry]) -> None:
    base = entry_to_dict(_by_id(seed_entries, "enterprise-opening"))
    over = Entry.model_validate(base | {"site_overrides": {"pingjiang": {"window": "平江企业开办窗口"}}})
    assert (
        "窗口：平江企业开办窗口" in _section(card(over, ["location"], site="pingjiang"), "location")["lines"]
    )
    assert all("平江" not in line for line in _section(card(over, ["location"]), "location")["lines"])

    local = Entry.model_validate(_entry(id="pingjiang-special", kind="matter", sites=["pingjiang"]))
    everything = [*seed_entries, local]

    def at(site: str | None) -> set[str]:
        views = catalogue.build(everything, current_profile(), site)["views"]
        return {i["id"] for v in views for g in v["groups"] for i in g["items"]}

    assert "pingjiang-special" in at("pingjiang") and "pingjiang-special" not in at("huarong")
    assert "pingjiang-special" in at(None)  # the city-wide catalogue lists every county's 特色一件事
    featured = catalogue.build(everything, current_profile(), "pingjiang")["featured"]
    assert any(g["title"] == "平江县分站点特色一件事" for g in featured)
    elsewhere = localize(card(local, ["location"]), local, "huarong")
    assert "平江县分站点" in elsewhere["site_note"] and elsewhere["site"] == "pingjiang"
    asked = localize(card(local, ["location"]), local, None)
    assert asked["ask_site"]["options"][0]["id"] == "city"


# -- 4. the catalogue ----------------------------------------------------------------------------


def test_catalogue_groups(seed_entries: list[Entry]) -> None:
    cat = catalogue.build(seed_entries, current_profile())
    assert cat["count"] == 51 and cat["bureau"] == BUREAU
    featured = {g["key"]: {i["id"] for i in g["items"]} for g in cat["featured"]}
    assert featured["yijianshi"] == {e.id for e in seed_entries if e.kind.value == "bundle"}
    assert featured["province_first"] == set(PROVINCE_FIRSTS)
    views = {v["key"]: {g["title"]: {i["id"] for i in g["items"]} for g in v["groups"]} for v in cat["views"]}
    assert "newborn-birth" in views["life_event"]["生育收养"]
    assert "enterprise-opening" in views["enterprise_stage"]["开办准入"]
    assert "enterprise-deregistration" in views["enterprise_stage"]["退出注销"]
    assert "id-card" in views["department"]["岳阳市公安局"]
    listed = {i for groups in views.values() for ids in groups.values() for i in ids}
    assert listed == {e.id for e in seed_entries}
    gone = [
        e.model_copy(update={"status": Status.unpublished}) if e.id == "id-card" else e for e in seed_entries
    ]
    assert catalogue.build(gone, current_profile())["count"] == 50


# -- 5. honest review status ---------------------------------------------------------------------


def test_sample_entries_show_sample_status_everywhere(seed_entries: list[Entry]) -> None:
    e = _by_id(seed_entries, "newborn-birth")
    assert e.sample and e.reviewed_at is None
    c = card(e)
    assert c["reviewed_at"] == "" and c["review_status"] == SAMPLE_STATUS == "示例数据，待核实"
    assert SAMPLE_STATUS in plain_text(e) and "审核日期" not in plain_text(e)
    assert SAMPLE_STATUS in speech(e)
    assert SAMPLE_STATUS in html_page(e) and "审核日期" not in html_page(e)
    # a date in a sample entry is not shown either
    dated = e.model_copy(update={"reviewed_at": dt.date(2026, 1, 2)})
    assert card(dated)["reviewed_at"] == "" and "2026-01-02" not in plain_text(dated)


def test_only_a_reviewers_approval_sets_the_review_date(tmp_path: Path, seed_entries: list[Entry]) -> None:
    url = f"sqlite:///{tmp_path / 'wf.db'}"
    migrate(url)
    store = EntryStore(session_factory(url))
    store.import_entries(seed_entries, author="seed")
    wf = Workflow(session_factory(url))
    editor, reviewer = Actor("editor1", "editor"), Actor("reviewer1", "reviewer")
    state = wf.get("id-card")
    raw = state.content | {"sample": False, "reviewed_at": "2020-01-01"}  # an editor cannot set it
    saved = wf.save("id-card", raw, state.lock_version, editor)
    assert saved.working is not None and saved.working["reviewed_at"] is None
    wf.submit("id-card", editor)
    wf.approve("id-card", reviewer)
    live = store.get("id-card")
    assert live.reviewed_at == dt.date.today() and not live.sample
    assert card(live)["review_status"] == f"审核日期：{dt.date.today().isoformat()}"


def test_agent_suggestions_show_the_sample_status(seed_entries: list[Entry]) -> None:
    from web.assist import suggestion

    s = suggestion(_by_id(seed_entries, "after-death"), 0.9)
    assert SAMPLE_STATUS in s.text and "审核日期" not in s.text
    assert SAMPLE_STATUS in s.speech and "试点" in s.speech
