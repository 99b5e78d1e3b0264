"""Shared steps of the answering actions: find the service, build grounded replies, log gaps."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.runtime import live_search, sessions
from core.db import GapRow
from core.pii import mask_pii
from core.settings import get_settings
from knowledge.models import Entry
from knowledge.render import card
from retrieval.engine import SearchResult
from retrieval.text import content_tokens

# Which parts of the guide each question intent asks for (None = the whole 一次性告知).
PARTS_BY_INTENT: dict[str, list[str] | None] = {
    "ask_service": None,
    "ask_materials": ["materials"],
    "ask_conditions": ["conditions"],
    "ask_steps": ["steps"],
    "ask_time_limit": ["time_limit"],
    "ask_fee": ["fees"],
    "ask_location": ["location"],
    "ask_phone": ["phone"],
    "ask_online": ["online"],
    "ask_legal_basis": ["legal_basis"],
}
OVERVIEW = [
    "bundled_matters",
    "conditions",
    "steps",
    "time_limit",
    "fees",
    "location",
    "phone",
    "online",
    "legal_basis",
]
FOLLOW_UP_MAX_CHARS = 14


def requested_parts(tracker: Tracker) -> list[str] | None:
    intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
    if intent in PARTS_BY_INTENT:
        return PARTS_BY_INTENT[intent]
    previous = tracker.get_slot("requested_part")
    return previous.split(",") if previous else None


def user_text(tracker: Tracker) -> str:
    text = tracker.latest_message.get("text") or ""
    return "" if text.startswith("/") else text


def search(text: str) -> SearchResult:
    return live_search().engine.search(text, k=get_settings().search_top_k)


def entry(entry_id: str | None) -> Entry | None:
    if not entry_id:
        return None
    return live_search().engine.entries.get(entry_id)


def is_follow_up(text: str, result: SearchResult, current: str | None) -> bool:
    """A short question naming no service ("那要多久？") is about the service already discussed."""
    if not current or len(text) > FOLLOW_UP_MAX_CHARS:
        return False
    if not content_tokens(text):
        return True
    top = result.candidates[0] if result.candidates else None
    return not result.answerable or top is None or top.coverage == 0 or top.id == current


def service_buttons(
    result: SearchResult, limit: int = 3, exclude: set[str] | None = None
) -> list[dict[str, str]]:
    exclude = exclude or set()
    return [
        {"title": c.title, "payload": f'/choose_service{{"entry_id":"{c.id}"}}'}
        for c in result.candidates
        if c.id not in exclude
    ][:limit]


def human_button() -> dict[str, str]:
    return {"title": "转人工", "payload": "/request_human"}


def send_card(
    dispatcher: CollectingDispatcher, e: Entry, parts: list[str] | None, answers: dict[str, str] | None = None
) -> None:
    payload = card(e, parts, answers)
    if parts and not payload["sections"]:
        wanted = "、".join(payload["missing"])
        dispatcher.utter_message(
            text=f"「{e.title}」的办事攻略里暂时没有{wanted}的信息，可以拨打{e.phone or get_settings().hotline}咨询，或转人工。"
        )
        parts = None
        payload = card(e, OVERVIEW, answers)
    dispatcher.utter_message(json_message=payload)


def previous_question(tracker: Tracker) -> str:
    """The user's last message before the current one (what a 没用 rating is about)."""
    texts = [e.get("text") or "" for e in tracker.events if e.get("event") == "user"]
    texts = [t for t in texts[:-1] if t and not t.startswith("/")]
    return texts[-1] if texts else ""


# Messages that are not questions about a service: a handoff gap records the question before them.
NOT_QUESTIONS = frozenset(
    {
        "request_human", "complain", "feedback_positive", "feedback_negative", "greet", "goodbye", "thank",
        "affirm", "deny", "unsure", "not_this", "bot_challenge", "choose_service", "choose_option",
    }
)  # fmt: skip


def last_question(tracker: Tracker) -> str:
    """The citizen's last typed question (what a conversation handed to a person was about)."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    for n, event in enumerate(reversed(users)):
        text = event.get("text") or ""
        parsed = event.get("parse_data") or (tracker.latest_message if n == 0 else {})
        intent = (parsed.get("intent") or {}).get("name")
        if text and not text.startswith("/") and intent not in NOT_QUESTIONS:
            return str(text)
    return ""


def record_gap(tracker: Tracker, reason: str, result: SearchResult | None = None) -> None:
    top = result.candidates[0] if result and result.candidates else None
    top_entry = top.id if top else None
    if reason == "unhelpful":
        question = previous_question(tracker)
    elif reason == "handoff":
        question, top_entry = last_question(tracker), tracker.get_slot("current_service")
    else:
        question = user_text(tracker) or (result.query if result else "")
    if not question:
        return
    with sessions().begin() as s:
        s.add(
            GapRow(
                sender_id=tracker.sender_id,
                question=mask_pii(question)[:500],
                reason=reason,
                top_entry=top_entry,
                score=top.score if top else None,
            )
        )


def record_if_unsure(tracker: Tracker, result: SearchResult) -> None:
    """An answer given with low confidence (below GAP_LOW_CONFIDENCE) is a gap for editors."""
    top = result.candidates[0] if result.candidates else None
    if top is not None and top.score < get_settings().gap_low_confidence:
        record_gap(tracker, "low_confidence", result)


def candidates_slot(result: SearchResult) -> list[dict[str, Any]]:
    return [{"id": c.id, "title": c.title, "score": c.score} for c in result.candidates]
