"""action_abstain: say honestly that the assistant does not know, offer close matters and a human."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import grounding
from actions.handoff import hand_off
from core.settings import get_settings
from handoff.status import HandoffReason
from retrieval.engine import SearchResult


def abstain(
    dispatcher: CollectingDispatcher, tracker: Tracker, result: SearchResult | None
) -> list[EventType]:
    """The not-understood turn; the second in a row hands the conversation to a human."""
    settings = get_settings()
    misses = int(tracker.get_slot("misses") or 0) + 1
    grounding.record_gap(tracker, "abstained", result)
    if misses >= settings.misses_before_handoff:
        dispatcher.utter_message(text="抱歉，我还是没能理解您的问题。")
        return hand_off(dispatcher, tracker, HandoffReason.NOT_UNDERSTOOD)
    close = [c for c in (result.candidates if result else []) if c.score >= settings.close_enough]
    hotline = settings.hotline
    if close and result is not None:
        dispatcher.utter_message(
            text="抱歉，这个问题我在办事攻略里没有找到确切的答案，不敢乱说。您是不是想问下面这些事项？"
            f"也可以转人工，或拨打{hotline}热线。",
            buttons=[*grounding.service_buttons(result), grounding.human_button()],
        )
    else:
        dispatcher.utter_message(
            text="抱歉，这个问题我在办事攻略里没有找到答案，不敢乱说。"
            f"您可以换个说法，或者转人工，也可以拨打{hotline}热线。",
            buttons=[grounding.human_button()],
        )
    return [SlotSet("misses", float(misses)), SlotSet("needs_situation", False)]


class ActionAbstain(Action):
    def name(self) -> str:
        return "action_abstain"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The NLU's out-of-scope guess is checked against the guides first: a question the engine can
        answer confidently (公基金怎么提取, a pinyin typo) is answered; the rest gets the honest no."""
        from actions.answer_service import answer  # the service answer uses abstain() in turn

        text = grounding.user_text(tracker)
        result = grounding.search(text) if text else None
        if result is not None and result.answerable and not result.ambiguous and result.candidates:
            e = grounding.entry(result.candidates[0].id)
            if e is not None:  # answered as any service question: its situation questions first
                part = grounding.cue_part(grounding.focus_question(text))
                events = answer(dispatcher, tracker, e, [part] if part else None)
                events.append(SlotSet("candidates", grounding.candidates_slot(result)))
                if any(ev.get("name") == "needs_situation" and ev.get("value") for ev in events):
                    events.append(FollowupAction("situation_form"))  # the form asks from here on
                return events
        return abstain(dispatcher, tracker, result)
