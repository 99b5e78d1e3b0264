"""action_handoff: hand the conversation to a human agent and pause the bot, or take a message.

When no agent can take over (outside hours, or no console open), the bot is *not* paused: the
citizen gets the 留言 form and 12345, and can go on asking the bot. A paused bot with nobody to take
over would leave every later message unanswered.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import grounding
from actions.runtime import sessions
from core.pii import mask_pii
from core.settings import get_settings
from handoff.presence import agent_availability, why_unavailable
from handoff.queue import HandoffQueue
from handoff.status import HandoffReason, TicketStatus

REASON_BY_INTENT = {
    "request_human": HandoffReason.EXPLICIT,
    "complain": HandoffReason.COMPLAINT,
    "feedback_negative": HandoffReason.NEGATIVE_FEEDBACK,
}
#: what the citizen is told before the transfer
REASON_TEXT = {
    HandoffReason.EXPLICIT: "您要求人工服务",
    HandoffReason.COMPLAINT: "您反映的问题需要人工处理",
    HandoffReason.NEGATIVE_FEEDBACK: "刚才的回答没能帮到您",
    HandoffReason.NOT_UNDERSTOOD: "我没能理解您的问题",
}


def transcript(tracker: Tracker, limit: int = 40) -> list[dict[str, str]]:
    """The conversation so far, oldest first: what the citizen typed masked; the assistant's lines, the
    bureau's own published text (hotlines, office numbers), as they were shown."""
    out = []
    for event in tracker.events:
        if event.get("event") == "user" and event.get("text"):
            out.append({"role": "user", "text": mask_pii(event["text"])})
        elif event.get("event") == "bot":
            text = event.get("text") or ((event.get("data") or {}).get("custom") or {}).get("title")
            if text:
                out.append({"role": "bot", "text": str(text)})
    return out[-limit:]


def hand_off(dispatcher: CollectingDispatcher, tracker: Tracker, reason: HandoffReason) -> list[EventType]:
    settings = get_settings()
    availability = agent_availability(settings, sessions())
    online = availability == "available"
    slots = {
        k: v for k, v in tracker.slots.items() if v not in (None, [], {}, "") and k not in ("requested_slot",)
    }
    ticket = HandoffQueue(sessions()).open(
        tracker.sender_id,
        reason,
        online=online,
        current_service=tracker.get_slot("current_service"),
        slots=slots,
        candidates=tracker.get_slot("candidates") or [],
        transcript=transcript(tracker),
    )
    grounding.record_gap(tracker, "handoff")  # what the citizen asked is a gap for editors
    payload: dict[str, Any] = {"type": "handoff", "ticket_id": ticket.id, "reason": reason}
    if online:
        dispatcher.utter_message(
            text=f"{REASON_TEXT.get(reason, '')}，正在为您转接12345人工客服，请稍候。"
            "客服接入后会在这里直接回复您。"
        )
        payload["status"] = TicketStatus.WAITING.value
    else:
        dispatcher.utter_message(
            text=f"{why_unavailable(availability, settings)}。您可以留下问题和回拨电话，工作人员会在下一个工作日内回电；"
            f"紧急事项请拨打{settings.hotline}热线（7×24小时）。其他办事问题，您也可以继续问我。"
        )
        payload["status"] = TicketStatus.OFFLINE.value
        payload["leave_message"] = True
    dispatcher.utter_message(json_message=payload)
    if not online:
        return [SlotSet("misses", 0.0)]  # nobody will take over: the bot keeps answering
    return [SlotSet("misses", 0.0), ConversationPaused()]


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent, confidence = grounding.intent_of(tracker)
        text = grounding.user_text(tracker)
        if intent == "complain" and text and _service_question_not_complaint(text, confidence):
            # 公司被列入经营异常了…信用修复要提交什么: a question about a service that the classifier
            # heard as a complaint (a problem told first); answer it — 转人工 stays one tap away
            return [FollowupAction("action_answer_service")]
        return hand_off(dispatcher, tracker, REASON_BY_INTENT.get(intent, HandoffReason.EXPLICIT))


def _service_question_not_complaint(text: str, confidence: float) -> bool:
    """No complaint words, the classifier not sure, and a question that names a service the knowledge
    base answers (信用修复要提交什么); 房东不退押金怎么办 names none and goes to a person."""
    from actions.situation_form import wants_person  # (imports this module)
    from knowledge.situation_match import is_question

    if wants_person(text, "complain", confidence) or not is_question(text):
        return False
    result = grounding.search(text)
    if not (result.answerable and not result.ambiguous and result.candidates):
        return False
    return grounding.names_entry(text, result.candidates[0].id)
