"""The generic situation form (情形化): asks an entry's situation questions, one at a time.

Nothing here is per service: the questions, options and which materials they decide all come from
the entry named by the ``current_service`` slot.

Every message typed while a question is pending reaches ``validate_situation_form``. It is read like
a patient person at the window would read it, in this order:

0. 转人工 or a complaint → a person (the form ends, ``action_show_checklist`` hands off);

1. a button, or an unmistakable typed answer (是的 / 不是 / 不确定 / 第二个 / an option's label);
2. 算了 / 不办了 / 再见 … → leave the questions politely;
3. a question about another service → answer that service (with its own questions when it has them);
4. a question about this service (要多久、在哪里办 …) → answer that part, then ask again; answers kept;
5. an answer in other words (我自己去 → not delegated; 租的房子 → 租房);
6. otherwise it is not understood; the second time in a row the full checklist is shown with the
   undecided materials labelled by the situation they depend on, and a person is offered.

The form ends with ``situation_exit`` saying how: ``done`` (all answered), ``cancel``, ``switch``
(another service was answered), ``giveup`` or ``handoff`` (转人工 or a complaint, read by intent *and*
words); ``action_show_checklist`` then says what fits.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import grounding
from actions.answer_service import present
from actions.handoff import REASON_BY_INTENT, hand_off
from actions.next_candidates import offer_other_candidates
from handoff.status import HandoffReason
from knowledge.checklist import UNSURE, open_situations
from knowledge.models import Entry, Situation
from knowledge.situation_match import bare, is_cancel, is_question, match_option, option_label

NOT_THIS = re.compile(r"^不是这个|不是我要(问|办|找)|问的不是|搞错了|弄错了|不是问这个|答非所问")
MISSES_BEFORE_FULL_LIST = 2
SMALLTALK = {
    "greet": "您好！",
    "thank": "不客气。",
    "bot_challenge": "我是办事e点通智能助手，不是真人；需要人工随时说“转人工”。",
}
SERVICE_INTENTS = {
    "ask_service", "ask_materials", "ask_conditions", "ask_steps", "ask_time_limit", "ask_fee",
    "ask_location", "ask_phone", "ask_online", "ask_legal_basis", "nlu_fallback", "choose_service",
}  # fmt: skip


def _pending(tracker: Tracker) -> tuple[Entry | None, dict[str, str], Situation | None]:
    e = grounding.entry(tracker.get_slot("current_service"))
    answers = dict(tracker.get_slot("situations") or {})
    if e is None:
        return None, answers, None
    ids = open_situations(e, answers)
    situation = next((s for s in e.situations if ids and s.id == ids[0]), None)
    return e, answers, situation


def interpret(situation: Situation, text: str, option: str | None) -> str | None:
    """Map a button payload or an unmistakable typed reply onto one of the situation's options."""
    values = {o.value for o in situation.options}
    if option in values or option == UNSURE:
        return option
    return match_option(situation, text, strong=True)


def option_buttons(situation: Situation) -> list[dict[str, str]]:
    buttons = [
        {"title": o.label, "payload": f'/choose_option{{"option":"{o.value}"}}'} for o in situation.options
    ]
    buttons.append({"title": "不确定", "payload": f'/choose_option{{"option":"{UNSURE}"}}'})
    return buttons


