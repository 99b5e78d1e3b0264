"""evaluation/chat_bench.py: only real answers count, so a version still starting cannot look fast."""

from __future__ import annotations

import httpx

from evaluation.chat_bench import answered


def _reply(status: int, body: dict) -> httpx.Response:
    return httpx.Response(status, json=body)


def test_a_real_answer_counts() -> None:
    assert answered(_reply(200, {"messages": [{"type": "card"}], "degraded": False}))
    assert answered(_reply(200, {"messages": [{"type": "text", "text": "您好"}]}))  # before the flag existed


def test_degraded_empty_and_refused_replies_do_not() -> None:
    degraded = {"messages": [{"type": "text", "text": "系统繁忙，请拨打12345"}], "degraded": True}
    assert not answered(_reply(200, degraded))
    assert not answered(_reply(200, {"messages": []}))
    assert not answered(_reply(429, {"messages": [{"type": "text", "text": "太快了"}]}))
