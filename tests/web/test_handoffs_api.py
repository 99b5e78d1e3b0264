"""The agent console's API: the handoff queue's every state transition and role rule, live takeover
through the citizen's message feed, suggested answers and phone assist. Real app, real SQLite, real
search engine; only Rasa is a stand-in."""

from __future__ import annotations

import re
import threading
from typing import Any, get_args

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from core.hours import HoursSpec
from handoff.presence import agent_availability
from handoff.status import RESOLUTIONS, Resolution, TicketStatus
from handoff.tables import HandoffRow
from tests.staff import StubRasa, add_ticket, bind, client_for, login
from web.pages import AGENT_HEADERS as SECURITY_HEADERS


@pytest.fixture
def agent(app: FastAPI) -> TestClient:
    c = client_for(app)
    login(c, "agent1")
    return c


@pytest.fixture
def second_agent(app: FastAPI) -> TestClient:
    app.state.auth.accounts.create("agent2", "agent2-password", "agent")
    c = client_for(app)
    login(c, "agent2", "agent2-password")
    return c


def ticket_row(app: FastAPI, ticket_id: int) -> HandoffRow:
    return app.state.handoffs.get(ticket_id)  # type: ignore[no-any-return]


def feed(client: TestClient, sender_id: str, after: int = 0) -> list[dict[str, Any]]:
    """What the citizen's widget receives (read with the conversation's binding, as the widget does)."""
    bind(client, sender_id)
    r = client.get(f"/api/chat/{sender_id}/messages", params={"after": after})
    assert r.status_code == 200
    return r.json()["messages"]  # type: ignore[no-any-return]


# -- who may see and do what ----------------------------------------------------------------------

TICKET_ENDPOINTS = [
    ("GET", "/api/handoffs", None),
    ("GET", "/api/handoffs/{id}", None),
    ("GET", "/api/handoffs/{id}/suggestions", None),
    ("POST", "/api/handoffs/{id}/claim", None),
    ("POST", "/api/handoffs/{id}/messages", {"text": "您好"}),
    ("POST", "/api/handoffs/{id}/release", None),
    ("POST", "/api/handoffs/{id}/close", {"resolution": "answered"}),
    ("POST", "/api/assist", {"text": "办身份证"}),
]


def _call(c: TestClient, method: str, path: str, body: dict[str, Any] | None, ticket_id: int) -> Any:
    return c.request(method, path.format(id=ticket_id), json=body)


def test_an_anonymous_client_sees_no_ticket(app: FastAPI) -> None:
    ticket_id = add_ticket(app, transcript=[{"role": "user", "text": "我叫张三，要投诉"}])
    anonymous = client_for(app)
    for method, path, body in TICKET_ENDPOINTS:
        r = _call(anonymous, method, path, body, ticket_id)
        assert r.status_code == 401, (method, path)
        assert "张三" not in r.text and "citizen-1" not in r.text
    assert ticket_row(app, ticket_id).status == TicketStatus.WAITING


@pytest.mark.parametrize("username", ["editor1", "reviewer1"])
def test_editors_and_reviewers_cannot_handle_tickets(app: FastAPI, username: str) -> None:
    ticket_id = add_ticket(app)
    c = client_for(app)
    login(c, username)
    for method, path, body in TICKET_ENDPOINTS:
        r = _call(c, method, path, body, ticket_id)
        assert r.status_code == 403, (method, path)
        assert "仅限坐席、管理员" in r.json()["detail"]
    assert ticket_row(app, ticket_id).status == TicketStatus.WAITING


def test_ticket_actions_without_csrf_token_change_nothing(app: FastAPI, agent: TestClient) -> None:
    ticket_id = add_ticket(app)
    del agent.headers["X-CSRF-Token"]
    assert agent.post(f"/api/handoffs/{ticket_id}/claim").status_code == 403
    assert agent.post(f"/api/handoffs/{ticket_id}/claim", headers={"X-CSRF-Token": "x"}).status_code == 403
    assert ticket_row(app, ticket_id).status == TicketStatus.WAITING
    assert agent.get("/api/handoffs").status_code == 200


