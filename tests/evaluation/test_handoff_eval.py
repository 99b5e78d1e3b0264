"""The real-data handoff check reads the bot's first reply off the bot's own rules, so it follows them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evaluation.handoff import first_actions, first_reply, reply_kinds


def _bot(tmp_path: Path, rules: list[dict[str, object]]) -> tuple[Path, Path]:
    """A tiny bot: its domain and one rules file."""
    domain, data = tmp_path / "domain", tmp_path / "rules"
    domain.mkdir(exist_ok=True)
    data.mkdir(exist_ok=True)
    (domain / "core.yml").write_text(
        yaml.safe_dump(
            {
                "intents": [
                    "greet",
                    "complain",
                    "ask_fee",
                    "out_of_scope",
                    "feedback_negative",
                    "deny",
                    "thank",
                ],
                "slots": {"needs_situation": {"type": "bool", "initial_value": False}},
            }
        ),
        encoding="utf-8",
    )
    (data / "rules.yml").write_text(yaml.safe_dump({"rules": rules}, allow_unicode=True), encoding="utf-8")
    return data, domain


def _rule(intent: str, *actions: str, **extra: object) -> dict[str, object]:
    return {"rule": intent, "steps": [{"intent": intent}] + [{"action": a} for a in actions], **extra}


RULES: list[dict[str, object]] = [
    _rule("greet", "utter_greet"),
    _rule("complain", "action_handoff"),
    _rule("ask_fee", "action_answer_service", wait_for_user_input=False),
    _rule("out_of_scope", "action_abstain"),
    _rule("feedback_negative", "action_record_feedback", "action_handoff"),
    _rule("deny", "action_handoff", condition=[{"active_loop": "situation_form"}]),  # only inside the form
    _rule("thank", "utter_thank", condition=[{"slot_was_set": [{"needs_situation": False}]}]),
    {  # a continuation: starts with an action, says nothing about how a conversation opens
        "rule": "after an answer",
        "steps": [{"action": "action_answer_service"}, {"slot_was_set": [{"needs_situation": True}]}],
    },
]


def test_the_mapping_is_derived_from_the_rules(tmp_path: Path) -> None:
    rules, domain = _bot(tmp_path, RULES)
    assert first_actions(rules, domain) == {
        "greet": ("utter_greet",),
        "complain": ("action_handoff",),
        "ask_fee": ("action_answer_service",),
        "out_of_scope": ("action_abstain",),
        "feedback_negative": ("action_record_feedback", "action_handoff"),
        "deny": (),  # its rule needs the form active
        "thank": ("utter_thank",),  # the slot condition holds with the initial value
    }
    assert reply_kinds(rules, domain) == {
        "greet": "other",
        "complain": "handoff",
        "ask_fee": "search",
        "out_of_scope": "human_offered",
        "feedback_negative": "handoff",
        "deny": "other",
        "thank": "other",
    }


def test_when_a_rule_changes_what_an_intent_does_the_mapping_follows(tmp_path: Path) -> None:
    changed = [
        _rule("complain", "utter_sorry"),  # no longer handed off
        _rule("greet", "action_handoff"),
        _rule("ask_fee", "action_abstain"),
        _rule("out_of_scope", "action_answer_service"),
        _rule("deny", "action_handoff"),  # now at any time
    ]
    rules, domain = _bot(tmp_path, changed)
    kinds = reply_kinds(rules, domain)
    assert {i: kinds[i] for i in ("complain", "greet", "ask_fee", "out_of_scope", "deny")} == {
        "complain": "other",
        "greet": "handoff",
        "ask_fee": "human_offered",
        "out_of_scope": "search",
        "deny": "handoff",
    }
    assert kinds["feedback_negative"] == "other"  # its rule is gone


def test_rules_that_disagree_on_an_opening_are_an_error(tmp_path: Path) -> None:
    rules, domain = _bot(tmp_path, [_rule("complain", "action_handoff"), _rule("complain", "utter_sorry")])
    with pytest.raises(ValueError, match="disagree on what complain does first"):
        first_actions(rules, domain)


def test_the_real_bots_rules() -> None:
    actions = first_actions()
    assert actions["complain"] == actions["request_human"] == ("action_handoff",)
    assert actions["out_of_scope"] == ("action_abstain",)
    assert actions["ask_service"] == actions["ask_materials"] == ("action_answer_service",)
    kinds = reply_kinds()
    assert kinds["complain"] == kinds["request_human"] == kinds["feedback_negative"] == "handoff"
    assert kinds["out_of_scope"] == "human_offered"
    searched = {"ask_service", "ask_materials", "ask_fee", "ask_location", "choose_service", "nlu_fallback"}
    assert all(kinds[i] == "search" for i in searched)
    assert kinds["greet"] == kinds["thank"] == "other"


def test_only_searched_intents_ask_the_knowledge_base() -> None:
    asked: list[str] = []

    def answerable(text: str) -> bool:
        asked.append(text)
        return "公租房" in text

    kinds = reply_kinds()
    assert first_reply("complain", "楼下太吵", answerable, kinds) == "handoff"
    assert first_reply("request_human", "转人工", answerable, kinds) == "handoff"
    assert first_reply("out_of_scope", "讲个笑话", answerable, kinds) == "human_offered"
    assert first_reply("ask_service", "公租房谁能申请", answerable, kinds) == "answered"
    assert first_reply("nlu_fallback", "北京的共有产权房怎么申请", answerable, kinds) == "human_offered"
    assert first_reply("greet", "你好", answerable, kinds) == "other"
    assert first_reply("no_such_intent", "？", answerable, kinds) == "other"
    assert asked == ["公租房谁能申请", "北京的共有产权房怎么申请"]