class ActionAskSituationAnswer(Action):
    def name(self) -> str:
        return "action_ask_situation_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        e, answers, situation = _pending(tracker)
        if e is None or situation is None:
            return []
        total = len([s for s in e.situations if s.id in answers]) + len(open_situations(e, answers))
        n = total - len(open_situations(e, answers)) + 1
        prefix = f"（{n}/{total}）" if total > 1 else ""
        dispatcher.utter_message(text=prefix + situation.question, buttons=option_buttons(situation))
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
        if tracker.get_slot("situation_exit"):
            return []
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
            return {"situation_answer": "done", "situation_exit": "done"}
        intent, confidence = grounding.intent_of(tracker)
        option = next(tracker.get_latest_entity_values("option"), None)
        text = grounding.user_text(tracker) or ("" if option else str(slot_value or ""))

        if wants_person(text, intent, confidence):
            return {"situation_answer": "handoff", "situation_exit": "handoff"}
        if is_cancel(text):
            return _cancel(dispatcher, "cancel")
        if NOT_THIS.search(bare(text)) or (intent == "not_this" and confidence >= 0.9):
            offer_other_candidates(dispatcher, tracker)
            return {"situation_answer": "switch", "situation_exit": "switch"}
        value = interpret(situation, text, option)
        if value is not None:
            return _accept(dispatcher, e, answers, situation, value, typed=option is None)
        # a service button clicked mid-way (a typed 公积金没交过 may carry an entry_id entity: an answer)
        chosen = (
            None if grounding.user_text(tracker) else next(tracker.get_latest_entity_values("entry_id"), None)
        )
        if chosen and grounding.entry(chosen) is not None:
            return _switch(dispatcher, tracker, grounding.entry(chosen), None)  # type: ignore[arg-type]

        asks = is_question(text)
        weak = match_option(situation, text) if text else None
        if weak is not None and not asks:  # an answer in other words (我自己去, 租的房子)
            return _accept(dispatcher, e, answers, situation, weak, typed=True)
        if intent in ("cancel", "goodbye") and confidence >= 0.8 and len(text) <= 10:
            return _cancel(dispatcher, intent)
        if intent in SMALLTALK and confidence >= 0.8 and not asks:
            dispatcher.utter_message(text=SMALLTALK[intent] + "我们接着看刚才的问题：")
            return {"situation_answer": None}

        result = grounding.search(text) if text else None
        other = grounding.other_service(text, result, e.id) if result else None
        if other and not grounding.names_entry(text, other):
            other = None  # a question that names no other service is about this one (要跑几个地方)
        part = _aspect(tracker, text, intent) if asks or intent in grounding.PARTS_BY_INTENT else None
        if part == "overview" and not (result and result.candidates and result.candidates[0].id == e.id):
            part = None  # a question about something this service's guide does not cover
        if part not in (None, "overview") and grounding.names_nothing_but_aspect(text):
            return _aspect_answer(dispatcher, e, answers, part)  # type: ignore[arg-type]
        if other:
            return _switch(dispatcher, tracker, grounding.entry(other), result)  # type: ignore[arg-type]
        if part is not None:
            return _aspect_answer(dispatcher, e, answers, part)
        if weak is not None:
            return _accept(dispatcher, e, answers, situation, weak, typed=True)
        return _miss(dispatcher, tracker, e, answers, situation, intent)


HUMAN_CUES = re.compile(r"人工|真人|客服|接线员|工作人员|找人|坐席")
COMPLAINT_CUES = re.compile(
    r"投诉|举报|差评|太差|不满意|态度|什么破|垃圾|气死|跑了.{0,3}趟|办不成|没办成|推诿|踢皮球|太麻烦|找领导|曝光|乱收费"
)


def wants_person(text: str, intent: str, confidence: float) -> bool:
    """转人工 or a complaint, read by its words: a typed answer (让财务帮我办) can look like either."""
    if intent in ("request_human", "complain") and text == "" and confidence >= 0.95:
        return True  # the 转人工 button's payload
    if intent == "request_human" and HUMAN_CUES.search(text):
        return True
    if intent == "complain" and (COMPLAINT_CUES.search(text) or (confidence >= 0.9 and len(text) > 12)):
        return True
    return grounding.asks_for_person(text)


def _cancel(dispatcher: CollectingDispatcher, intent: str) -> dict[str, Any]:
    if intent == "goodbye":
        dispatcher.utter_message(text="好的，祝您办事顺利，再见！有需要随时再来问办事e点通。")
    else:
        dispatcher.utter_message(text="好的，不问了。需要时随时再问我，也可以说“转人工”或拨打12345热线。")
    return {"situation_answer": "cancel", "situation_exit": "cancel"}


def _aspect(tracker: Tracker, text: str, intent: str) -> str | None:
    if intent in grounding.PARTS_BY_INTENT and intent != "ask_service":
        parts = grounding.PARTS_BY_INTENT[intent]
        if parts:
            return parts[0]
    part = grounding.cue_part(text)
    if part:
        return part
    return "overview" if intent == "ask_service" else None


def _accept(
    dispatcher: CollectingDispatcher,
    e: Entry,
    answers: dict[str, str],
    situation: Situation,
    value: str,
    typed: bool,
) -> dict[str, Any]:
    answers[situation.id] = value
    if typed:  # say what was understood, so a wrong reading can be corrected
        dispatcher.utter_message(text=f"好的，记下了：{option_label(situation, value)}。")
    done = not open_situations(e, answers)
    return {
        "situation_answer": value if done else None,
        "situations": answers,
        "situation_misses": 0.0,
        "situation_exit": "done" if done else None,
    }