def test_admins_handle_tickets_too(app: FastAPI) -> None:
    ticket_id = add_ticket(app)
    admin = client_for(app)
    login(admin, "admin")
    assert admin.post(f"/api/handoffs/{ticket_id}/claim").json()["claimed_by"] == "admin"


# -- the queue ------------------------------------------------------------------------------------


def test_queue_is_oldest_first_with_waiting_time_sla_and_masked_data(app: FastAPI, agent: TestClient) -> None:
    fresh = add_ticket(app, sender_id="c-fresh", age_s=10)
    old = add_ticket(
        app,
        sender_id="c-old",
        age_s=200,
        reason="complaint",
        current_service="passport",
        slots={"current_service": "passport", "note": "电话13812345678"},
        candidates=[{"id": "passport", "title": "护照"}],
        transcript=[{"role": "user", "text": "我的手机13812345678"}, {"role": "bot", "text": "好的"}],
    )
    message = add_ticket(
        app, sender_id="c-msg", status=TicketStatus.LEFT_MESSAGE, age_s=500, callback_phone="13912345678"
    )
    add_ticket(app, sender_id="c-closed", status=TicketStatus.CLOSED, age_s=900)
    add_ticket(app, sender_id="c-offline", status=TicketStatus.OFFLINE, age_s=800)
    r = agent.get("/api/handoffs")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["sla_seconds"] == 180
    assert [t["id"] for t in body["data"]] == [message, old, fresh] and body["count"] == 3
    by_id = {t["id"]: t for t in body["data"]}
    assert by_id[old]["over_sla"] is True and 200 <= by_id[old]["waiting_seconds"] < 230
    assert by_id[fresh]["over_sla"] is False and by_id[fresh]["waiting_seconds"] < 60
    assert by_id[message]["over_sla"] is False  # a call-back is not a 3-minute reply
    assert by_id[old]["reason"] == "complaint" and by_id[old]["current_service"] == "passport"
    assert by_id[old]["current_service_title"]
    assert by_id[old]["candidates"] == [{"id": "passport", "title": "护照"}]
    assert by_id[old]["transcript"][0] == {"role": "user", "text": "我的手机138****5678"}
    assert "13812345678" not in r.text and "13912345678" not in r.text
    assert by_id[message]["callback_phone"] == "139****5678"


def test_queue_filters_by_status(app: FastAPI, agent: TestClient) -> None:
    closed = add_ticket(app, status=TicketStatus.CLOSED)
    offline = add_ticket(app, status=TicketStatus.OFFLINE)
    add_ticket(app)
    assert [t["id"] for t in agent.get("/api/handoffs?status=closed").json()["data"]] == [closed]
    both = agent.get("/api/handoffs", params={"status": "closed,offline"}).json()["data"]
    assert sorted(t["id"] for t in both) == sorted([closed, offline])
    r = agent.get("/api/handoffs?status=lost")
    assert r.status_code == 422 and "lost" in r.json()["detail"]


def test_unknown_ticket_is_404(agent: TestClient) -> None:
    for method, path, body in TICKET_ENDPOINTS[1:7]:
        r = _call(agent, method, path, body, 9999)
        assert r.status_code == 404, (method, path)


# -- full history ---------------------------------------------------------------------------------


def test_ticket_shows_transcript_then_every_message_since(app: FastAPI, agent: TestClient) -> None:
    conversations = app.state.conversations
    conversations.add("c1", "user", {"type": "text", "text": "很早以前的问题"})  # before the ticket
    ticket_id = add_ticket(
        app,
        sender_id="c1",
        transcript=[{"role": "user", "text": "护照怎么办"}, {"role": "bot", "text": "请看办事指南"}],
    )
    conversations.add("c1", "bot", {"type": "text", "text": "正在为您转接12345人工客服，请稍候。"})
    conversations.add("c1", "user", {"type": "text", "text": "我的身份证430602199001011234"})
    r = agent.get(f"/api/handoffs/{ticket_id}")
    assert r.status_code == 200
    history = r.json()["history"]
    assert [(h["role"], h["text"]) for h in history] == [
        ("user", "护照怎么办"),
        ("bot", "请看办事指南"),
        ("bot", "正在为您转接12345人工客服，请稍候。"),
        ("user", "我的身份证430***********1234"),
    ]
    assert history[0]["id"] is None and history[-1]["id"] > history[-2]["id"]
    assert "很早以前" not in r.text


