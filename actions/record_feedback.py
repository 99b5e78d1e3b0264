"""action_record_feedback: keep a 有用 / 没用 said in words as feedback on the last answer."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import grounding
from actions.runtime import sessions
from knowledge.feedback import rate_answer


class ActionRecordFeedback(Action):
    def name(self) -> str:
        return "action_record_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        positive = intent == "feedback_positive"
        current = tracker.get_slot("current_service")
        with sessions().begin() as s:
            rate_answer(s, sender_id=tracker.sender_id, entry_id=current, useful=positive)
        if not positive:
            grounding.record_gap(tracker, "unhelpful")
        return []
