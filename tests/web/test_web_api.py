"""The citizen-facing HTTP API with Rasa isolated: limits, refusals, degraded replies, guides, 好差评."""

from __future__ import annotations

import datetime as dt
import io
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from core.accounts import UserRow
from core.db import session_factory, utcnow
from core.migrate import migrate
from core.setting_types import RateSpec
from core.settings import ROOT, Settings
from handoff.status import TicketStatus
from handoff.tables import HandoffRow
from knowledge.models import Entry, Status
from knowledge.store import EntryStore
from knowledge.tables import FeedbackRow, GapRow
from retrieval.engine import SearchEngine
from retrieval.live import LiveSearch
from tests.staff import StubRasa, bind
from web.app import create_app
from web.rasa import RasaClient

XSS_IMG = '<img src=x onerror="window.__xss=1">'
XSS_SCRIPT = "<script>window.__xss=1</script>"

MakeClient = Callable[..., TestClient]


@pytest.fixture
def make_client(settings: Settings, engine: SearchEngine) -> Iterator[MakeClient]:
    """Build the real app (real engine, fresh SQLite) with Rasa stubbed unless given; setting overrides
    as keyword arguments. The lifespan is not run: the knowledge follower never starts."""
    made: list[TestClient] = []

    def make(rasa: Any = None, **overrides: Any) -> TestClient:
        s = settings.model_copy(update={"reload_interval_s": 3600.0, **overrides})
        migrate(s.database_url)
        live = LiveSearch(s, engine=engine)
        live.ready = True
        app = create_app(settings=s, live=live, rasa=rasa or StubRasa())  # type: ignore[arg-type]
        client = TestClient(app)
        bind(client, "web-test-1")  # the widget's conversation, bound to this client
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def api(make_client: MakeClient) -> TestClient:
    return make_client()


def chat(client: TestClient, message: str, sender: str = "web-test-1") -> Any:
    return client.post("/api/chat", json={"sender_id": sender, "message": message})


def rows(client: TestClient, model: Any) -> list[Any]:
    with session_factory(client.app.state.settings.database_url)() as s:  # type: ignore[attr-defined]
        return list(s.scalars(select(model).order_by(model.id)))


# -------------------------------------------------------------------- chat


def test_chat_forwards_masked_text_and_stores_the_exchange(make_client: MakeClient) -> None:
    rasa = StubRasa()
    client = make_client(rasa=rasa)
    r = chat(client, "我的手机13812345678，身份证怎么补办")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["handoff"] is False and body["degraded"] is False
    assert rasa.sent == [("web-test-1", "我的手机138****5678，身份证怎么补办")]
    feed = client.get("/api/chat/web-test-1/messages", params={"after": 0}).json()
    assert [m["role"] for m in feed["messages"]] == ["user", "bot"]
    assert "13812345678" not in str(feed) and feed["cursor"] == feed["messages"][-1]["id"]
    later = client.get("/api/chat/web-test-1/messages", params={"after": feed["cursor"]}).json()
    assert later["messages"] == [] and later["cursor"] == feed["cursor"]


def test_rate_limit_answers_429_in_chinese(make_client: MakeClient) -> None:
    client = make_client(chat_rate_limit=RateSpec(3, 60))
    for _ in range(3):
        assert chat(client, "你好").status_code == 200
    r = chat(client, "你好")
    assert r.status_code == 429
    assert "太快" in r.json()["detail"] and "12345" in r.json()["detail"]
    assert 0 < int(r.headers["Retry-After"]) <= 60


def test_over_long_message_is_refused_with_413(make_client: MakeClient) -> None:
    client = make_client(max_message_chars=50)
    assert chat(client, "长" * 50).status_code == 200
    r = chat(client, "长" * 51)
    assert r.status_code == 413
    assert "太长" in r.json()["detail"] and "50字以内" in r.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"sender_id": "a", "message": ""},
        {"sender_id": "a", "message": "   "},
        {"sender_id": "a"},
        {"message": "你好"},
        {"sender_id": "has space", "message": "你好"},
        {"sender_id": "<script>", "message": "你好"},
        {"sender_id": "a" * 121, "message": "你好"},
        {"sender_id": "a", "message": 5},
    ],
)
def test_bad_input_is_422_with_a_detail(api: TestClient, body: dict[str, Any]) -> None:
    r = api.post("/api/chat", json=body)
    assert r.status_code == 422
    assert isinstance(r.json()["detail"], str) and r.json()["detail"]


