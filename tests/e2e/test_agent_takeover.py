"""Live takeover through the real servers: a handoff waits for the online agent, the bot stays silent
while the agent holds the conversation, and after close Rasa is resumed and answers again."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import System
from tests.staff import open_console, start_conversation

pytestmark = pytest.mark.integration


def test_agent_takes_over_and_hands_back_to_the_bot(system: System) -> None:
    with system.client() as agent, system.client() as citizen:
        sender = start_conversation(citizen)

        def _chat(_: System, sender: str, text: str) -> dict:
            r = citizen.post("/api/chat", json={"sender_id": sender, "message": text})
            assert r.status_code == 200, r.text
            return r.json()

        open_console(agent, password=system.settings.demo_password)
        reply = _chat(system, sender, "转人工")
        handoff = next(m for m in reply["messages"] if m["type"] == "handoff")
        assert handoff["status"] == "waiting"
        ticket_id = handoff["ticket_id"]
        queue = agent.get("/api/handoffs").json()["data"]
        assert ticket_id in [t["id"] for t in queue]

        assert agent.post(f"/api/handoffs/{ticket_id}/claim").status_code == 200
        held = _chat(system, sender, "公租房谁能申请？")
        assert held == {"messages": [], "handoff": True, "degraded": False}  # the bot is silent
        sent = agent.post(f"/api/handoffs/{ticket_id}/messages", json={"text": "您好，我是人工客服。"})
        assert sent.status_code == 200
        feed = citizen.get(f"/api/chat/{sender}/messages", params={"after": 0}).json()["messages"]
        assert any(m["role"] == "agent" and m["text"] == "您好，我是人工客服。" for m in feed)
        history = agent.get(f"/api/handoffs/{ticket_id}").json()["history"]
        assert any(h["role"] == "user" and h["text"] == "公租房谁能申请？" for h in history)

        closed = agent.post(f"/api/handoffs/{ticket_id}/close", json={"resolution": "answered"})
        assert closed.status_code == 200 and closed.json()["bot_resumed"] is True

        again = _chat(system, sender, "公租房谁能申请？")
    assert again["handoff"] is False
    cards = [m for m in again["messages"] if m["type"] == "card"]
    assert cards and cards[0]["entry_id"] == "public-rental-housing"
