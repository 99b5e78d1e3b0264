"""The eval-dialogue harness's checks (evaluation/expectations.py, evaluation/dialogue.py), on replies
built from the real entries and renderer; no servers."""

from __future__ import annotations

from typing import Any

import pytest

from evaluation.dialogue import report, run_dialogue
from evaluation.expectations import (
    Dialogue,
    DialogueFileError,
    SituationQuestion,
    check,
    parse_dialogues,
    situation_questions,
)
from knowledge.models import Entry
from knowledge.render import card

Reply = dict[str, Any]


@pytest.fixture(scope="module")
def entries(seed_entries: list[Entry]) -> dict[str, Entry]:
    return {e.id: e for e in seed_entries}


@pytest.fixture(scope="module")
def questions(seed_entries: list[Entry]) -> list[SituationQuestion]:
    return situation_questions(seed_entries)


def question_reply(e: Entry, situation: str) -> Reply:
    s = next(s for s in e.situations if s.id == situation)
    titles = [o.label for o in s.options] + ["不确定"]
    return {
        "messages": [
            {
                "type": "buttons",
                "text": s.question,
                "buttons": [{"title": t, "payload": f"/x{t}"} for t in titles],
            }
        ],
        "handoff": False,
    }


def card_reply(e: Entry, parts: list[str] | None = None, answers: dict[str, str] | None = None) -> Reply:
    return {"messages": [card(e, parts, answers)], "handoff": False}


def test_asks(entries: dict[str, Entry], questions: list[SituationQuestion]) -> None:
    reply = question_reply(entries["enterprise-opening"], "by_agent")
    assert check({"asks": True}, reply, questions) == []
    assert check({"asks": "enterprise-opening"}, reply, questions) == []
    assert check({"asks": "newborn-birth"}, reply, questions)
    assert check({"asks": False}, reply, questions)
    # the question text without its option buttons, or buttons without the question, is no question
    text_only = {"messages": [{"type": "text", "text": "是否委托代理人（如财务代办、员工）办理？"}]}
    assert check({"asks": True}, text_only, questions)
    other = {
        "messages": [
            {
                "type": "buttons",
                "text": "您想了解的是下面哪一项？",
                "buttons": [{"title": "是"}, {"title": "否"}],
            }
        ]
    }
    assert check({"asks": True}, other, questions) and check({"asks": False}, other, questions) == []


def test_entry_part_service_no_card(entries: dict[str, Entry], questions: list[SituationQuestion]) -> None:
    e = entries["housing-fund-withdrawal"]
    reply = card_reply(e, ["time_limit"])
    assert check({"entry": e.id, "part": ["time_limit"]}, reply, questions) == []
    assert check({"entry": e.id, "part": ["fees"]}, reply, questions)
    assert check({"entry": "housing-fund-loan"}, reply, questions)
    assert check({"service": e.id}, reply, questions) == []
    assert check({"service": e.id}, question_reply(e, "reason"), questions) == []
    assert check({"service": "newborn-birth"}, question_reply(e, "reason"), questions)
    assert check({"no_card": True}, reply, questions)
    assert check({"no_card": True}, question_reply(e, "reason"), questions) == []


def test_materials(entries: dict[str, Entry], questions: list[SituationQuestion]) -> None:
    e = entries["enterprise-opening"]
    decided = card_reply(e, None, {"by_agent": "no", "has_employees": "yes"})
    expect = {"entry": e.id, "materials_include": ["员工参保"], "materials_exclude": ["授权委托书"]}
    assert check(expect, decided, questions) == []
    wrong = card_reply(e, None, {"by_agent": "yes", "has_employees": "no"})
    assert len(check(expect, wrong, questions)) == 2
    unsure = card_reply(e, None, {})
    assert (
        check({"entry": e.id, "materials_conditional": ["授权委托书", "员工参保"]}, unsure, questions) == []
    )
    assert check({"entry": e.id, "materials_conditional": ["授权委托书"]}, decided, questions)
    # a card without the materials part is no checklist
    assert check({"entry": e.id, "materials_include": ["公司章程"]}, card_reply(e, ["fees"]), questions)


def test_human_handoff_and_text(questions: list[SituationQuestion]) -> None:
    offered = {
        "messages": [
            {
                "type": "buttons",
                "text": "没找到",
                "buttons": [{"title": "转人工", "payload": "/request_human"}],
            }
        ]
    }
    handed = {
        "messages": [{"type": "text", "text": "正在为您转接"}, {"type": "handoff", "status": "offline"}]
    }
    plain = {"messages": [{"type": "text", "text": "您好，请问办什么事？"}]}
    assert check({"human_offered": True}, offered, questions) == []
    assert check({"human_offered": True}, handed, questions) == []
    assert check({"human_offered": True}, plain, questions)
    assert check({"handoff": True}, handed, questions) == []
    assert check({"handoff": True}, offered, questions)
    assert check({"contains": ["请问"], "not_contains": ["转接"]}, plain, questions) == []
    assert len(check({"contains": ["转接"], "not_contains": ["您好"]}, plain, questions)) == 2
    assert check({"not_contains": ["request_human"]}, offered, questions) == []  # payloads are not shown