def test_only_the_holder_sees_the_full_callback_number(
    app: FastAPI, agent: TestClient, second_agent: TestClient
) -> None:
    ticket_id = add_ticket(app, status=TicketStatus.LEFT_MESSAGE, callback_phone="0730-1234567")
    assert agent.get(f"/api/handoffs/{ticket_id}").json()["callback_phone_full"] is None
    assert agent.post(f"/api/handoffs/{ticket_id}/claim").status_code == 200
    mine = agent.get(f"/api/handoffs/{ticket_id}").json()
    assert mine["callback_phone_full"] == "0730-1234567" and mine["callback_phone"] == "073****4567"
    theirs = second_agent.get(f"/api/handoffs/{ticket_id}")
    assert theirs.json()["callback_phone_full"] is None and "1234567" not in theirs.text


# -- claim ----------------------------------------------------------------------------------------


def test_claim_takes_a_waiting_ticket_and_tells_the_citizen(app: FastAPI, agent: TestClient) -> None:
    ticket_id = add_ticket(app, sender_id="c1", age_s=30)
    r = agent.post(f"/api/handoffs/{ticket_id}/claim")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "active" and body["claimed_by"] == "agent1" and body["claimed_at"]
    assert 30 <= body["waiting_seconds"] < 60
    notice = feed(agent, "c1")[-1]
    assert notice["type"] == "handoff" and notice["status"] == "active" and notice["agent"] == "agent1"


def test_a_claimed_ticket_cannot_be_claimed_again(
    app: FastAPI, agent: TestClient, second_agent: TestClient
) -> None:
    ticket_id = add_ticket(app)
    assert agent.post(f"/api/handoffs/{ticket_id}/claim").status_code == 200
    r = second_agent.post(f"/api/handoffs/{ticket_id}/claim")
    assert r.status_code == 409 and "agent1" in r.json()["detail"]
    assert agent.post(f"/api/handoffs/{ticket_id}/claim").status_code == 409
    assert ticket_row(app, ticket_id).claimed_by == "agent1"


@pytest.mark.parametrize("status", [TicketStatus.CLOSED, TicketStatus.OFFLINE])
def test_closed_and_offline_tickets_cannot_be_claimed(
    app: FastAPI, agent: TestClient, status: TicketStatus
) -> None:
    ticket_id = add_ticket(app, status=status)
    assert agent.post(f"/api/handoffs/{ticket_id}/claim").status_code == 409
    assert ticket_row(app, ticket_id).status == status


def test_two_agents_claiming_at_once_exactly_one_wins(app: FastAPI, second_agent: TestClient) -> None:
    agents = [client_for(app), second_agent]
    login(agents[0], "agent1")
    for _round in range(5):
        ticket_id = add_ticket(app)
        start = threading.Barrier(len(agents))
        codes: list[int] = []

        def claim(
            c: TestClient,
            ticket_id: int = ticket_id,
            start: threading.Barrier = start,
            codes: list[int] = codes,
        ) -> None:
            start.wait()
            codes.append(c.post(f"/api/handoffs/{ticket_id}/claim").status_code)

        threads = [threading.Thread(target=claim, args=(c,)) for c in agents]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(codes) == [200, 409]
        assert ticket_row(app, ticket_id).claimed_by in ("agent1", "agent2")


# -- reply ----------------------------------------------------------------------------------------


def test_the_holder_replies_and_the_citizen_feed_has_it(app: FastAPI, agent: TestClient) -> None:
    ticket_id = add_ticket(app, sender_id="c1")
    agent.post(f"/api/handoffs/{ticket_id}/claim")
    cursor = feed(agent, "c1")[-1]["id"]
    r = agent.post(f"/api/handoffs/{ticket_id}/messages", json={"text": "  您好，请留下手机13812345678  "})
    assert r.status_code == 200
    sent = r.json()["message"]
    assert sent["role"] == "agent" and sent["agent"] == "agent1" and sent["id"] > cursor
    new = feed(agent, "c1", after=cursor)
    assert [(m["role"], m["text"], m["agent"]) for m in new] == [
        ("agent", "您好，请留下手机138****5678", "agent1")
    ]
    history = agent.get(f"/api/handoffs/{ticket_id}").json()["history"]
    assert history[-1]["role"] == "agent" and history[-1]["agent"] == "agent1"


