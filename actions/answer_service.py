"""action_answer_service: find the service a question is about and answer from its entry only."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import grounding
from actions.abstain import abstain
from actions.handoff import hand_off
from handoff.status import HandoffReason
from knowledge.checklist import open_situations
from knowledge.models import Entry
from knowledge.situation_match import is_question


def present(
    dispatcher: CollectingDispatcher,
    e: Entry,
    parts: list[str] | None,
    answers: dict[str, str],
    overview_first: bool = False,
) -> bool:
    """Answer ``parts`` of ``e``; True when the materials depend on situation questions still to ask.

    A "what do I need" question is answered by asking the situation questions first (a short intro,
    no long card): one tailored checklist follows the answers. A guide asked for by its name alone
    (the 办事攻略 catalogue, a typed title) first shows the guide without its materials.
    """
    wants_materials = parts is None or "materials" in parts
    if wants_materials and open_situations(e, answers):
        if overview_first and parts is None:
            grounding.send_card(dispatcher, e, grounding.OVERVIEW, answers)
        n = len(open_situations(e, answers))
        dispatcher.utter_message(
            text=f"「{e.title}」要准备的材料因情况而不同。我先问您{n}个问题，就能列出您需要的全部材料"
            "（直接打字回答就行，不清楚可以说“不确定”，不想答了说“算了”）。"
        )
        return True
    grounding.send_card(dispatcher, e, parts, answers)
    return False


def answer(
    dispatcher: CollectingDispatcher, tracker: Tracker, e: Entry, parts: list[str] | None
) -> list[EventType]:
    """Answer ``parts`` of ``e``; a materials answer that depends on the situation starts the form."""
    answers: dict[str, str] = {}
    if tracker.get_slot("current_service") == e.id:
        answers = tracker.get_slot("situations") or {}
    text = grounding.user_text(tracker)
    named_only = bool(text) and not is_question(text) and grounding.names_entry(text, e.id)
    needs = present(dispatcher, e, parts, answers, overview_first=named_only)
    return [
        SlotSet("current_service", e.id),
        SlotSet("requested_part", ",".join(parts) if parts else None),
        SlotSet("misses", 0.0),
        SlotSet("situations", answers),
        SlotSet("situation_misses", 0.0),
        SlotSet("situation_exit", None),
        SlotSet("needs_situation", needs),
    ]


class ActionAnswerService(Action):
    def name(self) -> str:
        return "action_answer_service"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        parts = grounding.requested_parts(tracker)
        chosen = next(tracker.get_latest_entity_values("entry_id"), None)
        e = grounding.entry(chosen)
        if e is not None:
            return answer(dispatcher, tracker, e, parts)
        text = grounding.user_text(tracker)
        if grounding.asks_for_person(text):
            return hand_off(
                dispatcher,
                tracker,
                HandoffReason.COMPLAINT if "投诉" in text or "举报" in text else HandoffReason.EXPLICIT,
            )
        result = grounding.search(text)
        current = tracker.get_slot("current_service")
        if grounding.is_follow_up(text, result, current):
            e = grounding.entry(current)
            if e is not None:
                return answer(dispatcher, tracker, e, parts)
        candidates = SlotSet("candidates", grounding.candidates_slot(result))
        if not result.answerable:
            return [candidates, *abstain(dispatcher, tracker, result)]
        if result.ambiguous:
            dispatcher.utter_message(
                text="您想了解的是下面哪一项？",
                buttons=[*grounding.service_buttons(result), grounding.human_button()],
            )
            return [
                candidates,
                SlotSet("requested_part", ",".join(parts) if parts else None),
                SlotSet("needs_situation", False),
            ]
        e = grounding.entry(result.candidates[0].id)
        assert e is not None
        grounding.record_if_unsure(tracker, result)
        return [candidates, *answer(dispatcher, tracker, e, parts)]
