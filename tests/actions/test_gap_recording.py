"""Gaps recorded by the action server for editors: low-confidence answers and conversations handed to a
person (abstentions and 没用 ratings are covered in test_actions)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer_service import ActionAnswerService
from actions.handoff import ActionHandoff
from core.db import session_factory
from core.migrate import migrate
from core.settings import Settings
from knowledge.tables import GapRow
from retrieval.live import LiveSearch

QUESTION = "公租房申请要满足什么条件"


def _user(text: str, intent: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"text": text, "intent": {"name": intent}}}


def _tracker(events: list[dict[str, Any]], slots: dict[str, Any] | None = None) -> Tracker:
    last = events[-1]
    return Tracker.from_dict(
        {
            "sender_id": "citizen-7",
            "slots": slots or {},
            "latest_message": {**last["parse_data"], "entities": []},
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


def _gaps(settings: Settings) -> list[tuple[str, str, str | None]]:
    with session_factory(settings.database_url)() as s:
        return [(g.reason, g.question, g.top_entry) for g in s.query(GapRow).order_by(GapRow.id)]


def _run(action: Any, tracker: Tracker) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher.messages


def test_an_answer_below_gap_low_confidence_is_a_gap(
    live: LiveSearch, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    top = live.engine.search(QUESTION).candidates[0]
    assert top.id == "public-rental-housing"

    settings.gap_low_confidence = top.score - 0.01  # confident enough: no gap
    messages = _run(ActionAnswerService(), _tracker([_user(QUESTION, "ask_conditions")]))
    assert messages[0]["custom"]["entry_id"] == "public-rental-housing" and _gaps(settings) == []

    settings.gap_low_confidence = top.score + 0.01  # answered, but below the bar: editors should look
    messages = _run(ActionAnswerService(), _tracker([_user(QUESTION, "ask_conditions")]))
    assert messages[0]["custom"]["entry_id"] == "public-rental-housing"
    assert _gaps(settings) == [("low_confidence", QUESTION, "public-rental-housing")]


def test_a_handoff_records_the_citizens_last_question_masked(live: LiveSearch, settings: Settings) -> None:
    events = [
        _user("养狗要办什么证，我电话13812345678", "ask_service"),
        {"event": "bot", "text": "抱歉，这个问题我在办事攻略里没有找到答案"},
        _user("/choose_option", "choose_option"),
        _user("转人工", "request_human"),
    ]
    _run(ActionHandoff(), _tracker(events, {"current_service": "passport"}))
    assert _gaps(settings) == [("handoff", "养狗要办什么证，我电话138****5678", "passport")]


def test_a_handoff_without_a_question_records_nothing(live: LiveSearch, settings: Settings) -> None:
    _run(ActionHandoff(), _tracker([_user("转人工", "request_human")]))
    assert _gaps(settings) == []


def test_every_gap_is_masked_cut_and_never_empty_whoever_records_it(settings: Settings) -> None:
    from knowledge.gaps import QUESTION_CHARS, add_gap

    migrate(settings.database_url)
    sessions = session_factory(settings.database_url)
    with sessions.begin() as s:
        long = add_gap(
            s, sender_id="web-1", question="我的电话１３８００１３８０００，" + "问" * 600, reason="unhelpful"
        )
        none = add_gap(s, sender_id="web-1", question="   ", reason="abstained")
    assert none is None and long is not None
    with sessions() as s:
        (row,) = s.query(GapRow).all()
    assert len(row.question) == QUESTION_CHARS == 500
    assert "１３８００１３８０００" not in row.question and "13800138000" not in row.question
    assert row.reason == "unhelpful" and row.sender_id == "web-1"
