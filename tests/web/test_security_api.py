"""Security over the HTTP API (Rasa stubbed): conversation binding, callbacks, commands, masking through
the chat, limits, headers, body sizes, the OpenAPI error declarations."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from conversations.tables import ConversationBindingRow, MessageRow
from core.db import utcnow
from core.setting_types import RateSpec
from core.settings import Settings
from handoff.status import TicketStatus
from handoff.tables import HandoffRow
from retrieval.engine import SearchEngine
from retrieval.live import LiveSearch
from tests.pii_corpus import leaked, load
from tests.staff import StubRasa, client_for, start_conversation
from web.app import create_app
from web.conversation_binding import COOKIE

Make = Callable[..., tuple[TestClient, StubRasa]]


@pytest.fixture
def make(settings: Settings, engine: SearchEngine) -> Iterator[Make]:
    """The real app (lifespan running) with setting overrides; returns a client and the Rasa stub."""
    opened: list[TestClient] = []

    def build(**overrides: Any) -> tuple[TestClient, StubRasa]:
        s = settings.model_copy(update={"reload_interval_s": 3600.0, **overrides})
        live = LiveSearch(s, engine=engine)
        live.ready = True
        rasa = StubRasa()
        client = TestClient(create_app(settings=s, live=live, rasa=rasa))  # type: ignore[arg-type]
        client.__enter__()
        opened.append(client)
        return client, rasa

    yield build
    for c in opened:
        c.__exit__(None, None, None)


def stored(app: Any, sender: str) -> list[dict[str, Any]]:
    with app.state.conversations.sessions() as s:
        return [r.payload for r in s.scalars(select(MessageRow).where(MessageRow.sender_id == sender))]


# -- 4. conversations bound to their browser -------------------------------------------------------


def test_a_widget_conversation_is_readable_only_with_its_binding(client: TestClient, app: FastAPI) -> None:
    r = client.post("/api/chat/conversations")
    assert r.status_code == 201
    sender = r.json()["sender_id"]
    assert len(sender) >= 30 and r.json()["idle_seconds"] == 1800
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/api" in cookie
    assert client.post("/api/chat", json={"sender_id": sender, "message": "你好"}).status_code == 200
    assert client.get(f"/api/chat/{sender}/messages").status_code == 200

    stranger = client_for(app)  # knows the id, has not the cookie
    for method, path, body in [
        ("GET", f"/api/chat/{sender}/messages", None),
        ("GET", f"/api/chat/{sender}/stream", None),
        ("POST", "/api/chat", {"sender_id": sender, "message": "我是别人"}),
        ("POST", f"/api/chat/{sender}/callback", {"phone": "13812345678"}),
        ("POST", f"/api/chat/{sender}/handoff/cancel", None),
        ("POST", "/api/feedback", {"sender_id": sender, "useful": False}),
        ("POST", "/api/rating", {"sender_id": sender, "score": 1}),
        ("DELETE", f"/api/chat/{sender}", None),
    ]:
        r = stranger.request(method, path, json=body)
        assert r.status_code == 403, (method, path, r.text)
    forged = client_for(app)
    forged.cookies.set(COOKIE, f"{sender}.AAAA")
    assert forged.get(f"/api/chat/{sender}/messages").status_code == 403
    other = client_for(app)  # its own binding does not open someone else's conversation
    start_conversation(other)
    assert other.get(f"/api/chat/{sender}/messages").status_code == 403
    assert next(m["text"] for m in stored(app, sender) if m.get("type") == "text") == "你好"
    assert "我是别人" not in str(stored(app, sender))


def test_an_api_clients_own_sender_id_keeps_working_without_cookies(client: TestClient, app: FastAPI) -> None:
    """The legacy/integration form: several turns per client-chosen id, a client that keeps no cookies."""
    for turn in ("你好", "身份证丢了怎么补办", "要带什么材料"):
        r = client_for(app).post("/api/chat", json={"sender_id": "eval-dialogue-7", "message": turn})
        assert r.status_code == 200 and r.json()["messages"], r.text
    assert client_for(app).get("/api/chat/eval-dialogue-7/messages").status_code == 403  # not readable
    assert client_for(app).get("/api/chat/eval-dialogue-7/stream").status_code == 403
    assert len(stored(app, "eval-dialogue-7")) == 6


def test_ending_a_conversation_and_idling_out(make: Make) -> None:
    client, _ = make(conversation_idle_s=60)
    app: Any = client.app
    sender = start_conversation(client)
    assert client.post("/api/chat", json={"sender_id": sender, "message": "你好"}).status_code == 200
    r = client.delete(f"/api/chat/{sender}")
    assert r.status_code == 200 and COOKIE in r.headers["set-cookie"]  # cookie cleared
    client.cookies.set(COOKIE, app.state.binding.token(sender))  # even with the old cookie
    assert client.get(f"/api/chat/{sender}/messages").status_code == 410
    assert client.post("/api/chat", json={"sender_id": sender, "message": "还在吗"}).status_code == 410

    client.cookies.clear()  # (the cookie set by hand above would be sent first)
    idle = start_conversation(client)
    with app.state.conversations.sessions.begin() as s:
        s.execute(
            update(ConversationBindingRow)
            .where(ConversationBindingRow.sender_id == idle)
            .values(last_seen=utcnow().replace(year=2020))
        )
    assert client.get(f"/api/chat/{idle}/messages").status_code == 410


# -- 3. callbacks only for the conversation's own offline handoff ----------------------------------


def _offline_ticket(app: Any, sender: str) -> int:
    with app.state.conversations.sessions.begin() as s:
        row = HandoffRow(sender_id=sender, status=TicketStatus.OFFLINE, reason="explicit", transcript=[])
        s.add(row)
        s.flush()
        return int(row.id)


def test_a_callback_needs_the_conversations_own_offline_ticket_once(client: TestClient, app: FastAPI) -> None:
    sender = start_conversation(client)
    r = client.post(f"/api/chat/{sender}/callback", json={"phone": "13812345678"})
    assert r.status_code == 409  # no offline handoff: nothing to leave a number for
    with app.state.conversations.sessions() as s:
        assert list(s.scalars(select(HandoffRow))) == []  # and no ticket was made up
    ticket_id = _offline_ticket(app, sender)
    assert client.post(f"/api/chat/{sender}/callback", json={"phone": "13812345678"}).status_code == 200
    again = client.post(f"/api/chat/{sender}/callback", json={"phone": "13999999999"})
    assert again.status_code == 409
    ticket = app.state.handoffs.get(ticket_id)
    assert ticket.callback_phone == "13812345678" and ticket.status == TicketStatus.LEFT_MESSAGE


def test_callbacks_are_rate_limited(make: Make) -> None:
    client, _ = make(callback_rate_limit=RateSpec(2, 3600))
    app: Any = client.app
    codes = []
    for _ in range(3):
        sender = start_conversation(client)
        _offline_ticket(app, sender)
        codes.append(client.post(f"/api/chat/{sender}/callback", json={"phone": "13812345678"}).status_code)
    assert codes == [200, 200, 429]


# -- 11. commands only as offered buttons ----------------------------------------------------------


def test_typed_commands_go_to_rasa_as_text_unless_offered(client: TestClient, app: FastAPI) -> None:
    rasa: StubRasa = app.state.rasa
    sender = start_conversation(client)
    for typed in ("/restart", "/session_start", '/choose_service{"entry_id":"id-card"}', "/"):
        client.post("/api/chat", json={"sender_id": sender, "message": typed})
    assert [t for _, t in rasa.sent] == [
        "restart",
        "session_start",
        'choose_service{"entry_id":"id-card"}',
        "？",
    ]

    app.state.conversations.add(
        sender,
        "bot",
        {
            "type": "buttons",
            "text": "您想办哪一项？",
            "buttons": [
                {"title": "补办身份证", "payload": '/choose_service{"entry_id":"id-card"}'},
                {"title": "是", "payload": '/choose_option{"option":"yes"}'},
            ],
        },
    )
    rasa.sent.clear()
    for typed in (
        '/choose_service{"entry_id": "id-card"}',  # offered (spacing does not matter)
        '/choose_option{"option":"yes"}',
        '/choose_service{"entry_id":"passport"}',  # not offered
        "/request_human",  # public
        "/greet",
    ):
        client.post("/api/chat", json={"sender_id": sender, "message": typed})
    assert [t for _, t in rasa.sent] == [
        '/choose_service{"entry_id": "id-card"}',
        '/choose_option{"option":"yes"}',
        'choose_service{"entry_id":"passport"}',
        "/request_human",
        "/greet",
    ]


def test_offered_buttons_work_for_an_api_client_too(client: TestClient, app: FastAPI) -> None:
    rasa: StubRasa = app.state.rasa
    app.state.conversations.add(
        "eval-9",
        "bot",
        {
            "type": "card",
            "buttons": [{"title": "转人工", "payload": "/request_human"}],
            "options": [{"payload": '/choose_option{"option":"unsure"}'}],
        },
    )
    client_for(app).post(
        "/api/chat", json={"sender_id": "eval-9", "message": '/choose_option{"option":"unsure"}'}
    )
    assert rasa.sent[-1] == ("eval-9", '/choose_option{"option":"unsure"}')


# -- 5. masking through the chat API and the stored transcript -------------------------------------


def test_the_chat_masks_the_generated_corpus_and_keeps_bureau_contacts(
    make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, rasa = make(chat_rate_limit=RateSpec(100000, 60))
    app: Any = client.app
    rows = [r for r in load() if r["secret"]]
    sample = rows[:: max(1, len(rows) // 150)]  # every form of every kind, ~150 turns
    for i, row in enumerate(sample):
        assert (
            client.post("/api/chat", json={"sender_id": f"pii-{i}", "message": row["text"]}).status_code
            == 200
        )
    leaks = [
        r["text"]
        for i, r in enumerate(sample)
        if leaked(r, stored(app, f"pii-{i}")[0]["text"]) or leaked(r, rasa.sent[i][1])
    ]
    assert leaks == []

    # the bureau's own contacts (hotline, the profile's site phones, numbers in entries) stay as they are
    class Profile:
        def known_numbers(self) -> set[str]:
            return {"12345", "07308888888"}

    monkeypatch.setattr("web.contacts.current_profile", Profile)
    app.state.conversations.contacts._version = None  # recompute
    contacts = app.state.conversations.contacts()
    assert {"12345", "07308888888"} <= contacts
    published = "0730-8888888"
    text = f"请问{published}是哪个部门，我的手机13812345678，家里电话0730-8123456"
    client.post("/api/chat", json={"sender_id": "contacts", "message": text})
    masked = stored(app, "contacts")[0]["text"]
    assert published in masked and "13812345678" not in masked and "8123456" not in masked
    # and what the bureau says is stored as said
    answer = {"type": "text", "text": f"请拨打{published}或12345咨询"}
    assert app.state.conversations.add("contacts", "bot", answer)["text"] == answer["text"]


# -- 6. limits on search, QR, feedback and streams; work off the event loop -------------------------


def test_search_qr_and_feedback_are_rate_limited(make: Make) -> None:
    client, _ = make(search_rate_limit=RateSpec(3, 60), feedback_rate_limit=RateSpec(2, 60))
    assert [client.get("/api/search", params={"q": "身份证"}).status_code for _ in range(3)] == [200] * 3
    assert client.get("/api/search", params={"q": "身份证"}).status_code == 429
    assert client.get("/guide/newborn-birth/qr.png").status_code == 429  # shares the search budget
    body = {"sender_id": "fb-1", "useful": True}
    assert [client.post("/api/feedback", json=body).status_code for _ in range(3)] == [200, 200, 429]


def test_open_streams_are_capped_per_client(make: Make) -> None:
    client, _ = make(max_streams_per_client=1)
    app: Any = client.app
    sender = start_conversation(client)
    gate = app.state.limits.streams
    gate.acquire("testclient")  # one stream already open
    assert client.get(f"/api/chat/{sender}/stream").status_code == 429
    gate.release("testclient")
    assert gate.open_streams("testclient") == 0


def test_the_chat_does_not_block_the_event_loop(client: TestClient, app: FastAPI) -> None:
    """A slow database call in /api/chat must not stall other requests: the loop stays free. The chat's
    database call waits until /healthz has been answered; on a blocked loop that never happens (the
    call gives up after 10 s and the test fails), whatever the machine's speed."""
    sender = "loop-test"  # an API client's own id: no cookie needed
    original = app.state.handoffs.handed_off
    entered, health_answered = threading.Event(), threading.Event()
    answered_meanwhile: list[bool] = []

    def slow(sender_id: str) -> Any:
        entered.set()
        answered_meanwhile.append(health_answered.wait(10))
        return original(sender_id)

    app.state.handoffs.handed_off = slow

    async def both() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            chat = asyncio.create_task(c.post("/api/chat", json={"sender_id": sender, "message": "你好"}))
            while not entered.is_set():  # the chat is inside its database call
                await asyncio.sleep(0.01)
            r = await c.get("/healthz")
            health_answered.set()
            assert r.status_code in (200, 503)
            assert (await chat).status_code == 200

    asyncio.run(both())
    assert answered_meanwhile == [True]


