"""The situation questions as a citizen types them: answers, new questions, aspects, cancel, no dead end.

Each test runs the real form validator over a real tracker and the real engine on the seed entries.
"""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import grounding
from actions.abstain import ActionAbstain
from actions.answer_service import ActionAnswerService
from actions.situation_form import ActionShowChecklist, ValidateSituationForm
from retrieval.live import LiveSearch
from tests.action_support import run, slot, tracker

OPENING = {"current_service": "enterprise-opening", "situations": {}, "requested_part": "materials"}


def reply(text: str, intent: str, slots: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    out = ValidateSituationForm().validate_situation_answer(
        text, dispatcher, tracker(text, intent, slots), {}
    )
    return out, dispatcher.messages


def cards(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["custom"] for m in messages if m.get("custom", {}).get("type") == "card"]


@pytest.mark.parametrize(
    ("text", "intent", "value"),
    [
        ("不是，我自己去办", "deny", "no"),
        ("我自己去", "inform", "no"),
        ("是的", "affirm", "yes"),
        ("嗯", "affirm", "yes"),
        ("让会计帮我跑", "ask_service", "yes"),
        ("第二个", "choose_option", "no"),
        ("不清楚", "unsure", "unsure"),
    ],
)
def test_typed_answers_are_taken(live: LiveSearch, text: str, intent: str, value: str) -> None:
    out, messages = reply(text, intent, OPENING)
    assert out["situations"] == {"by_agent": value}
    assert out["situation_answer"] is None and out["situation_exit"] is None  # one more question
    assert "记下了" in messages[0]["text"]


@pytest.mark.parametrize("text", ["要多久", "有咨询电话吗", "在哪里办", "要钱吗", "网上能办吗"])
def test_aspect_questions_are_answered_not_taken_as_answers(live: LiveSearch, text: str) -> None:
    out, messages = reply(text, "ask_service", OPENING)
    assert "situations" not in out and out["situation_answer"] is None  # still asking, nothing recorded
    (card,) = cards(messages)
    assert card["entry_id"] == "enterprise-opening"
    assert "materials" not in card["parts"]
    assert "接着刚才的问题" in messages[-1]["text"]
    assert not any("根据您的情况" in (m.get("text") or "") for m in messages)


def test_aspect_question_keeps_the_answers_given(live: LiveSearch) -> None:
    slots = {**OPENING, "situations": {"by_agent": "yes"}}
    out, _ = reply("大概要几天能办好", "ask_time_limit", slots)
    assert "situations" not in out  # the slot is left as it was: by_agent stays answered


def test_new_service_question_leaves_the_form_for_that_service(live: LiveSearch) -> None:
    out, messages = reply("老人去世了要办哪些手续", "ask_service", OPENING)
    assert out["current_service"] == "after-death" and out["situations"] == {}
    assert out["situation_exit"] is None and out["situation_answer"] is None  # its own questions follow
    assert "「个人身后一件事」" in messages[0]["text"] or "身后" in messages[0]["text"]


def test_new_service_without_questions_is_answered_and_the_form_ends(live: LiveSearch) -> None:
    out, messages = reply("12345热线是干什么的", "ask_service", OPENING)
    assert out["situation_exit"] == "switch" and out["current_service"] != "enterprise-opening"
    assert cards(messages)


@pytest.mark.parametrize("text", ["算了", "不办了", "取消", "不用了", "先这样吧", "不问了"])
def test_cancel_leaves_politely(live: LiveSearch, text: str) -> None:
    out, messages = reply(text, "cancel", OPENING)
    assert out["situation_exit"] == "cancel"
    assert "不问了" in messages[0]["text"]


def test_two_unmatched_replies_end_in_the_full_checklist(live: LiveSearch) -> None:
    out, messages = reply("阿巴阿巴", "nlu_fallback", OPENING)
    assert out["situation_misses"] == 1.0 and out["situation_answer"] is None
    assert "没听明白" in messages[-1]["text"]
    out, _ = reply("呜啦啦", "nlu_fallback", {**OPENING, "situation_misses": 1.0})
    assert out["situation_exit"] == "giveup"
    _, shown = run(
        ActionShowChecklist(), tracker("呜啦啦", "nlu_fallback", {**OPENING, "situation_exit": "giveup"})
    )
    assert shown[0]["buttons"][-1]["payload"] == "/request_human"
    (card,) = cards(shown)
    items = [i for s in card["sections"] if s["key"] == "materials" for i in s["items"]]
    assert card["parts"][0] == "materials"
    assert any(i["conditional"] and i["condition"] for i in items)  # labelled by their situation


def test_button_payload_still_works(live: LiveSearch) -> None:
    t = tracker(
        '/choose_option{"option":"no"}', "choose_option", OPENING, [{"entity": "option", "value": "no"}]
    )
    out = ValidateSituationForm().validate_situation_answer(None, CollectingDispatcher(), t, {})
    assert out["situations"] == {"by_agent": "no"}


def test_last_answer_completes_with_materials_first(live: LiveSearch) -> None:
    slots = {**OPENING, "situations": {"by_agent": "no"}}
    out, _ = reply("没有员工", "deny", slots)
    assert out["situation_exit"] == "done" and out["situations"] == {"by_agent": "no", "has_employees": "no"}
    _, shown = run(ActionShowChecklist(), tracker("没有员工", "deny", {**slots, **out}))
    (card,) = cards(shown)
    assert card["sections"][0]["key"] == "materials"
    names = [i["name"] for i in card["sections"][0]["items"]]
    assert not any("授权委托书" in n for n in names)


def test_long_message_is_read_by_its_question(live: LiveSearch) -> None:
    text = "你好，我老家是平江的，现在在岳阳楼区上班，去年结的婚，现在孩子出生了，想问下给孩子上户口要准备哪些东西"
    assert grounding.focus_question(text).endswith("给孩子上户口要准备哪些东西")
    events, messages = run(ActionAnswerService(), tracker(text, "ask_service"))
    assert slot(events, "current_service") == "newborn-birth"
    assert slot(events, "requested_part") == "materials"  # a materials question: the questions first
    assert slot(events, "needs_situation") is True and not cards(messages)


@pytest.mark.parametrize("intent", ["ask_service", "ask_location", "ask_steps"])
def test_eligibility_question_leads_with_the_conditions(live: LiveSearch, intent: str) -> None:
    """The trained NLU hears ask_location in 刚来岳阳上班能住人才公寓吗: the question's words win."""
    _, messages = run(ActionAnswerService(), tracker("刚来岳阳上班能住人才公寓吗", intent))
    (card,) = cards(messages)
    assert card["entry_id"] == "talent-apartment" and card["parts"] == ["conditions"]
    assert card["focus"] == ["conditions"]


@pytest.mark.parametrize("intent", ["ask_conditions", "ask_steps", "ask_service"])
def test_what_do_i_need_asks_for_materials_whatever_part_the_nlu_heard(live: LiveSearch, intent: str) -> None:
    events, messages = run(ActionAnswerService(), tracker("低保怎么申请 需要什么", intent))
    assert slot(events, "current_service") == "minimum-living-allowance"
    assert slot(events, "requested_part") == "materials"
    assert slot(events, "needs_situation") is True and not cards(messages)  # the questions first


def test_a_part_named_in_the_question_keeps_the_intents_part(live: LiveSearch) -> None:
    _, messages = run(ActionAnswerService(), tracker("能住人才公寓的话在哪里申请", "ask_location"))
    (card,) = cards(messages)
    assert card["parts"] == ["location"]


def test_words_that_ask_for_a_person_hand_off_whatever_the_intent(live: LiveSearch) -> None:
    out, _ = reply("我还是想找个真人问问", "ask_service", OPENING)
    assert out["situation_exit"] == "handoff"
    out, _ = reply("让财务帮我办", "request_human", OPENING)  # an answer the NLU took for 转人工
    assert out["situations"] == {"by_agent": "yes"} and out["situation_exit"] is None


def test_an_out_of_scope_guess_the_engine_can_answer_is_answered(live: LiveSearch) -> None:
    events, messages = run(ActionAbstain(), tracker("公基金怎么提取", "out_of_scope"))
    assert slot(events, "current_service") == "housing-fund-withdrawal"
    # answered as any service question: the situation questions first (the form follows)
    assert not cards(messages) and "住房公积金提取" in messages[0]["text"]
    assert slot(events, "needs_situation") is True
    assert any(e.get("event") == "followup" and e.get("name") == "situation_form" for e in events)
    events, messages = run(ActionAbstain(), tracker("公基金提取要多久", "out_of_scope"))
    (card,) = cards(messages)  # an aspect question: that part of the guide, no questions
    assert card["entry_id"] == "housing-fund-withdrawal" and card["parts"] == ["time_limit"]
    assert not any(e.get("event") == "followup" for e in events)
    _, messages = run(ActionAbstain(), tracker("今天天气怎么样", "out_of_scope"))
    assert not cards(messages) and "不敢乱说" in messages[0]["text"]


def test_a_guide_asked_for_by_name_shows_the_guide_then_the_questions(live: LiveSearch) -> None:
    events, messages = run(ActionAnswerService(), tracker("企业开办一件事", "ask_service"))
    (card,) = cards(messages)
    assert card["entry_id"] == "enterprise-opening" and "materials" not in card["parts"]
    assert slot(events, "needs_situation") is True  # the questions follow for the materials
    _, messages = run(ActionAnswerService(), tracker("开公司要准备什么", "ask_materials"))
    assert not cards(messages)  # a "what do I need" question: the questions first


def test_a_typed_answer_naming_another_services_word_answers_the_question(live: LiveSearch) -> None:
    """公积金没交过 at 是否缴存了住房公积金…？ is an answer, not a question about 住房公积金提取 (with the
    engine's words in jieba, 住房公积金 is one word: the question's parts count too)."""
    slots = {
        "current_service": "retirement",
        "situations": {"employee_type": "flexible", "retire_type": "normal"},
    }
    out, _ = reply("公积金没交过", "inform", slots)
    assert out["situations"]["has_housing_fund"] == "no" and out["situation_exit"] == "done"
    assert "current_service" not in out
