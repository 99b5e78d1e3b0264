"""The generic situation form (情形化): asks an entry's situation questions, one at a time.

Nothing here is per service: the questions, options and which materials they decide all come from
the entry named by the ``current_service`` slot.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import grounding
from knowledge.checklist import UNSURE, open_situations
from knowledge.models import Entry, Situation

UNSURE_WORDS = ("不确定", "不知道", "不清楚", "说不好", "不太清楚", "跳过")
YES_WORDS = ("是", "对", "有", "已", "嗯", "要", "需要", "好")
NO_WORDS = ("否", "不是", "没有", "没", "无", "不", "未")


def _pending(tracker: Tracker) -> tuple[Entry | None, dict[str, str], Situation | None]:
    e = grounding.entry(tracker.get_slot("current_service"))
    answers = dict(tracker.get_slot("situations") or {})
    if e is None:
        return None, answers, None
    ids = open_situations(e, answers)
    situation = next((s for s in e.situations if ids and s.id == ids[0]), None)
    return e, answers, situation


def interpret(situation: Situation, text: str, option: str | None) -> str | None:
    """Map a button payload or a typed reply onto one of the situation's option values."""
    values = {o.value for o in situation.options}
    if option in values or option == UNSURE:
        return option
    text = text.strip()
    if any(w in text for w in UNSURE_WORDS):
        return UNSURE
    for o in situation.options:  # a typed label ("随母亲") or value
        if o.label in text or o.value == text:
            return o.value
    if values == {"yes", "no"}:
        if any(text.startswith(w) for w in NO_WORDS):
            return "no"
        if any(text.startswith(w) for w in YES_WORDS):
            return "yes"
    return None


class ActionAskSituationAnswer(Action):
    def name(self) -> str:
        return "action_ask_situation_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        _, _, situation = _pending(tracker)
        if situation is None:
            return []
        buttons = [
            {"title": o.label, "payload": f'/choose_option{{"option":"{o.value}"}}'}
            for o in situation.options
        ]
        buttons.append({"title": "不确定", "payload": f'/choose_option{{"option":"{UNSURE}"}}'})
        dispatcher.utter_message(text=situation.question, buttons=buttons)
        return []


class ValidateSituationForm(FormValidationAction):
    def name(self) -> str:
        return "validate_situation_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        _, _, situation = _pending(tracker)
        return domain_slots if situation is not None else []

    def validate_situation_answer(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        e, answers, situation = _pending(tracker)
        if e is None or situation is None:
            return {"situation_answer": "done"}
        option = next(tracker.get_latest_entity_values("option"), None)
        value = interpret(situation, str(slot_value or ""), option)
        if value is None:
            dispatcher.utter_message(text="没听明白，请点选下面的选项，或回答“不确定”。")
            return {"situation_answer": None}
        answers[situation.id] = value
        done = not open_situations(e, answers)
        return {"situation_answer": value if done else None, "situations": answers}


class ActionShowChecklist(Action):
    """After the form: the full 一次性告知 with exactly the materials that apply."""

    def name(self) -> str:
        return "action_show_checklist"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        e = grounding.entry(tracker.get_slot("current_service"))
        events: list[EventType] = [SlotSet("needs_situation", False), SlotSet("situation_answer", None)]
        if e is None:
            dispatcher.utter_message(text="抱歉，这个事项的办事攻略刚刚更新了，请再问一次。")
            return events
        answers = tracker.get_slot("situations") or {}
        parts = grounding.requested_parts(tracker)
        dispatcher.utter_message(text="根据您的情况，需要准备的材料如下：")
        grounding.send_card(dispatcher, e, parts if parts and parts != ["materials"] else None, answers)
        return events