def test_only_the_holder_can_reply(app: FastAPI, agent: TestClient, second_agent: TestClient) -> None:
    ticket_id = add_ticket(app, sender_id="c1")
    r = agent.post(f"/api/handoffs/{ticket_id}/messages", json={"text": "还没接入"})
    assert r.status_code == 409  # waiting: claim first
    agent.post(f"/api/handoffs/{ticket_id}/claim")
    r = second_agent.post(f"/api/handoffs/{ticket_id}/messages", json={"text": "我来回答"})
    assert r.status_code == 403 and "agent1" in r.json()["detail"]
    admin = client_for(app)
    login(admin, "admin")
    assert admin.post(f"/api/handoffs/{ticket_id}/messages", json={"text": "x"}).status_code == 403
    assert [m for m in feed(agent, "c1") if m["role"] == "agent"] == []


@pytest.mark.parametrize("body", [{"text": ""}, {"text": "   "}, {}, {"text": "长" * 4001}])
def test_reply_validation(app: FastAPI, agent: TestClient, body: dict[str, Any]) -> None:
    ticket_id = add_ticket(app)
    agent.post(f"/api/handoffs/{ticket_id}/claim")
    assert agent.post(f"/api/handoffs/{ticket_id}/messages", json=body).status_code == 422


# -- the bot stays silent while a ticket is open, and answers again after close ---------------------


def test_takeover_round_trip_through_the_citizen_chat(
    app: FastAPI, agent: TestClient, rasa: StubRasa
) -> None:
    citizen = client_for(app)
    bind(citizen, "c1")
    ticket_id = add_ticket(app, sender_id="c1")
    r = citizen.post("/api/chat", json={"sender_id": "c1", "message": "有人吗"})
    assert r.json() == {"messages": [], "handoff": True, "degraded": False} and rasa.sent == []
    agent.post(f"/api/handoffs/{ticket_id}/claim")
    citizen.post("/api/chat", json={"sender_id": "c1", "message": "我想问护照"})
    assert rasa.sent == []  # held: the bot is silent
    history = agent.get(f"/api/handoffs/{ticket_id}").json()["history"]
    assert [h["text"] for h in history if h["role"] == "user"][-2:] == ["有人吗", "我想问护照"]
    agent.post(f"/api/handoffs/{ticket_id}/messages", json={"text": "护照请到出入境窗口办理"})
    r = agent.post(f"/api/handoffs/{ticket_id}/close", json={"resolution": "answered"})
    assert r.status_code == 200 and r.json()["bot_resumed"] is True
    assert rasa.resumed == ["c1"]
    messages = feed(citizen, "c1")
    assert [m.get("status") for m in messages if m["type"] == "handoff"] == ["active", "closed"]
    r = citizen.post("/api/chat", json={"sender_id": "c1", "message": "那要多久"})
    assert r.json()["handoff"] is False and rasa.sent == [("c1", "那要多久")]


def test_the_citizen_can_stop_waiting_and_the_bot_answers_again(app: FastAPI, rasa: StubRasa) -> None:
    citizen = client_for(app)
    bind(citizen, "c1")
    ticket_id = add_ticket(app, sender_id="c1")
    r = citizen.post("/api/chat/c1/handoff/cancel")
    assert r.status_code == 200 and r.json()["ticket_id"] == ticket_id and r.json()["bot_resumed"] is True
    assert rasa.resumed == ["c1"]
    row = ticket_row(app, ticket_id)
    assert row.status == TicketStatus.CLOSED and row.resolution == "cancelled" and row.closed_at is not None
    assert feed(citizen, "c1")[-1]["status"] == "cancelled"
    r = citizen.post("/api/chat", json={"sender_id": "c1", "message": "护照怎么办"})
    assert r.json()["handoff"] is False and rasa.sent == [("c1", "护照怎么办")]
    assert citizen.post("/api/chat/c1/handoff/cancel").status_code == 409  # nothing waits any more


