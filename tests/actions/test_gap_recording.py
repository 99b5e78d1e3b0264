"""Gaps recorded by the action server for editors: low-confidence answers and conversations handed to a
person (abstentions and 没用 ratings are covered in test_actions)."""

from __future__ import annotations

from typing import Any

import pytest

from actions.answer_service import ActionAnswerService
from actions.handoff import ActionHandoff
from core.db import session_factory
from core.migrate import migrate
from core.settings import Settings
from knowledge.tables import GapRow
from retrieval.live import LiveSearch
from tests.action_support import run, tracker

QUESTION = "公租房申请要满足什么条件"


def _user(text: str, intent: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"text": text, "intent": {"name": intent}}}


def _gaps(settings: Settings) -> list[tuple[str, str, str | None]]:
    with session_factory(settings.database_url)() as s:
        return [(g.reason, g.question, g.top_entry) for g in s.query(GapRow).order_by(GapRow.id)]


def test_an_answer_below_gap_low_confidence_is_a_gap(
    live: LiveSearch, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    top = live.engine.search(QUESTION).candidates[0]
    assert top.id == "public-rental-housing"

    settings.gap_low_confidence = top.score - 0.01  # confident enough: no gap
    _, messages = run(ActionAnswerService(), tracker(QUESTION, "ask_conditions"))
    assert messages[0]["custom"]["entry_id"] == "public-rental-housing" and _gaps(settings) == []

    settings.gap_low_confidence = top.score + 0.01  # answered, but below the bar: editors should look
    _, messages = run(ActionAnswerService(), tracker(QUESTION, "ask_conditions"))
    assert messages[0]["custom"]["entry_id"] == "public-rental-housing"
    assert _gaps(settings) == [("low_confidence", QUESTION, "public-rental-housing")]


def test_a_handoff_records_the_citizens_last_question_masked(live: LiveSearch, settings: Settings) -> None:
    history = [
        _user("养狗要办什么证，我电话13812345678", "ask_service"),
        {"event": "bot", "text": "抱歉，这个问题我在办事攻略里没有找到答案"},
        _user("/choose_option", "choose_option"),
    ]
    run(ActionHandoff(), tracker("转人工", "request_human", {"current_service": "passport"}, history=history))
    assert _gaps(settings) == [("handoff", "养狗要办什么证，我电话138****5678", "passport")]


def test_a_handoff_without_a_question_records_nothing(live: LiveSearch, settings: Settings) -> None:
    run(ActionHandoff(), tracker("转人工", "request_human"))
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