def test_invalid_json_is_422(api: TestClient) -> None:
    r = api.post("/api/chat", content=b"{oops", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "JSON" in r.json()["detail"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_rasa_gives_a_kind_reply_with_the_hotline(make_client: MakeClient) -> None:
    rasa = RasaClient(f"http://127.0.0.1:{_closed_port()}", "token", 2.0)
    client = make_client(rasa=rasa)
    r = chat(client, "身份证丢了怎么办")
    assert r.status_code == 200
    body = r.json()
    assert body["degraded"] is True and body["handoff"] is False
    [reply] = body["messages"]
    assert reply["role"] == "system" and "12345" in reply["text"]
    assert [b["title"] for b in reply["buttons"]] == ["转人工"]
    feed = client.get("/api/chat/web-test-1/messages").json()["messages"]
    assert [m["role"] for m in feed] == ["user", "system"]


class SilentRasa(StubRasa):
    """Rasa up but silent: what it answers (200 []) while the action server is down."""

    async def send(self, sender_id: str, text: str) -> list[dict[str, Any]]:
        self.sent.append((sender_id, text))
        return []


def test_an_empty_bot_reply_becomes_the_degraded_message(make_client: MakeClient) -> None:
    client = make_client(rasa=SilentRasa())
    body = chat(client, "身份证丢了怎么办").json()
    assert body["degraded"] is True
    [reply] = body["messages"]
    assert "12345" in reply["text"] and reply["buttons"][0]["payload"] == "转人工"


@pytest.mark.parametrize(("agent_online", "status"), [(True, "waiting"), (False, "offline")])
def test_asking_for_a_person_while_the_bot_is_down_opens_a_ticket(
    make_client: MakeClient, agent_online: bool, status: str
) -> None:
    rasa = StubRasa()
    rasa.up = False
    client = make_client(rasa=rasa)
    sessions = session_factory(client.app.state.settings.database_url)  # type: ignore[attr-defined]
    if agent_online:
        with sessions.begin() as s:  # an agent console polled a moment ago
            s.add(UserRow(username="agent-on-duty", password_hash="x", role="agent", last_seen=utcnow()))
    chat(client, "身份证丢了怎么办")
    body = chat(client, "转人工").json()
    assert body["degraded"] is True and body["handoff"] is agent_online
    handoff = [m for m in body["messages"] if m["type"] == "handoff"]
    assert handoff and handoff[0]["status"] == status
    with sessions() as s:
        [ticket] = s.scalars(select(HandoffRow).where(HandoffRow.sender_id == "web-test-1")).all()
    assert ticket.status == status and ticket.reason == "bot_unavailable"
    assert ticket.transcript[0] == {"role": "user", "text": "身份证丢了怎么办"}


def test_bot_is_quiet_while_a_ticket_is_open(make_client: MakeClient) -> None:
    rasa = StubRasa()
    client = make_client(rasa=rasa)
    with session_factory(client.app.state.settings.database_url).begin() as s:  # type: ignore[attr-defined]
        s.add(
            HandoffRow(sender_id="web-test-1", status=TicketStatus.WAITING, reason="explicit", transcript=[])
        )
    r = chat(client, "还在吗")
    assert r.json() == {"messages": [], "handoff": True, "degraded": False}
    assert rasa.sent == []
    assert client.get("/api/chat/web-test-1/messages").json()["handoff"] is True


@pytest.mark.parametrize("sender", ["has space", "<x>"])
def test_feed_refuses_bad_sender_ids(api: TestClient, sender: str) -> None:
    assert api.get(f"/api/chat/{sender}/messages").status_code == 422


# ---------------------------------------------------------------- callback


@pytest.mark.parametrize("phone", ["12345", "2381234567x", "138123456789", "abcdefghijk", "0730-12"])
def test_callback_refuses_a_bad_phone(api: TestClient, phone: str) -> None:
    r = api.post("/api/chat/web-test-1/callback", json={"phone": phone, "message": "请回电"})
    assert r.status_code == 422
    assert "手机号" in r.json()["detail"] or "phone" in r.json()["detail"]


@pytest.mark.parametrize("phone", ["13812345678", "138 1234 5678", "0730-8888888", "07308888888"])
def test_callback_keeps_the_number_on_the_ticket(api: TestClient, phone: str) -> None:
    with session_factory(api.app.state.settings.database_url).begin() as s:  # type: ignore[attr-defined]
        s.add(
            HandoffRow(sender_id="web-test-1", status=TicketStatus.OFFLINE, reason="explicit", transcript=[])
        )
    r = api.post("/api/chat/web-test-1/callback", json={"phone": phone, "message": "请回电，身份证的事"})
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is True and "12345" in r.json()["expect"]
    [ticket] = rows(api, HandoffRow)
    assert ticket.status == TicketStatus.LEFT_MESSAGE and ticket.callback_phone == phone.replace(" ", "")
    # marked as the left message: the agent console shows it as such (留言内容)
    assert ticket.transcript[-1] == {"role": "user", "text": "请回电，身份证的事", "kind": "left_message"}
    notice = api.get("/api/chat/web-test-1/messages").json()["messages"][-1]
    assert notice["role"] == "system" and "回电" in notice["text"]
    if phone.startswith("1"):  # a mobile number is personal data: shown masked in the transcript
        assert "13812345678" not in notice["text"] and "138****5678" in notice["text"]


# ---------------------------------------------------------------- 好差评


def test_answer_feedback_is_stored(api: TestClient) -> None:
    chat(api, "身份证丢了，手机13812345678")
    bot = api.get("/api/chat/web-test-1/messages").json()["messages"][-1]
    ok = api.post(
        "/api/feedback",
        json={"sender_id": "web-test-1", "message_id": bot["id"], "entry_id": "id-card", "useful": True},
    )
    assert ok.status_code == 200 and ok.json() == {"ok": True}
    bad = api.post("/api/feedback", json={"sender_id": "web-test-1", "entry_id": "id-card", "useful": False})
    assert bad.status_code == 200
    stored = [(r.kind, r.entry_id, r.message_id, r.rating) for r in rows(api, FeedbackRow)]
    assert stored == [("answer", "id-card", bot["id"], 1), ("answer", "id-card", None, 0)]
    # an unhelpful answer becomes a knowledge gap for editors, masked
    [gap] = rows(api, GapRow)
    assert gap.reason == "unhelpful" and gap.top_entry == "id-card"
    assert "13812345678" not in gap.question and "138****5678" in gap.question


def test_feedback_on_an_unknown_message_is_kept_without_the_link(api: TestClient) -> None:
    r = api.post("/api/feedback", json={"sender_id": "web-test-1", "message_id": 999, "useful": True})
    assert r.status_code == 200
    assert [r.message_id for r in rows(api, FeedbackRow)] == [None]


def test_conversation_rating_is_stored_masked(api: TestClient) -> None:
    r = api.post(
        "/api/rating", json={"sender_id": "web-test-1", "score": 2, "comment": "等太久，回电13812345678"}
    )
    assert r.status_code == 200
    [row] = rows(api, FeedbackRow)
    assert (row.kind, row.rating, row.entry_id) == ("conversation", 2, None)
    assert row.comment == "等太久，回电138****5678"


@pytest.mark.parametrize(
    "body",
    [
        {"sender_id": "web-test-1", "score": 0},
        {"sender_id": "web-test-1", "score": 6},
        {"sender_id": "web-test-1"},
        {"sender_id": "web-test-1", "score": 3, "comment": "长" * 501},
        {"sender_id": "bad id", "score": 3},
    ],
)
def test_bad_rating_is_422(api: TestClient, body: dict[str, Any]) -> None:
    assert api.post("/api/rating", json=body).status_code == 422
    assert rows(api, FeedbackRow) == []


# ------------------------------------------------------------------ guides


def _xss_entry() -> Entry:
    return Entry.model_validate(
        {
            "id": "xss-guide",
            "title": f"安全测试{XSS_SCRIPT}",
            "kind": "matter",
            "category": "测试",
            "audience": ["个人"],
            "summary": f"摘要{XSS_IMG}",
            "conditions": [XSS_SCRIPT],
            "materials": [{"name": f"材料{XSS_IMG}", "notes": XSS_SCRIPT}],
            "steps": [{"title": f"步骤{XSS_IMG}"}],
            "location": {"window": XSS_IMG, "map_url": "javascript:alert(1)"},
            "source": f"来源{XSS_SCRIPT}",
            "reviewed_at": dt.date(2024, 1, 1),
        }
    )


def test_guide_page_escapes_entry_content(
    api: TestClient, engine: SearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(engine.entries, "xss-guide", _xss_entry())
    r = api.get("/guide/xss-guide")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "<script>window" not in page and "<img src=x" not in page
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;" in page
    assert "javascript:" not in page
    assert page.count("<img ") == 1 and "/guide/xss-guide/qr.png" in page


def test_guide_of_an_entry_just_published_is_served_before_the_index_follows(api: TestClient) -> None:
    state = api.app.state  # type: ignore[attr-defined]
    store = EntryStore(session_factory(state.settings.database_url))
    entry = _xss_entry().model_copy(update={"id": "fresh-entry", "title": "刚发布的事项"})
    store.import_entries([entry, entry.model_copy(update={"id": "draft-entry", "status": Status.draft})])
    assert "fresh-entry" not in state.live.engine.entries
    assert api.get("/guide/fresh-entry").status_code == 200
    assert api.get("/guide/fresh-entry/qr.png").status_code == 200
    assert api.get("/guide/draft-entry").status_code == 404


def test_guide_page_is_the_full_checklist(api: TestClient) -> None:
    r = api.get("/guide/newborn-birth")
    assert r.status_code == 200
    for part in ("申请材料", "办理流程", "办理时限", "收费标准", "办理地点", "咨询电话", "示例数据，待核实"):
        assert part in r.text, part
    assert "审核日期" not in r.text  # a sample entry nobody approved shows no review date
    assert "/static/guide.css" in r.text


@pytest.mark.parametrize("path", ["/guide/no-such-entry", "/guide/no-such-entry/qr.png"])
def test_unknown_guide_is_404_in_chinese(api: TestClient, path: str) -> None:
    r = api.get(path)
    assert r.status_code == 404 and "没有找到" in r.json()["detail"]


def test_unknown_guide_id_is_not_reflected_as_html(api: TestClient) -> None:
    r = api.get("/guide/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")


def test_unknown_guide_is_a_page_for_a_browser(api: TestClient) -> None:
    """An old QR code or a typo: a page with a way on, not raw JSON; the id is never echoed."""
    r = api.get("/guide/%3Cscript%3Ealert(1)%3C%2Fscript%3E", headers={"accept": "text/html,*/*;q=0.8"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "没有找到这份办事指南" in r.text and "href='/guides'" in r.text and "12345" in r.text
    assert "<script>alert" not in r.text and "alert(1)" not in r.text


def test_guide_link_with_answers_is_the_citizens_checklist(api: TestClient) -> None:
    general = api.get("/guide/newborn-birth").text
    assert "按您的情况生成" not in general
    r = api.get(
        "/guide/newborn-birth", params={"parents_married": "no", "bogus": "1", "registered_with": "x"}
    )
    assert r.status_code == 200
    assert "按您的情况生成" in r.text and "宝宝的父母是否已经登记结婚：否" in r.text
    assert "src='/guide/newborn-birth/qr.png?parents_married=no'" in r.text  # the QR code is theirs too
    assert "结婚证" in general and "结婚证" not in r.text.split("按您的情况生成")[1]


def test_guide_qr_encodes_the_answers(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from web.routes import guide

    encoded: list[str] = []

    def fake_qr(url: str) -> bytes:
        encoded.append(url)
        return b"png"

    monkeypatch.setattr(guide, "qr_png", fake_qr)
    api.get("/guide/newborn-birth/qr.png", params={"parents_married": "no", "site": "pingjiang", "x": "y"})
    assert [u.split("/guide/", 1)[1] for u in encoded] == ["newborn-birth?parents_married=no&site=pingjiang"]


def test_guide_qr_is_a_png(api: TestClient) -> None:
    r = api.get("/guide/newborn-birth/qr.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content.startswith(b"\x89PNG\r\n\x1a\n")
    img = Image.open(io.BytesIO(r.content))
    assert img.format == "PNG" and img.size[0] == img.size[1] >= 100


def test_demo_page_embeds_the_widget_with_local_assets(api: TestClient) -> None:
    page = api.get("/").text
    assert '<script src="/static/widget.js"' in page
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    assert api.get("/static/widget.js").status_code == 200
    assert api.get("/static/widget.css").status_code == 200
    assert api.get("/static/guide.css").status_code == 200


# ------------------------------------------------------------------ config


def test_the_widget_reads_the_bureaus_settings_from_api_config(make_client: MakeClient) -> None:
    client = make_client(hotline="0730-12345", max_message_chars=300, agent_hours="20:00-08:00")
    client.cookies.clear()  # public: no session needed
    r = client.get("/api/config")
    assert r.status_code == 200 and "max-age" in r.headers["cache-control"]
    assert r.json() == {
        "hotline": "0730-12345",
        "max_message_chars": 300,
        "agent_hours": "20:00-08:00",
        "timezone": "Asia/Shanghai",
    }
    # the source of the widget bundle
    widget = (ROOT / "web" / "static" / "widget" / "index.js").read_text(encoding="utf-8")
    assert "'/api/config'" in widget and "c.hotline" in widget and "c.max_message_chars" in widget