def test_once_an_agent_has_taken_over_the_citizen_cannot_cancel(
    app: FastAPI, agent: TestClient, rasa: StubRasa
) -> None:
    ticket_id = add_ticket(app, sender_id="c1")
    agent.post(f"/api/handoffs/{ticket_id}/claim")
    citizen = client_for(app)
    bind(citizen, "c1")
    r = citizen.post("/api/chat/c1/handoff/cancel")
    assert r.status_code == 409 and "客服可能已经接入" in r.json()["detail"]
    assert ticket_row(app, ticket_id).status == TicketStatus.ACTIVE and rasa.resumed == []


# -- release --------------------------------------------------------------------------------------


def test_release_puts_the_ticket_back_in_the_queue(app: FastAPI, agent: TestClient, rasa: StubRasa) -> None:
    ticket_id = add_ticket(app, sender_id="c1")
    agent.post(f"/api/handoffs/{ticket_id}/claim")
    r = agent.post(f"/api/handoffs/{ticket_id}/release")
    assert r.status_code == 200
    assert (
        r.json()["status"] == "waiting" and r.json()["claimed_by"] is None and r.json()["claimed_at"] is None
    )
    assert feed(agent, "c1")[-1]["status"] == "waiting"
    assert rasa.resumed == []  # still with the humans
    assert agent.post(f"/api/handoffs/{ticket_id}/claim").status_code == 200  # claimable again


def test_release_of_a_left_message_ticket_keeps_it_for_call_back(app: FastAPI, agent: TestClient) -> None:
    ticket_id = add_ticket(app, status=TicketStatus.LEFT_MESSAGE, callback_phone="13912345678")
    assert agent.post(f"/api/handoffs/{ticket_id}/claim").json()["status"] == "active"
    assert agent.post(f"/api/handoffs/{ticket_id}/release").json()["status"] == "left-message"


def test_release_rules(app: FastAPI, agent: TestClient, second_agent: TestClient) -> None:
    ticket_id = add_ticket(app)
    assert agent.post(f"/api/handoffs/{ticket_id}/release").status_code == 409  # not held
    agent.post(f"/api/handoffs/{ticket_id}/claim")
    assert second_agent.post(f"/api/handoffs/{ticket_id}/release").status_code == 403
    admin = client_for(app)
    login(admin, "admin")
    assert admin.post(f"/api/handoffs/{ticket_id}/release").json()["status"] == "waiting"  # supervisor


# -- close ----------------------------------------------------------------------------------------


def test_close_records_the_resolution(app: FastAPI, agent: TestClient) -> None:
    ticket_id = add_ticket(app, sender_id="c1")
    agent.post(f"/api/handoffs/{ticket_id}/claim")
    r = agent.post(f"/api/handoffs/{ticket_id}/close", json={"resolution": "complaint_filed"})
    body = r.json()
    assert body["status"] == "closed" and body["resolution"] == "complaint_filed" and body["closed_at"]
    notice = feed(agent, "c1")[-1]
    assert notice["role"] == "system" and notice["type"] == "handoff" and notice["status"] == "closed"
    assert agent.post(f"/api/handoffs/{ticket_id}/close", json={"resolution": "other"}).status_code == 409
    assert agent.post(f"/api/handoffs/{ticket_id}/release").status_code == 409
    assert agent.post(f"/api/handoffs/{ticket_id}/claim").status_code == 409
    closed = agent.get("/api/handoffs?status=closed").json()["data"]
    assert [t["id"] for t in closed] == [ticket_id]
    assert agent.get(f"/api/handoffs/{ticket_id}").json()["history"][-1]["text"].startswith("人工服务已结束")