def _switch(dispatcher: CollectingDispatcher, tracker: Tracker, new: Entry, result: Any) -> dict[str, Any]:
    """Leave this service's questions for the service the citizen now asks about."""
    parts = grounding.requested_parts(tracker)
    needs = present(dispatcher, new, parts, {})
    slots: dict[str, Any] = {
        "current_service": new.id,
        "situations": {},
        "situation_misses": 0.0,
        "requested_part": ",".join(parts) if parts else None,
        "misses": 0.0,
    }
    if result is not None:
        slots["candidates"] = grounding.candidates_slot(result)
    if needs:
        return {**slots, "situation_answer": None, "situation_exit": None}
    return {**slots, "situation_answer": "switch", "situation_exit": "switch", "needs_situation": False}


def _aspect_answer(
    dispatcher: CollectingDispatcher, e: Entry, answers: dict[str, str], part: str
) -> dict[str, Any]:
    """Answer one part of the current service, keep the answers, and go on with the questions."""
    if part == "materials":
        dispatcher.utter_message(
            text="目前能确定的材料如下；标〔如属…〕的要看您的情况，回答下面的问题就能定下来："
        )
        grounding.send_card(dispatcher, e, ["materials"], answers)
    elif part == "overview":
        grounding.send_card(dispatcher, e, grounding.OVERVIEW, answers)
    else:
        grounding.send_card(dispatcher, e, [part], answers)
    dispatcher.utter_message(text="我们接着刚才的问题（回答完我把材料清单一次列全）：")
    return {"situation_answer": None, "situation_misses": 0.0}


def _miss(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    e: Entry,
    answers: dict[str, str],
    situation: Situation,
    intent: str,
) -> dict[str, Any]:
    misses = int(tracker.get_slot("situation_misses") or 0) + 1
    if misses >= MISSES_BEFORE_FULL_LIST:
        return {"situation_answer": "giveup", "situation_exit": "giveup", "situation_misses": 0.0}
    if intent == "out_of_scope":
        dispatcher.utter_message(text="这个问题不在我能回答的办事范围内。")
    yes_no = {o.value for o in situation.options} == {"yes", "no"}
    hint = "“是”或“不是”" if yes_no else "下面的选项（打字说选项名或“第几个”也行）"
    dispatcher.utter_message(
        text=f"抱歉，没听明白您的回答。您可以直接回答{hint}，不清楚就说“不确定”；"
        "想问别的事也可以直接问，或者说“算了”。"
    )
    return {"situation_answer": None, "situation_misses": float(misses)}


class ActionShowChecklist(Action):
    """After the form: what fits the way it ended (a tailored checklist, the full one, or nothing)."""

    def name(self) -> str:
        return "action_show_checklist"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        how = tracker.get_slot("situation_exit") or "done"
        events: list[EventType] = [
            SlotSet("needs_situation", False),
            SlotSet("situation_answer", None),
            SlotSet("situation_exit", None),
            SlotSet("situation_misses", 0.0),
        ]
        if how in ("cancel", "switch"):
            return events
        if how == "handoff":  # 转人工 or a complaint in the middle of the questions
            intent, _ = grounding.intent_of(tracker)
            reason = REASON_BY_INTENT.get(intent, HandoffReason.EXPLICIT)
            return [*events, *hand_off(dispatcher, tracker, reason)]
        e = grounding.entry(tracker.get_slot("current_service"))
        if e is None:
            dispatcher.utter_message(text="抱歉，这个事项的办事攻略刚刚更新了，请再问一次。")
            return events
        answers = dict(tracker.get_slot("situations") or {})
        if how == "giveup":
            for sid in open_situations(e, answers):
                answers[sid] = UNSURE
            dispatcher.utter_message(
                text="我先不问了，把完整的材料清单列给您：标〔如属…〕的材料看您的情况准备。"
                "拿不准的可以转人工，或拨打12345热线确认。",
                buttons=[grounding.human_button()],
            )
            grounding.send_card(dispatcher, e, grounding.MATERIALS_FIRST, answers)
            return [*events, SlotSet("situations", answers)]
        dispatcher.utter_message(text="根据您的情况，需要准备的材料如下：")
        grounding.send_card(dispatcher, e, grounding.MATERIALS_FIRST, answers)
        return events
