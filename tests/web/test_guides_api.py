"""The bureau's guides over HTTP: the bureau profile, the 办事攻略 catalogue and /guides page (following what is
published), and chat answers for the citizen's 分站点 with the fallback to the city hall."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from core.db import session_factory
from core.migrate import migrate
from core.settings import Settings
from embeddings.cache import CachedEncoder
from embeddings.encoders import load_encoder
from knowledge.models import Entry
from knowledge.render import card
from knowledge.store import EntryStore
from knowledge.workflow import Actor, Workflow
from retrieval.engine import SearchEngine
from retrieval.live import LiveSearch, engine_params
from retrieval.text import Lexicon
from tests.staff import StubRasa, start_conversation
from web.app import create_app


def test_bureau_profile_is_public(client: TestClient) -> None:
    r = client.get("/api/bureau")
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "岳阳市行政审批服务局" and body["hotline"] == "12345"
    ids = [s["id"] for s in body["sites"]]
    assert ids[0] == "city" and "pingjiang" in ids and len(ids) == 14


def test_catalogue_api(client: TestClient, seed_entries: list[Entry]) -> None:
    body = client.get("/api/guides").json()
    assert body["count"] == len(seed_entries) and body["site"] == "city"
    keys = [g["key"] for g in body["featured"]]
    assert keys[:2] == ["yijianshi", "province_first"]
    assert [v["key"] for v in body["views"]] == ["life_event", "enterprise_stage", "department"]
    county = client.get("/api/guides", params={"site": "pingjiang"}).json()
    assert county["site"] == "pingjiang" and county["site_name"] == "平江县分站点"
    assert client.get("/api/guides", params={"site": "atlantis"}).status_code == 404
    assert client.get("/api/guides", params={"site": "<x>"}).status_code == 422


def test_guides_page_lists_every_guide_with_its_qr(client: TestClient, seed_entries: list[Entry]) -> None:
    r = client.get("/guides")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "岳阳市行政审批服务局" in page and "一事一码" in page
    for e in seed_entries:
        assert page.count(f"src='/guide/{e.id}/qr.png'") == 1, e.id
        assert f"href='/guide/{e.id}'" in page
    qr = client.get("/guide/enterprise-opening/qr.png")
    assert qr.status_code == 200 and qr.content[:4] == b"\x89PNG"


def test_guide_page_for_a_site(client: TestClient) -> None:
    page = client.get("/guide/enterprise-opening", params={"site": "pingjiang"}).text
    assert "平江县分站点" in page and "示例数据，待核实" in page
    assert "平江县分站点" not in client.get("/guide/enterprise-opening").text


def test_contact_for_a_site(client: TestClient) -> None:
    body = client.get("/api/guides/newborn-birth/contact", params={"site": "huarong"}).json()
    assert body["site"] == "huarong" and body["site_name"] == "华容县分站点"
    lines = [line for s in body["sections"] for line in s["lines"]]
    assert "地址：请拨打12345咨询" in lines
    city = client.get("/api/guides/newborn-birth/contact").json()
    assert city["site"] == "city" and "ask_site" in city
    assert client.get("/api/guides/no-such-entry/contact").status_code == 404


class CardRasa(StubRasa):
    """Answers every question with the city card of one entry, as the action server does."""

    def __init__(self, entry: Entry) -> None:
        super().__init__()
        self.entry = entry

    async def send(self, sender_id: str, text: str) -> list[dict[str, Any]]:
        self.sent.append((sender_id, text))
        return [{"custom": card(self.entry, ["location", "phone"])}]


@pytest.fixture
def card_rasa(rasa: StubRasa, seed_entries: list[Entry]) -> CardRasa:
    return CardRasa(next(e for e in seed_entries if e.id == "enterprise-opening"))


@pytest.fixture
def site_client(settings: Settings, engine: SearchEngine, card_rasa: CardRasa) -> Iterator[TestClient]:
    live = LiveSearch(settings.model_copy(update={"reload_interval_s": 3600.0}), engine=engine)
    live.ready = True
    application = create_app(settings=settings, live=live, rasa=card_rasa)  # type: ignore[arg-type]
    with TestClient(application) as c:
        yield c


def _card(reply: dict[str, Any]) -> dict[str, Any]:
    return next(m for m in reply["messages"] if m.get("type") == "card")


def test_chat_answers_where_for_the_widgets_site(site_client: TestClient) -> None:
    sender = start_conversation(site_client)  # as the widget does: a conversation bound to this client
    reply = site_client.post(
        "/api/chat", json={"sender_id": sender, "message": "企业开办在哪里办", "site": "pingjiang"}
    ).json()
    c = _card(reply)
    assert c["site"] == "pingjiang" and "ask_site" not in c
    location = next(s for s in c["sections"] if s["key"] == "location")
    assert location["site"] == "pingjiang" and "地点：平江县分站点" in location["lines"]
    # stored as shown: the history replays the site's answer
    history = site_client.get(f"/api/chat/{sender}/messages").json()["messages"]
    assert any(m.get("type") == "card" and m.get("site") == "pingjiang" for m in history)


def test_chat_without_a_site_falls_back_to_the_city_and_asks(site_client: TestClient) -> None:
    for body in ({}, {"site": "atlantis"}):
        reply = site_client.post(
            "/api/chat", json={"sender_id": "site-2", "message": "在哪里办", **body}
        ).json()
        c = _card(reply)
        assert c["site"] == "city"
        assert "地点：岳阳市政务服务中心" in next(s for s in c["sections"] if s["key"] == "location")["lines"]
        assert [o["id"] for o in c["ask_site"]["options"]][:2] == ["city", "yueyanglou"]
    bad = site_client.post("/api/chat", json={"sender_id": "site-3", "message": "在哪里办", "site": "../x"})
    assert bad.status_code == 422


def test_catalogue_follows_publishing(
    settings: Settings, seed_entries: list[Entry], shared_cache_dir: Path, rasa: StubRasa
) -> None:
    """Unpublishing an entry removes it from the catalogue and /guides; publishing it brings it back
    (through the same live index the chat answers from; its own engine, not the shared one)."""
    encoder = CachedEncoder(load_encoder("e5-small-q4"), shared_cache_dir / "embeddings.sqlite")
    engine = SearchEngine(encoder, Lexicon.load(settings.synonyms_file), engine_params(settings))
    migrate(settings.database_url)
    sessions = session_factory(settings.database_url)
    EntryStore(sessions).import_entries(seed_entries, author="seed")
    live = LiveSearch(settings.model_copy(update={"reload_interval_s": 3600.0}), engine=engine)
    live.warm_up()
    application: FastAPI = create_app(settings=settings, live=live, rasa=rasa)  # type: ignore[arg-type]
    wf = Workflow(sessions)
    reviewer = Actor("reviewer1", "reviewer")
    with TestClient(application) as c:
        assert c.get("/api/guides").json()["count"] == len(seed_entries)
        wf.unpublish("passport", reviewer)
        live.refresh()
        body = c.get("/api/guides").json()
        assert body["count"] == len(seed_entries) - 1
        assert "passport" not in re.findall(r"/guide/([a-z0-9-]+)/qr.png", c.get("/guides").text)
        wf.publish("passport", reviewer)
        live.refresh()
        assert c.get("/api/guides").json()["count"] == len(seed_entries)
        assert "/guide/passport/qr.png" in c.get("/guides").text