@pytest.mark.parametrize("body", [{"resolution": "solved?"}, {}, {"resolution": ""}])
def test_close_needs_a_known_resolution(app: FastAPI, agent: TestClient, body: dict[str, Any]) -> None:
    ticket_id = add_ticket(app)
    agent.post(f"/api/handoffs/{ticket_id}/claim")
    assert agent.post(f"/api/handoffs/{ticket_id}/close", json=body).status_code == 422
    assert ticket_row(app, ticket_id).status == TicketStatus.ACTIVE


def test_close_rules(app: FastAPI, agent: TestClient, second_agent: TestClient) -> None:
    ticket_id = add_ticket(app)
    assert agent.post(f"/api/handoffs/{ticket_id}/close", json={"resolution": "answered"}).status_code == 409
    agent.post(f"/api/handoffs/{ticket_id}/claim")
    r = second_agent.post(f"/api/handoffs/{ticket_id}/close", json={"resolution": "answered"})
    assert r.status_code == 403
    admin = client_for(app)
    login(admin, "admin")
    assert admin.post(f"/api/handoffs/{ticket_id}/close", json={"resolution": "other"}).status_code == 200


def test_close_still_closes_when_rasa_is_down(
    app: FastAPI, agent: TestClient, rasa: StubRasa, caplog: pytest.LogCaptureFixture
) -> None:
    ticket_id = add_ticket(app, sender_id="c1")
    agent.post(f"/api/handoffs/{ticket_id}/claim")
    rasa.up = False
    r = agent.post(f"/api/handoffs/{ticket_id}/close", json={"resolution": "no_response"})
    assert r.status_code == 200 and r.json()["status"] == "closed" and r.json()["bot_resumed"] is False
    assert any("did not resume" in rec.getMessage() for rec in caplog.records)


def test_the_documented_resolutions_match_the_console() -> None:
    assert set(RESOLUTIONS) == set(get_args(Resolution))
    from web.labels import labels  # the console's 结束原因 options: GET /api/schema/labels

    assert {k: v for k, v in labels().resolutions.items() if k in RESOLUTIONS} == RESOLUTIONS


# -- suggested answers and phone assist -----------------------------------------------------------


def test_suggestions_follow_the_citizens_last_messages(app: FastAPI, agent: TestClient) -> None:
    ticket_id = add_ticket(app, sender_id="c1", transcript=[{"role": "user", "text": "转人工"}])
    app.state.conversations.add("c1", "user", {"type": "text", "text": "/request_human"})
    app.state.conversations.add("c1", "user", {"type": "text", "text": "孩子刚出生，要给宝宝上户口"})
    r = agent.get(f"/api/handoffs/{ticket_id}/suggestions")
    assert r.status_code == 200
    results = r.json()["results"]
    # only what the conversation was clearly about: 转人工 (the handoff request) is about no service, and
    # entries that merely score something for 上户口 (everything does in a dense index) are left out
    assert [s["id"] for s in results] == ["newborn-birth"]
    first = results[0]
    assert first["basis"] == "市民说：“孩子刚出生，要给宝宝上户口”" and first["current"] is False
    assert first["text"].startswith("【新生儿出生一件事】一次性告知") and "申请材料" in first["text"]
    assert first["speech"].startswith("您要办的是新生儿出生一件事") and "样材料" in first["speech"]
    assert first["guide_url"] == "/guide/newborn-birth"
    assert {s["id"] for s in first["situations"]} >= {"parents_married"}
    assert all(s["question"] and s["options"] for s in first["situations"])


def test_suggestions_put_the_bots_current_service_first_with_its_answers(
    app: FastAPI, agent: TestClient
) -> None:
    ticket_id = add_ticket(
        app,
        sender_id="c1",
        current_service="newborn-birth",
        slots={"current_service": "newborn-birth", "situations": {"parents_married": "yes"}},
        transcript=[{"role": "user", "text": "我要投诉"}],
    )
    first = agent.get(f"/api/handoffs/{ticket_id}/suggestions").json()["results"][0]
    assert first["id"] == "newborn-birth" and first["current"] is True
    assert "parents_married" not in {s["id"] for s in first["situations"]}  # already answered
    assert "非婚生育说明" not in first["text"]  # tailored to the answer