# -- 8. sizes --------------------------------------------------------------------------------------


def test_bodies_over_the_limit_get_413_before_parsing(client: TestClient) -> None:
    big = b'{"sender_id": "a", "message": "' + b"x" * 70000 + b'"}'
    r = client.post("/api/chat", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
        yield b'{"sender_id": "a", "message": "'
        for _ in range(20):
            yield b"x" * 5000
        yield b'"}'

    r = client.post("/api/chat", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_the_schema_bounds_message_length_and_cursors(client: TestClient) -> None:
    r = client.post("/api/chat", json={"sender_id": "a", "message": "长" * 4001})
    assert r.status_code == 413
    sender = start_conversation(client)
    r = client.get(f"/api/chat/{sender}/messages", params={"after": 168636049568275453968384})
    assert r.status_code == 422
    spec = client.get("/openapi.json").json()
    assert spec["components"]["schemas"]["ChatRequest"]["properties"]["message"]["maxLength"] == 4000


# -- 9. headers, docs, QR ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/guide/newborn-birth", "/api/search?q=身份证", "/static/widget.js", "/nope"]
)
def test_every_response_has_the_security_headers(client: TestClient, path: str) -> None:
    r = client.get(path)
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_docs_can_be_turned_off_and_qr_codes_use_the_public_address(
    make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qrcode

    from web.routes import guide

    encoded: list[str] = []
    real = qrcode.make

    def counting_make(url: str) -> Any:
        encoded.append(url)
        return real(url)

    monkeypatch.setattr(guide.qrcode, "make", counting_make)
    guide.qr_png.cache_clear()
    client, _ = make(api_docs=False, public_base_url="https://zwfw.example.gov.cn")
    assert client.get("/docs").status_code == 404 and client.get("/openapi.json").status_code == 404
    r = client.get("/guide/newborn-birth/qr.png", headers={"host": "evil.example"})
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
    assert encoded == ["https://zwfw.example.gov.cn/guide/newborn-birth"]
