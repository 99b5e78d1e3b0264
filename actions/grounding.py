"""Shared steps of the answering actions: find the service, build grounded replies, log gaps."""

from __future__ import annotations

import base64
import re
from typing import Any

import numpy as np
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.runtime import live_search, sessions
from core.settings import get_settings
from knowledge.gaps import GapReason, add_gap
from knowledge.models import Entry
from knowledge.parts import PART_CUES, cue_part
from knowledge.render import card
from retrieval.engine import NAME_WORDS_IGNORED, SearchResult
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
# A materials answer leads with the materials; the rest of the guide follows.
MATERIALS_FIRST = ["materials", *(p for p in OVERVIEW if p != "materials")]
FOLLOW_UP_MAX_CHARS = 14
CLAUSE = re.compile(r"[，,。.！!？?；;\n]+")
ASKING = re.compile(
    r"想问|请问|问一下|问下|咨询|怎么|如何|怎样|哪些|什么|吗|呢|多久|多少|哪里|在哪|能不能|可不可以|要不要|需要|要准备|办理"
)
LONG_MESSAGE_CHARS = 24


GENERIC_WORDS = frozenset(
    {"咨询", "大概", "一般", "具体", "办理", "要交", "现在", "还有", "问问", "打听", "这边", "你们", "一下", "大约",
     "最快", "多少", "时间", "需要", "可以", "能够", "带上", "交钱", "准备"}
)  # fmt: skip


def names_nothing_but_aspect(text: str) -> bool:
    """要多久 / 有咨询电话吗 / 在哪里办: asks about a part, names no service of its own."""
    remainder = text
    for _, cue in PART_CUES:
        remainder = cue.sub(" ", remainder)
    return not [t for t in content_tokens(remainder) if t not in GENERIC_WORDS]


EXPLICIT_PERSON = re.compile(r"转.{0,3}人工|人工(?:客服|服务|坐席|接听)|找.{0,2}人工|真人|我要投诉|我要举报")


def asks_for_person(text: str) -> bool:
    """Words that ask for a person whatever the NLU made of them (我还是想找个真人问问)."""
    return bool(EXPLICIT_PERSON.search(text))


def intent_of(tracker: Tracker) -> tuple[str, float]:
    intent = tracker.latest_message.get("intent") or {}
    return str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)


def names_part(text: str, part: str) -> bool:
    """Whether the question's own words name ``part`` (多久 → time_limit)."""
    return any(p == part and cue.search(text) for p, cue in PART_CUES)


def requested_parts(tracker: Tracker) -> list[str] | None:
    intent, _ = intent_of(tracker)
    if intent in PARTS_BY_INTENT and intent != "ask_service":
        parts = PARTS_BY_INTENT[intent]
        text = focus_question(user_text(tracker))
        # 刚来岳阳上班能住人才公寓吗 is an eligibility question whatever part the NLU heard (it hears
        # 办理地点 in 来岳阳): the question's words win when they ask 能不能 and name no part of the intent
        # and 低保怎么申请 需要什么 asks what to bring, whatever part the NLU heard in 怎么申请
        cue = cue_part(text)
        if parts and cue in ("conditions", "materials") and not any(names_part(text, p) for p in parts):
            return [cue]
        return parts
    if intent in ("ask_service", "nlu_fallback"):
        part = cue_part(focus_question(user_text(tracker)))
        return [part] if part else None
    previous = tracker.get_slot("requested_part")
    return previous.split(",") if previous else None


def focus_question(text: str) -> str:
    """The part of a long message that asks the question, not the background told first.

    你好，我老家是平江的，……现在孩子出生了，想问下给孩子上户口要准备哪些东西 → the last clause that asks
    something, with the clause before it as context.
    """
    if len(text) <= LONG_MESSAGE_CHARS:
        return text
    clauses = [c for c in CLAUSE.split(text) if c.strip()]
    if len(clauses) < 2:
        return text
    asking = [i for i, c in enumerate(clauses) if ASKING.search(c)]
    i = asking[-1] if asking else len(clauses) - 1
    focus = clauses[i]
    if i > 0 and len(clauses[i - 1]) + len(focus) <= 32:
        focus = clauses[i - 1] + "，" + focus
    return focus