def test_the_current_service_carries_the_score_the_bot_gave_it_above_unrelated_entries(
    app: FastAPI, agent: TestClient
) -> None:
    """The conversation's own service comes first with the score the bot gave it, not 匹配度 0% below
    unrelated entries."""
    ticket_id = add_ticket(
        app,
        sender_id="c9",
        current_service="newborn-birth",
        candidates=[{"id": "newborn-birth", "title": "新生儿出生一件事", "score": 0.93}],
        transcript=[
            {"role": "user", "text": "宝宝刚出生要办什么手续"},
            {"role": "user", "text": '/choose_option{"option":"yes"}'},
            {"role": "user", "text": "转人工"},
        ],
    )
    results = agent.get(f"/api/handoffs/{ticket_id}/suggestions").json()["results"]
    assert results[0]["id"] == "newborn-birth" and results[0]["current"] is True
    assert results[0]["score"] >= 0.9
    assert results[0]["basis"] == "智能助手正在为市民解答的事项"
    # 转人工 is not searched (it scored 社保关系转移 74%): nothing about transfers is suggested
    assert all(r["score"] <= results[0]["score"] for r in results)
    assert "social-insurance-transfer" not in [r["id"] for r in results]


def test_the_ticket_shows_what_the_citizen_saw_and_chose(app: FastAPI, agent: TestClient) -> None:
    """Button clicks and situation answers read as the citizen saw them: the button titles, not payloads."""
    app.state.conversations.add(
        "c8",
        "bot",
        {
            "type": "buttons",
            "text": "（1/3）宝宝的父母是否已经登记结婚？",
            "buttons": [
                {"title": "是", "payload": '/choose_option{"option":"yes"}'},
                {"title": "否", "payload": '/choose_option{"option":"no"}'},
            ],
        },
    )
    ticket_id = add_ticket(
        app,
        sender_id="c8",
        current_service="newborn-birth",
        slots={
            "current_service": "newborn-birth",
            "situations": {"parents_married": "yes", "registered_with": "mother"},
            "requested_part": "materials",
        },
        transcript=[
            {"role": "user", "text": "宝宝刚出生要办什么手续"},
            {"role": "user", "text": '/choose_option{"option": "yes"}'},
            {"role": "user", "text": '/choose_option{"option":"mother"}'},  # not in the stored buttons
            {"role": "user", "text": "/request_human"},
        ],
    )
    app.state.conversations.add("c8", "user", {"type": "text", "text": '/choose_option{"option":"no"}'})
    body = agent.get(f"/api/handoffs/{ticket_id}").json()
    said = [h["text"] for h in body["history"] if h["role"] == "user"]
    assert said == ["宝宝刚出生要办什么手续", "〔点选〕是", "〔点选〕随母亲", "〔点选〕转人工", "〔点选〕否"]
    assert body["filled"] == [
        {"label": "宝宝的父母是否已经登记结婚？", "value": "是"},
        {"label": "宝宝随谁落户？", "value": "随母亲"},
        {"label": "想了解", "value": "申请材料"},
    ]


def test_a_left_message_is_in_the_ticket(app: FastAPI, agent: TestClient) -> None:
    ticket_id = add_ticket(
        app,
        sender_id="c7",
        status=TicketStatus.LEFT_MESSAGE,
        callback_phone="13812345678",
        transcript=[
            {"role": "user", "text": "转人工"},
            {"role": "user", "text": "想问公租房什么时候能排到", "kind": "left_message"},
        ],
    )
    listed = next(t for t in agent.get("/api/handoffs").json()["data"] if t["id"] == ticket_id)
    assert listed["left_message"] == "想问公租房什么时候能排到"
    assert listed["callback_phone"] == "138****5678"
    # the left message says what it is about: it is searched; 转人工 is not
    results = agent.get(f"/api/handoffs/{ticket_id}/suggestions").json()["results"]
    assert results and results[0]["id"] == "public-rental-housing"


