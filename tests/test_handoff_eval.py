"""The real-data handoff check derives the bot's first reply the way the rules choose it."""

from __future__ import annotations

from ops.handoff_eval import first_reply


def test_first_reply_follows_the_rules() -> None:
    asked: list[str] = []

    def answerable(text: str) -> bool:
        asked.append(text)
        return "公租房" in text

    assert first_reply("complain", "楼下太吵", answerable) == "handoff"
    assert first_reply("request_human", "转人工", answerable) == "handoff"
    assert first_reply("out_of_scope", "讲个笑话", answerable) == "human_offered"
    assert first_reply("ask_service", "公租房谁能申请", answerable) == "answered"
    assert first_reply("nlu_fallback", "北京的共有产权房怎么申请", answerable) == "human_offered"
    assert first_reply("greet", "你好", answerable) == "other"
    assert asked == ["公租房谁能申请", "北京的共有产权房怎么申请"]  # only service questions are searched