#: where Rasa's e5 featurizer puts the embedding of a message it encoded (bot/nlu_components)
NLU_VECTOR = "e5_query"


def user_text(tracker: Tracker) -> str:
    """The citizen's latest message (empty for a button payload).

    When Rasa's NLU encoded this text with e5 (it does for every message its n-gram model is unsure
    of), the vector came with the parse data: the query encoder keeps it, so searching the same text
    costs no second encoder call (about a third of the CPU of a new question: docs/performance.md).
    """
    text = tracker.latest_message.get("text") or ""
    if text.startswith("/"):
        return ""
    _reuse_nlu_vector(tracker.latest_message.get(NLU_VECTOR), text)
    return text


def _reuse_nlu_vector(shared: Any, text: str) -> bool:
    if (
        not isinstance(shared, dict)
        or shared.get("text") != text
        or not isinstance(shared.get("vector"), str)
    ):
        return False
    try:
        vector = np.frombuffer(base64.b64decode(shared["vector"], validate=True), dtype="<f4")
    except ValueError:
        return False
    remember = getattr(live_search().engine.encoder, "remember_query", None)
    return bool(remember and remember(text.strip(), vector, str(shared.get("model"))))


def search(text: str) -> SearchResult:
    """Search for the service a message is about; a long message is searched by its question."""
    engine, k = live_search().engine, get_settings().search_top_k
    focus = focus_question(text)
    if focus != text:
        focused = engine.search(focus, k=k)
        if focused.answerable:
            return focused
    return engine.search(text, k=k)


def names_entry(text: str, entry_id: str) -> bool:
    """Whether a message names the entry: a word of its title or aliases (after the synonym lexicon)."""
    engine = live_search().engine
    e = engine.entries.get(entry_id)
    if e is None:
        return False
    said = engine.lexicon.normalise(text)
    words = {
        w
        for name in [re.sub(r"[（(].*?[）)]", "", e.title), *e.aliases]
        for w in content_tokens(engine.lexicon.normalise(name))
        if len(w) >= 2 and w not in NAME_WORDS_IGNORED
    }
    return any(w in said for w in words)


def other_service(text: str, result: SearchResult, current: str | None) -> str | None:
    """The entry a message clearly asks about when it is not the one being discussed, else None."""
    if not result.answerable or not result.candidates or not content_tokens(text):
        return None
    top = result.candidates[0]
    if top.id == current or top.coverage == 0 or is_follow_up(text, result, current):
        return None
    if result.ambiguous and any(c.id == current for c in result.candidates[:2]):
        return None
    return top.id


def entry(entry_id: str | None) -> Entry | None:
    if not entry_id:
        return None
    return live_search().engine.entries.get(entry_id)


def is_follow_up(text: str, result: SearchResult, current: str | None) -> bool:
    """A short question naming no service ("那要多久？") is about the service already discussed."""
    if not current or len(text) > FOLLOW_UP_MAX_CHARS:
        return False
    if not content_tokens(text) or (cue_part(text) and names_nothing_but_aspect(text)):
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


def record_gap(tracker: Tracker, reason: GapReason, result: SearchResult | None = None) -> None:
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
        add_gap(
            s,
            sender_id=tracker.sender_id,
            question=question,
            reason=reason,
            top_entry=top_entry,
            score=top.score if top else None,
        )


def record_if_unsure(tracker: Tracker, result: SearchResult) -> None:
    """An answer given with low confidence (below GAP_LOW_CONFIDENCE) is a gap for editors."""
    top = result.candidates[0] if result.candidates else None
    if top is not None and top.score < get_settings().gap_low_confidence:
        record_gap(tracker, "low_confidence", result)


def candidates_slot(result: SearchResult) -> list[dict[str, Any]]:
    return [{"id": c.id, "title": c.title, "score": c.score} for c in result.candidates]