def test_phone_assist_returns_the_read_aloud_checklist_and_questions(agent: TestClient) -> None:
    r = agent.post("/api/assist", json={"text": "公租房谁能申请"})
    assert r.status_code == 200
    body = r.json()
    assert body["query"] == "公租房谁能申请" and body["answerable"] is True
    assert len(body["results"]) == 3 and body["results"][0]["id"] == "public-rental-housing"
    top = body["results"][0]
    assert top["speech"].startswith("您要办的是") and top["text"] and top["title"]
    assert isinstance(top["situations"], list) and isinstance(top["score"], float)


@pytest.mark.parametrize(
    ("body", "status"), [({"text": ""}, 422), ({"text": "  "}, 422), ({"text": "长" * 501}, 413)]
)
def test_phone_assist_validation(agent: TestClient, body: dict[str, Any], status: int) -> None:
    assert agent.post("/api/assist", json=body).status_code == status


# -- presence: agents count as online while their console polls ------------------------------------


def test_polling_the_queue_makes_agents_available_and_logout_ends_it(app: FastAPI) -> None:
    settings, sessions = app.state.settings, app.state.conversations.sessions
    assert agent_availability(settings, sessions) == "no_agent_online"
    editor = client_for(app)
    login(editor, "editor1")
    agent = client_for(app)
    login(agent, "agent1")
    assert agent_availability(settings, sessions) == "no_agent_online"  # logged in is not enough
    agent.get("/api/handoffs")
    assert agent_availability(settings, sessions) == "available"
    closed_hours = settings.model_copy(update={"agent_hours": HoursSpec.parse("00:00-00:00")})
    assert agent_availability(closed_hours, sessions) == "outside_hours"
    agent.post("/api/auth/logout")
    assert agent_availability(settings, sessions) == "no_agent_online"


# -- the console page -----------------------------------------------------------------------------


def test_the_console_page_is_served_with_a_strict_policy(client: TestClient) -> None:
    r = client.get("/agent")
    assert r.status_code == 200 and "坐席工作台" in r.text
    assert r.headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    for element_id in ("login-username", "login-password", "login-submit", "queue", "claim", "release"):
        assert f'id="{element_id}"' in r.text
    for element_id in ("close", "resolution", "reply", "send", "assist-input", "assist-results"):
        assert f'id="{element_id}"' in r.text
    assert '<script type="module" src="/static/agent/agent.js">' in r.text
    for asset in (
        "agent/agent.js",
        "agent/agent.css",
        "lib/api.js",
        "lib/auth.js",
        "lib/dom.js",
        "lib/labels.js",
    ):
        assert client.get(f"/static/{asset}").status_code == 200
    script = "".join(
        client.get(f"/static/{m}").text
        for m in ("agent/agent.js", "lib/api.js", "lib/auth.js", "lib/labels.js")
    )
    assert not re.search(r"\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|eval\(", script)
    assert not re.search(r"https?://", script + r.text)  # no CDN, nothing from elsewhere


def test_the_api_is_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/auth/login",
        "/api/auth/logout",
        "/api/auth/me",
        "/api/handoffs",
        "/api/handoffs/{ticket_id}",
        "/api/handoffs/{ticket_id}/claim",
        "/api/handoffs/{ticket_id}/messages",
        "/api/handoffs/{ticket_id}/release",
        "/api/handoffs/{ticket_id}/close",
        "/api/handoffs/{ticket_id}/suggestions",
        "/api/assist",
    ):
        assert path in paths, path


# -- handing back to Rasa -------------------------------------------------------------------------


def test_resume_unpauses_rasa_and_makes_it_listen() -> None:
    """After ``action_handoff`` paused the tracker, Rasa must be resumed *and* listening: without the
    ``action_listen`` the next message misses every rule and the fallback hands straight back to a human
    (seen with the real Rasa 3.6)."""
    import asyncio
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from web.rasa import RasaClient

    received: list[tuple[str, Any]] = []

    class FakeRasa(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, json.loads(body)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = RasaClient(f"http://127.0.0.1:{server.server_address[1]}", "tok", 5)

        async def resume() -> None:
            await client.resume("c1")
            await client.aclose()

        asyncio.run(resume())
    finally:
        server.shutdown()
    assert received == [
        (
            "/conversations/c1/tracker/events?token=tok",
            [{"event": "resume"}, {"event": "action", "name": "action_listen"}],
        )
    ]
