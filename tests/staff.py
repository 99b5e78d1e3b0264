"""Helpers for tests of the staff side (login, agent console): a Rasa stand-in, login, tickets."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from core.db import utcnow
from handoff.status import TicketStatus
from handoff.tables import HandoffRow
from web.rasa import RasaUnavailable

DEMO_PASSWORD = "demo1234"


class StubRasa:
    """Stands in for ``web.rasa.RasaClient``: unit tests never start a Rasa server."""

    def __init__(self) -> None:
        self.up = True
        self.sent: list[tuple[str, str]] = []
        self.resumed: list[str] = []

    async def send(self, sender_id: str, text: str) -> list[dict[str, Any]]:
        if not self.up:
            raise RasaUnavailable("stub: down")
        self.sent.append((sender_id, text))
        return [{"text": f"智能助手收到：{text}"}]

    async def resume(self, sender_id: str) -> None:
        if not self.up:
            raise RasaUnavailable("stub: down")
        self.resumed.append(sender_id)

    async def health(self) -> list[bool]:
        return [self.up]

    async def healthy(self) -> bool:
        return self.up

    async def aclose(self) -> None:
        return None


def client_for(app: FastAPI) -> TestClient:
    """A browser of its own (own cookies) on an app whose lifespan a fixture already runs."""
    return TestClient(app)


def login(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> str:
    """Log ``client`` in; sets its cookies and the X-CSRF-Token header; returns the CSRF token."""
    r = client.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    token = r.json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    return str(token)


def add_ticket(
    app: FastAPI,
    sender_id: str = "citizen-1",
    status: TicketStatus = TicketStatus.WAITING,
    age_s: float = 0,
    **fields: Any,
) -> int:
    """Insert a ticket as the action server does (transcript already masked)."""
    fields.setdefault("reason", "explicit")
    fields.setdefault("transcript", [{"role": "user", "text": "转人工"}])
    created = utcnow() - dt.timedelta(seconds=age_s)
    with app.state.conversations.sessions.begin() as s:
        row = HandoffRow(sender_id=sender_id, status=status, created_at=created, updated_at=created, **fields)
        s.add(row)
        s.flush()
        return int(row.id)


def open_console(client: Any, username: str = "agent1", password: str = DEMO_PASSWORD) -> None:
    """Log an agent in and poll the queue once, as the open console does: the agent is then online
    (AGENT_PRESENCE_S) and handoffs wait for them instead of offering to leave a message. ``client``
    is a TestClient or an httpx.Client on a running server."""
    r = client.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    assert client.get("/api/handoffs").status_code == 200


def start_conversation(client: Any) -> str:
    """Start a conversation bound to ``client`` (a TestClient or httpx.Client keeping cookies), as the
    widget does; returns its id."""
    r = client.post("/api/chat/conversations")
    assert r.status_code == 201, r.text
    return str(r.json()["sender_id"])


def bind(client: TestClient, sender_id: str) -> str:
    """Make ``sender_id`` a widget conversation bound to ``client`` (as if the server had issued it):
    tests keep their readable ids."""
    from conversations.tables import ConversationBindingRow
    from web.conversation_binding import COOKIE

    app: Any = client.app
    with app.state.conversations.sessions.begin() as s:
        if s.get(ConversationBindingRow, sender_id) is None:
            s.add(ConversationBindingRow(sender_id=sender_id))
    client.cookies.set(COOKIE, app.state.binding.token(sender_id))
    return sender_id