def test_file_format_errors() -> None:
    ok = {"dialogues": [{"id": "a", "category": "c", "turns": [{"say": "你好", "no_card": True}]}]}
    assert parse_dialogues(ok)[0].turns[0].expect == {"no_card": True}
    bad_turns = [
        {"say": "你好", "no_crad": True},  # typo in an expectation
        {"say": "你好", "click": "转人工"},
        {"no_card": True},
        {"say": "你好", "part": "price"},
        {"say": "你好", "materials_include": "结婚证"},
        {"say": "你好", "handoff": False},
    ]
    for turn in bad_turns:
        with pytest.raises(DialogueFileError):
            parse_dialogues({"dialogues": [{"id": "a", "category": "c", "turns": [turn]}]})
    with pytest.raises(DialogueFileError):
        parse_dialogues({"dialogues": [ok["dialogues"][0], ok["dialogues"][0]]})  # duplicate id


def test_run_dialogue_sends_button_payloads(
    entries: dict[str, Entry], questions: list[SituationQuestion]
) -> None:
    e = entries["enterprise-opening"]
    dialogue: Dialogue = parse_dialogues(
        {
            "dialogues": [
                {
                    "id": "d",
                    "category": "buttons",
                    "turns": [
                        {"say": "开公司要什么材料", "asks": e.id},
                        {"click": "是", "asks": e.id},
                        {"say": "没有员工", "entry": e.id, "materials_include": ["授权委托书"]},
                    ],
                }
            ]
        }
    )[0]
    replies = [
        question_reply(e, "by_agent"),
        question_reply(e, "has_employees"),
        card_reply(e, None, {"by_agent": "yes", "has_employees": "no"}),
    ]
    sent: list[str] = []

    def send(sender: str, message: str) -> Reply:
        sent.append(message)
        return replies[len(sent) - 1]

    result = run_dialogue(dialogue, send, questions, "s1")
    assert sent == ["开公司要什么材料", "/x是", "没有员工"] and result.passed
    # a click on a button that was not offered fails the turn and ends the dialogue
    sent.clear()
    replies[0] = {"messages": [{"type": "text", "text": "抱歉"}]}
    result = run_dialogue(dialogue, send, questions, "s2")
    assert not result.passed and len(sent) == 1 and "no button" in result.turns[-1].failures[0]


def test_report_counts_by_category(capsys: pytest.CaptureFixture[str]) -> None:
    from evaluation.dialogue import DialogueResult, TurnResult

    dialogues = parse_dialogues(
        {
            "dialogues": [
                {"id": "a", "category": "x", "turns": [{"say": "1"}]},
                {"id": "b", "category": "x", "turns": [{"say": "2"}]},
                {"id": "c", "category": "y", "turns": [{"say": "3"}]},
            ]
        }
    )
    results = [
        DialogueResult(dialogues[0], [TurnResult("1", [], {})]),
        DialogueResult(dialogues[1], [TurnResult("2", ["expected a handoff"], {})]),
        DialogueResult(dialogues[2], [TurnResult("3", [], {"degraded": True})]),
    ]
    row = report(results, 1.0, verbose=True)
    out = capsys.readouterr().out
    assert row["passed"] == 2 and row["total"] == 3 and row["rate"] == 0.6667
    assert row["by_category"] == {"x": {"passed": 1, "total": 2}, "y": {"passed": 1, "total": 1}}
    assert row["failed"] == ["b"] and "expected a handoff" in out and row["degraded_turns"] == 1
    assert out.strip().splitlines()[-1].startswith("RESULT {")


def test_degraded_or_http_error_replies_fail_the_turn(questions: list[SituationQuestion]) -> None:
    dialogue = parse_dialogues(
        {"dialogues": [{"id": "d", "category": "c", "turns": [{"say": "你好", "no_card": True}]}]}
    )[0]
    degraded = {"messages": [{"type": "text", "text": "抱歉，智能助手暂时无法回答。"}], "degraded": True}
    assert not run_dialogue(dialogue, lambda s, m: degraded, questions, "s").passed
    error = {"messages": [], "http_status": 500, "error": "Internal Server Error"}
    result = run_dialogue(dialogue, lambda s, m: error, questions, "s")
    assert not result.passed and result.turns[0].failures[0].startswith("HTTP 500")
    assert run_dialogue(
        dialogue, lambda s, m: {"messages": [{"type": "text", "text": "您好"}]}, questions, "s"
    ).passed
