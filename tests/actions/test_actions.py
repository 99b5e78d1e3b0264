"""Action unit tests: a real tracker (``Tracker.from_dict``), a fresh dispatcher, a real index."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import grounding
from actions.abstain import ActionAbstain
from actions.answer_service import ActionAnswerService
from actions.handoff import ActionHandoff, transcript
from actions.next_candidates import ActionNextCandidates
from actions.situation_form import ActionAskSituationAnswer, ActionShowChecklist, ValidateSituationForm
from core.accounts import AccountStore
from core.db import session_factory
from core.settings import Settings
from handoff.status import TicketStatus
from handoff.tables import HandoffRow
from retrieval.live import LiveSearch
from tests.action_support import run, slot, tracker


def test_answer_card_comes_from_the_entry(live: LiveSearch) -> None:
    events, messages = run(ActionAnswerService(), tracker("公租房申请要满足什么条件", "ask_conditions"))
    card = next(m["custom"] for m in messages if m.get("custom"))
    assert card["entry_id"] == "public-rental-housing" and card["parts"] == ["conditions"]
    assert slot(events, "current_service") == "public-rental-housing"


def test_follow_up_uses_the_current_service(live: LiveSearch) -> None:
    t = tracker("那要多久？", "ask_time_limit", {"current_service": "public-rental-housing"})
    _, messages = run(ActionAnswerService(), t)
    card = next(m["custom"] for m in messages if m.get("custom"))
    assert card["entry_id"] == "public-rental-housing" and card["parts"] == ["time_limit"]


def test_situation_dependent_materials_start_the_form(live: LiveSearch) -> None:
    events, _messages = run(ActionAnswerService(), tracker("宝宝出生要带哪些材料", "ask_materials"))
    assert slot(events, "needs_situation") is True
    assert slot(events, "current_service") == "newborn-birth"


def test_form_asks_then_checklist_shows_only_what_applies(live: LiveSearch) -> None:
    slots = {"current_service": "newborn-birth", "situations": {}, "requested_part": "materials"}
    _, asked = run(ActionAskSituationAnswer(), tracker("", "ask_materials", slots))
    assert asked[0]["text"] == "（1/2）宝宝的父母是否已经登记结婚？"  # numbered: how many are left
    assert [b["title"] for b in asked[0]["buttons"]][-1] == "不确定"
    form = ValidateSituationForm()
    out = form.validate_situation_answer("是", CollectingDispatcher(), tracker("是", "affirm", slots), {})
    assert out["situation_answer"] is None and out["situations"] == {"parents_married": "yes"}
    slots["situations"] = {"parents_married": "yes", "parent_in_other_city": "no"}
    _, shown = run(ActionShowChecklist(), tracker("否", "deny", slots))
    card = next(m["custom"] for m in shown if m.get("custom"))
    names = [i["name"] for s in card["sections"] if s["key"] == "materials" for i in s["items"]]
    assert "结婚证" in names and "非婚生育说明或亲子鉴定证明" not in names
    assert not any("同意入户" in n for n in names)


def test_ambiguous_question_asks_to_clarify(live: LiveSearch) -> None:
    _, messages = run(ActionAnswerService(), tracker("身份证", "ask_service"))
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert any("补领" in t for t in titles) and any("换领" in t for t in titles)


def test_abstains_and_offers_a_human(live: LiveSearch) -> None:
    events, messages = run(ActionAnswerService(), tracker("帮我写一首关于月亮的诗", "ask_service"))
    assert "不敢乱说" in messages[0]["text"]
    assert messages[0]["buttons"][-1]["payload"] == "/request_human"
    assert slot(events, "misses") == 1.0


def agent_on_duty(settings: Settings) -> None:
    accounts = AccountStore(session_factory(settings.database_url))
    accounts.touch(accounts.create("agent-on-duty", "password-123", "agent").id)  # the console polls


def test_second_miss_hands_off(live: LiveSearch, settings: Settings) -> None:
    agent_on_duty(settings)
    events, _messages = run(ActionAbstain(), tracker("随便说说", "out_of_scope", {"misses": 1.0}))
    assert any(e.get("event") == "pause" for e in events)
    with session_factory(settings.database_url)() as s:
        ticket = s.query(HandoffRow).one()
    assert ticket.reason == "not_understood"


def test_the_bureau_sets_how_many_misses_lead_to_a_person(
    live: LiveSearch, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent_on_duty(settings)
    patient = settings.model_copy(update={"misses_before_handoff": 3})
    monkeypatch.setattr("actions.abstain.get_settings", lambda: patient)
    events, messages = run(ActionAbstain(), tracker("随便说说", "out_of_scope", {"misses": 1.0}))
    assert not any(e.get("event") == "pause" for e in events) and slot(events, "misses") == 2.0
    assert "不敢乱说" in messages[0]["text"]
    events, _ = run(ActionAbstain(), tracker("随便说说", "out_of_scope", {"misses": 2.0}))
    assert any(e.get("event") == "pause" for e in events)


def test_handoff_ticket_carries_context_masked(live: LiveSearch, settings: Settings) -> None:
    agent_on_duty(settings)
    t = tracker(
        "我要投诉，电话13812345678",
        "complain",
        {"current_service": "passport", "candidates": [{"id": "passport"}]},
    )
    events, messages = run(ActionHandoff(), t)
    assert any(e.get("event") == "pause" for e in events)
    assert messages[-1]["custom"]["type"] == "handoff"
    with session_factory(settings.database_url)() as s:
        ticket = s.query(HandoffRow).one()
    assert ticket.reason == "complaint" and ticket.current_service == "passport"
    assert ticket.candidates == [{"id": "passport"}]
    assert "13812345678" not in str(ticket.transcript) and "138****5678" in str(ticket.transcript)


def test_handoff_transcript_masks_the_citizen_not_the_bureaus_numbers() -> None:
    t = tracker("我的电话是０７３０－８８８８６６６", "inform")
    t.events[:0] = [
        {"event": "user", "text": "邮箱 zhang.san@example.com 身份证430602199001011234"},
        {"event": "bot", "text": "请拨打0730-8888666或12345咨询。"},
    ]
    lines = transcript(t)
    assert lines[1] == {"role": "bot", "text": "请拨打0730-8888666或12345咨询。"}  # shown as published
    typed = " ".join(line["text"] for line in lines if line["role"] == "user")
    assert "zhang.san@example.com" not in typed and "430602199001011234" not in typed
    assert "8888666" not in typed and "８８８８６６６" not in typed


def test_handoff_waits_for_an_agent_whose_console_is_open(live: LiveSearch, settings: Settings) -> None:
    agent_on_duty(settings)
    _, messages = run(ActionHandoff(), tracker("转人工", "request_human"))
    assert "正在为您转接" in messages[0]["text"]
    assert messages[-1]["custom"]["status"] == "waiting"
    with session_factory(settings.database_url)() as s:
        assert s.query(HandoffRow).one().status == TicketStatus.WAITING


def test_handoff_takes_a_message_when_no_agent_is_online(live: LiveSearch, settings: Settings) -> None:
    accounts = AccountStore(session_factory(settings.database_url))
    accounts.create("agent-at-lunch", "password-123", "agent")  # has an account, console closed
    accounts.touch(accounts.create("editor-busy", "password-123", "editor").id)  # editors do not count
    events, messages = run(ActionHandoff(), tracker("转人工", "request_human"))
    assert not any(e.get("event") == "pause" for e in events)  # nobody will take over: keep answering
    assert "现在人工客服都不在线" in messages[0]["text"] and "12345" in messages[0]["text"]
    assert "继续问我" in messages[0]["text"]
    assert messages[-1]["custom"]["status"] == "offline" and messages[-1]["custom"]["leave_message"] is True
    with session_factory(settings.database_url)() as s:
        assert s.query(HandoffRow).one().status == TicketStatus.OFFLINE


def test_not_this_offers_the_other_candidates(live: LiveSearch) -> None:
    slots = {
        "current_service": "id-card",
        "candidates": [{"id": "id-card", "title": "换领"}, {"id": "id-card-reissue", "title": "补领"}],
    }
    _, messages = run(ActionNextCandidates(), tracker("不是这个", "not_this", slots))
    assert [b["title"] for b in messages[0]["buttons"]] == ["补领", "转人工"]


def test_only_the_answering_worker_warms_up() -> None:
    from actions.runtime import should_warm

    assert should_warm({"BANSHI_WARM": "1", "SANIC_WORKER_NAME": "Sanic-Server-0-0"})
    assert not should_warm({"BANSHI_WARM": "1"})  # Sanic's manager process
    assert not should_warm({"SANIC_WORKER_NAME": "Sanic-Server-0-0"})


@pytest.mark.parametrize(
    ("text", "person"),
    [
        ("还是帮我转个人工吧", True),
        ("转一下人工", True),
        ("能不能找个人工", True),
        ("要人工客服", True),
        ("我要投诉", True),
        ("人工智能企业有什么补贴", False),
        ("转移户口怎么办", False),
    ],
)
def test_words_that_ask_for_a_person_whatever_the_intent(text: str, person: bool) -> None:
    assert grounding.asks_for_person(text) is person


def _unsure(text: str, intent: str, confidence: float) -> Tracker:
    t = tracker(text, intent)
    t.latest_message["intent"]["confidence"] = confidence
    return t


def test_a_service_question_heard_as_a_complaint_is_answered(live: LiveSearch, settings: Settings) -> None:
    agent_on_duty(settings)
    question = "公司去年被列入经营异常了，现在补报完了，想移出来，信用修复要提交什么"
    events, messages = run(ActionHandoff(), _unsure(question, "complain", 0.61))
    assert [e["name"] for e in events if e.get("event") == "followup"] == ["action_answer_service"]
    assert messages == []
    with session_factory(settings.database_url)() as s:
        assert s.query(HandoffRow).count() == 0


@pytest.mark.parametrize(
    ("text", "confidence"),
    [
        ("窗口工作人员态度太差了，信用修复要提交什么", 0.61),  # complaint words
        (
            "公司去年被列入经营异常了，现在补报完了，想移出来，信用修复要提交什么",
            0.95,
        ),  # the classifier is sure
        ("房东不退押金，我该怎么办", 0.61),  # no service answers it
    ],
)
def test_complaints_still_reach_a_person(
    live: LiveSearch, settings: Settings, text: str, confidence: float
) -> None:
    agent_on_duty(settings)
    events, messages = run(ActionHandoff(), _unsure(text, "complain", confidence))
    assert not [e for e in events if e.get("event") == "followup"]
    assert messages[-1]["custom"]["type"] == "handoff"
