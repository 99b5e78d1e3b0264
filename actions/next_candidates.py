"""action_next_candidates: "不是这个" — offer the next candidates as buttons."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import grounding


def offer_other_candidates(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Buttons for the other services the last search found (the current one excluded)."""
    current = tracker.get_slot("current_service")
    candidates = [c for c in tracker.get_slot("candidates") or [] if c.get("id") != current]
    buttons = [
        {"title": c["title"], "payload": f'/choose_service{{"entry_id":"{c["id"]}"}}'} for c in candidates[:3]
    ]
    if buttons:
        dispatcher.utter_message(
            text="抱歉没找准。您要问的是下面哪一项？都不是的话可以换个说法，或转人工。",
            buttons=[*buttons, grounding.human_button()],
        )
    else:
        dispatcher.utter_message(
            text="抱歉没找准。请换个说法描述您要办的事，或者转人工。",
            buttons=[grounding.human_button()],
        )


class ActionNextCandidates(Action):
    def name(self) -> str:
        return "action_next_candidates"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        offer_other_candidates(dispatcher, tracker)
        return []
