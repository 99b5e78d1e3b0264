"""The knowledge editor's API on the real app (real engine, fresh SQLite, Rasa stubbed): workflow, role
rules, optimistic locking, versions, diff and rollback, the append-only audit log, import/export,
gap mining and the dashboard."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import re
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select, text, update
from sqlalchemy.exc import DatabaseError

from conversations.tables import MessageRow
from core.db import session_factory, utcnow
from core.settings import Settings
from embeddings.cache import CachedEncoder
from handoff.tables import HandoffRow
from knowledge.errors import EntryNotFound
from knowledge.models import Entry
from knowledge.store import EntryStore
from knowledge.tables import AppendOnlyError, AuditRow, FeedbackRow, GapRow
from retrieval.engine import SearchEngine
from retrieval.live import LiveSearch, engine_params, load_out_of_scope
from retrieval.text import Lexicon
from tests.staff import client_for, login
from web.pages import STATIC

ENTRY = "cant-get-it-done"  # no situations: every material is on the card
OTHER = "passport"


@pytest.fixture
def seeded(app: FastAPI, seed_entries: list[Entry]) -> FastAPI:
    EntryStore(app.state.workflow.sessions).import_entries(seed_entries, author="seed")
    return app


def _as(app: FastAPI, username: str) -> TestClient:
    c = client_for(app)
    login(c, username)
    return c


@pytest.fixture
def editor(seeded: FastAPI) -> TestClient:
    return _as(seeded, "editor1")


@pytest.fixture
def reviewer(seeded: FastAPI) -> TestClient:
    return _as(seeded, "reviewer1")


@pytest.fixture
def admin(seeded: FastAPI) -> TestClient:
    return _as(seeded, "admin")


@pytest.fixture
def agent(seeded: FastAPI) -> TestClient:
    return _as(seeded, "agent1")


def ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def change_material(client: TestClient, entry_id: str, name: str) -> dict[str, Any]:
    """Load the entry, rename its first material, save; returns the saved entry."""
    loaded = ok(client.get(f"/api/entries/{entry_id}"))
    content = copy.deepcopy(loaded["entry"])
    content["materials"][0]["name"] = name
    return ok(
        client.put(
            f"/api/entries/{entry_id}", json={"entry": content, "lock_version": loaded["lock_version"]}
        )
    )


def actions_of(app: FastAPI, entry_id: str) -> list[tuple[str, str, int | None]]:
    with app.state.workflow.sessions() as s:
        rows = s.scalars(select(AuditRow).where(AuditRow.entry_id == entry_id).order_by(AuditRow.id))
        return [(r.actor, r.action, r.version) for r in rows]


# -- workflow ----------------------------------------------------------------------------------


def test_edit_review_publish_keeps_the_live_version_until_published(
    seeded: FastAPI, editor: TestClient, reviewer: TestClient
) -> None:
    store = EntryStore(seeded.state.workflow.sessions)
    before = store.get(ENTRY)
    knowledge_version = store.knowledge_version()

    saved = change_material(editor, ENTRY, "本人有效身份证件（新）")
    assert saved["status"] == "draft" and saved["has_draft"] and saved["live_status"] == "published"
    assert saved["entry"]["materials"][0]["name"] == "本人有效身份证件（新）"
    # citizens still get the published version: the live row and the knowledge version do not move
    assert store.get(ENTRY) == before and store.knowledge_version() == knowledge_version

    assert ok(editor.post(f"/api/entries/{ENTRY}/submit"))["status"] == "review"
    assert editor.post(f"/api/entries/{ENTRY}/approve").status_code == 403
    assert editor.post(f"/api/entries/{ENTRY}/publish").status_code == 403

    sent_back = ok(reviewer.post(f"/api/entries/{ENTRY}/reject", json={"comment": "请注明需携带原件"}))
    assert sent_back["status"] == "draft" and sent_back["comment"] == "请注明需携带原件"
    assert reviewer.post(f"/api/entries/{ENTRY}/reject", json={"comment": ""}).status_code == 422

    change_material(editor, ENTRY, "本人有效身份证件原件（新）")
    ok(editor.post(f"/api/entries/{ENTRY}/submit"))
    published = ok(reviewer.post(f"/api/entries/{ENTRY}/approve", json={"comment": "核对无误"}))
    assert published["status"] == "published" and published["live_version"] == 2
    assert not published["has_draft"] and published["comment"] == ""

    live = store.get(ENTRY)
    assert live.version == 2 and live.materials[0].name == "本人有效身份证件原件（新）"
    assert store.knowledge_version() == knowledge_version + 1  # the search index of every process follows
    assert [v for v, _ in store.versions(ENTRY)] == [1, 2]

    assert actions_of(seeded, ENTRY) == [
        ("editor1", "edit", None),
        ("editor1", "submit", None),
        ("reviewer1", "reject", None),
        ("editor1", "edit", None),
        ("editor1", "submit", None),
        ("reviewer1", "approve", None),
        ("reviewer1", "publish", 2),
    ]


def test_create_a_new_entry_and_publish_it(
    editor: TestClient, reviewer: TestClient, seed_entries: list[Entry]
) -> None:
    raw = seed_entries[0].model_dump(mode="json") | {"id": "dog-license", "title": "犬只登记", "related": []}
    created = ok(editor.post("/api/entries", json={"entry": raw}), 201)
    assert created["status"] == "draft" and created["live_status"] is None and created["lock_version"] == 1
    assert editor.post("/api/entries", json={"entry": raw}).status_code == 409  # exists
    assert reviewer.post("/api/entries/dog-license/publish").status_code == 409  # not submitted yet
    ok(editor.post("/api/entries/dog-license/submit"))
    assert ok(reviewer.post("/api/entries/dog-license/publish"))["live_version"] == 1
    listed = ok(editor.get("/api/entries", params={"q": "犬只"}))
    assert [e["id"] for e in listed["data"]] == ["dog-license"]


def test_invalid_entries_name_the_field(editor: TestClient, seed_entries: list[Entry]) -> None:
    raw = seed_entries[0].model_dump(mode="json") | {"id": "bad-one", "related": ["no-such-entry"]}
    raw["materials"] = [{"name": "", "copies": "两份"}, {"name": "结婚证", "condition": {"x": "yes"}}]
    r = editor.post("/api/entries", json={"entry": raw})
    assert r.status_code == 422
    fields = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert fields["materials.0.name"] == "不能为空" and fields["materials.0.copies"] == "应为整数"

    raw["materials"] = [{"name": "结婚证", "condition": {"married": "yes"}}]
    fields = {
        e["field"]: e["message"] for e in editor.post("/api/entries", json={"entry": raw}).json()["errors"]
    }
    assert fields == {"materials.0.condition_text": "有适用条件的材料必须填写条件说明"}

    raw["materials"] = [{"name": "结婚证", "condition": {"married": "yes"}, "condition_text": "已婚的"}]
    fields = {
        e["field"]: e["message"] for e in editor.post("/api/entries", json={"entry": raw}).json()["errors"]
    }
    assert fields == {"materials.0.condition": "适用条件引用了不存在的情形「married」"}

    raw["materials"] = []
    errors = editor.post("/api/entries", json={"entry": raw}).json()["errors"]
    assert errors == [{"field": "related.0", "message": "没有条目「no-such-entry」"}]
    assert editor.post("/api/entries", json={"entry": raw | {"id": "export"}}).status_code == 422


def test_preview_renders_card_and_guide_page_without_saving(
    editor: TestClient, seed_entries: list[Entry]
) -> None:
    raw = next(e for e in seed_entries if e.id == ENTRY).model_dump(mode="json")
    raw["title"] = "<script>alert(1)</script>反映窗口"
    raw["materials"][0]["name"] = "新材料名称"
    preview = ok(editor.post("/api/entries/preview", json={"entry": raw}))
    materials = next(s for s in preview["card"]["sections"] if s["key"] == "materials")
    assert materials["items"][0]["name"] == "新材料名称"
    assert "<script>alert" not in preview["guide_html"] and "&lt;script&gt;" in preview["guide_html"]
    assert ok(editor.get(f"/api/entries/{ENTRY}"))["entry"]["title"] != raw["title"]  # nothing saved


def test_list_filters(editor: TestClient, reviewer: TestClient) -> None:
    everything = ok(editor.get("/api/entries"))
    assert everything["count"] == 51
    bundles = ok(editor.get("/api/entries", params={"kind": "bundle"}))["data"]
    assert bundles and all(e["kind"] == "bundle" for e in bundles)
    category = bundles[0]["category"]
    assert all(
        e["category"] == category
        for e in ok(editor.get("/api/entries", params={"category": category}))["data"]
    )
    assert ok(editor.get("/api/entries", params={"reviewed_before_days": 0}))["count"] == 51
    # no seed entry was ever approved by a reviewer: all are due for review however far back one looks
    assert ok(editor.get("/api/entries", params={"reviewed_before_days": 36500}))["count"] == 51
    change_material(editor, ENTRY, "新材料")
    drafts = ok(editor.get("/api/entries", params={"status": "draft"}))["data"]
    assert [e["id"] for e in drafts] == [ENTRY]
    assert ENTRY in {e["id"] for e in ok(editor.get("/api/entries", params={"status": "published"}))["data"]}
    ok(reviewer.post(f"/api/entries/{OTHER}/unpublish"))
    assert [e["id"] for e in ok(editor.get("/api/entries", params={"status": "unpublished"}))["data"]] == [
        OTHER
    ]
    assert editor.get("/api/entries", params={"kind": "nonsense"}).status_code == 422


# -- roles ---------------------------------------------------------------------------------------


def test_anonymous_gets_401_everywhere(seeded: FastAPI) -> None:
    anonymous = client_for(seeded)
    for method, path in [
        ("GET", "/api/entries"),
        ("GET", f"/api/entries/{ENTRY}"),
        ("PUT", f"/api/entries/{ENTRY}"),
        ("POST", f"/api/entries/{ENTRY}/publish"),
        ("GET", f"/api/entries/{ENTRY}/versions"),
        ("GET", "/api/entry-transfer/export"),
        ("POST", "/api/entry-transfer/import"),
        ("GET", "/api/entries/export"),
        ("GET", "/api/gaps"),
        ("GET", "/api/stats"),
        ("GET", "/api/audit"),
    ]:
        assert anonymous.request(method, path, json={}).status_code == 401, (method, path)


def test_agent_reads_but_cannot_change(agent: TestClient) -> None:
    loaded = ok(agent.get(f"/api/entries/{ENTRY}"))
    ok(agent.get(f"/api/entries/{ENTRY}/versions"))
    ok(agent.get("/api/stats"))
    body = {"entry": loaded["entry"], "lock_version": loaded["lock_version"]}
    assert agent.put(f"/api/entries/{ENTRY}", json=body).status_code == 403
    for action in ("submit", "approve", "publish", "unpublish"):
        assert agent.post(f"/api/entries/{ENTRY}/{action}").status_code == 403, action
    assert agent.post(f"/api/entries/{ENTRY}/rollback", json={"version": 1}).status_code == 403
    assert agent.delete(f"/api/entries/{ENTRY}").status_code == 403
    assert agent.post("/api/gaps/dismiss", json={"gap_ids": [1]}).status_code == 403


def test_reviewer_publishes_but_does_not_edit(reviewer: TestClient, editor: TestClient) -> None:
    loaded = ok(reviewer.get(f"/api/entries/{ENTRY}"))
    body = {"entry": loaded["entry"], "lock_version": loaded["lock_version"]}
    assert reviewer.put(f"/api/entries/{ENTRY}", json=body).status_code == 403
    change_material(editor, ENTRY, "新材料")
    ok(editor.post(f"/api/entries/{ENTRY}/submit"))
    assert ok(reviewer.post(f"/api/entries/{ENTRY}/publish"))["live_version"] == 2
    assert editor.post(f"/api/entries/{ENTRY}/rollback", json={"version": 1}).status_code == 403
    assert editor.post(f"/api/entries/{ENTRY}/unpublish").status_code == 403


def test_state_changes_need_the_csrf_token(seeded: FastAPI) -> None:
    c = client_for(seeded)
    login(c, "admin")
    del c.headers["X-CSRF-Token"]
    assert c.post(f"/api/entries/{ENTRY}/unpublish").status_code == 403
    assert c.get(f"/api/entries/{ENTRY}").status_code == 200


def test_admin_does_everything_but_approve_its_own_change(admin: TestClient, reviewer: TestClient) -> None:
    change_material(admin, ENTRY, "新材料")
    ok(admin.post(f"/api/entries/{ENTRY}/submit"))
    for action in ("approve", "publish"):  # four eyes: not even an admin approves their own submission
        r = admin.post(f"/api/entries/{ENTRY}/{action}")
        assert r.status_code == 403 and "自己提交" in r.json()["detail"]
    ok(reviewer.post(f"/api/entries/{ENTRY}/approve"))
    ok(admin.post(f"/api/entries/{ENTRY}/rollback", json={"version": 1}))
    ok(admin.post(f"/api/entries/{ENTRY}/unpublish"))
    assert ok(admin.delete(f"/api/entries/{ENTRY}"))["entry"] is None
    assert admin.get(f"/api/entries/{ENTRY}").status_code == 404


# -- concurrency -------------------------------------------------------------------------------


def test_second_saver_gets_a_conflict_with_the_others_change(seeded: FastAPI) -> None:
    first, second = _as(seeded, "editor1"), _as(seeded, "editor1")
    a = ok(first.get(f"/api/entries/{ENTRY}"))
    b = ok(second.get(f"/api/entries/{ENTRY}"))
    mine, theirs = copy.deepcopy(a["entry"]), copy.deepcopy(b["entry"])
    mine["materials"][0]["copies"] = 2
    theirs["fees"] = "按规定收取（乙）"
    ok(first.put(f"/api/entries/{ENTRY}", json={"entry": mine, "lock_version": a["lock_version"]}))

    r = second.put(f"/api/entries/{ENTRY}", json={"entry": theirs, "lock_version": b["lock_version"]})
    assert r.status_code == 409
    body = r.json()
    assert body["conflict"] and body["updated_by"] == "editor1" and "保存冲突" in body["detail"]
    assert body["current"]["materials"][0]["copies"] == 2
    texts = [c["text"] for c in body["changes"]]
    assert any("份数：1 → 2" in t for t in texts), texts
    # nothing was silently overwritten
    kept = ok(second.get(f"/api/entries/{ENTRY}"))
    assert kept["entry"]["materials"][0]["copies"] == 2 and kept["entry"]["fees"] != "按规定收取（乙）"
    # saving again on top of the current version works
    theirs["materials"][0]["copies"] = 2
    ok(second.put(f"/api/entries/{ENTRY}", json={"entry": theirs, "lock_version": body["lock_version"]}))


def test_a_stale_reviewer_cannot_publish_a_changed_draft(editor: TestClient, reviewer: TestClient) -> None:
    change_material(editor, ENTRY, "版本甲")
    seen = ok(reviewer.get(f"/api/entries/{ENTRY}"))["lock_version"]
    change_material(editor, ENTRY, "版本乙")
    assert reviewer.post(f"/api/entries/{ENTRY}/publish", json={"lock_version": seen}).status_code == 409


# -- versions, diff, rollback ------------------------------------------------------------------------


def test_versions_diff_and_rollback(seeded: FastAPI, editor: TestClient, reviewer: TestClient) -> None:
    change_material(editor, ENTRY, "第二版材料")
    pending = ok(editor.get(f"/api/entries/{ENTRY}/diff"))  # live → draft by default
    assert [c["text"] for c in pending["changes"]] == [
        "删除 申请材料「本人有效身份证件（企业提供营业执照和经办人身份证）」："
        + pending["changes"][0]["text"].split("：", 1)[1],
        pending["changes"][1]["text"],
    ]
    assert pending["changes"][1]["op"] == "added" and "第二版材料" in pending["changes"][1]["text"]
    assert any(line.startswith("+- name: 第二版材料") for line in pending["unified"])
    ok(editor.post(f"/api/entries/{ENTRY}/submit"))
    ok(reviewer.post(f"/api/entries/{ENTRY}/publish"))

    versions = ok(editor.get(f"/api/entries/{ENTRY}/versions"))
    assert [(v["version"], v["live"]) for v in versions["data"]] == [(2, True), (1, False)]

    rolled = ok(
        reviewer.post(f"/api/entries/{ENTRY}/rollback", json={"version": 1, "comment": "材料名称有误"})
    )
    assert rolled["live_version"] == 3 and rolled["status"] == "published"
    assert ok(editor.get(f"/api/entries/{ENTRY}/diff", params={"a": 1, "b": 3}))["changes"] == []
    changes = ok(editor.get(f"/api/entries/{ENTRY}/diff", params={"a": 2, "b": 3}))["changes"]
    assert {c["op"] for c in changes} == {"added", "removed"}
    versions = ok(editor.get(f"/api/entries/{ENTRY}/versions"))["data"]
    assert versions[0]["version"] == 3 and versions[0]["notes"] == ["回滚到版本 1：材料名称有误"]
    assert (
        EntryStore(seeded.state.workflow.sessions).get(ENTRY).materials[0].name.startswith("本人有效身份证件")
    )

    assert reviewer.post(f"/api/entries/{ENTRY}/rollback", json={"version": 9}).status_code == 404
    assert editor.get(f"/api/entries/{ENTRY}/diff", params={"a": "draft", "b": "live"}).status_code == 409


def test_unpublish_and_publish_again(seeded: FastAPI, reviewer: TestClient, editor: TestClient) -> None:
    store = EntryStore(seeded.state.workflow.sessions)
    ok(reviewer.post(f"/api/entries/{OTHER}/unpublish", json={"comment": "政策调整"}))
    assert OTHER not in {e.id for e in store.published()}
    assert editor.delete(f"/api/entries/{OTHER}").status_code == 403  # only an admin deletes
    back = ok(reviewer.post(f"/api/entries/{OTHER}/publish"))
    assert back["status"] == "published" and back["live_version"] == 1
    assert OTHER in {e.id for e in store.published()}
    assert reviewer.post(f"/api/entries/{OTHER}/publish").status_code == 409  # nothing to publish


def test_discarding_a_draft_keeps_the_live_entry(seeded: FastAPI, editor: TestClient) -> None:
    change_material(editor, ENTRY, "不要了")
    left = ok(editor.delete(f"/api/entries/{ENTRY}"))["entry"]
    assert left["status"] == "published" and not left["has_draft"]
    assert EntryStore(seeded.state.workflow.sessions).get(ENTRY).materials[0].name != "不要了"


def test_publishing_reaches_the_search_index(
    seeded: FastAPI, editor: TestClient, reviewer: TestClient, engine: SearchEngine, seed_entries: list[Entry]
) -> None:
    """The live index follows the knowledge version (a small engine of its own: the shared one stays)."""
    small = SearchEngine(engine.encoder, Lexicon.load(Settings().synonyms_file), engine_params(Settings()))
    live = LiveSearch(seeded.state.settings, engine=small)
    live.engine.sync([e for e in seed_entries if e.id in (ENTRY, OTHER)])
    live.refresh()
    assert live.engine.entries[ENTRY].materials[0].name.startswith("本人有效身份证件")
    change_material(editor, ENTRY, "刷新后的材料")
    assert not live.refresh() or live.engine.entries[ENTRY].materials[0].name != "刷新后的材料"
    ok(editor.post(f"/api/entries/{ENTRY}/submit"))
    ok(reviewer.post(f"/api/entries/{ENTRY}/publish"))
    assert live.refresh() and live.engine.entries[ENTRY].materials[0].name == "刷新后的材料"
    ok(reviewer.post(f"/api/entries/{ENTRY}/unpublish"))
    assert live.refresh() and ENTRY not in live.engine.entries
    assert isinstance(small.encoder, CachedEncoder)


# -- audit log -------------------------------------------------------------------------------------


def test_audit_log_is_append_only(seeded: FastAPI, editor: TestClient) -> None:
    change_material(editor, ENTRY, "审计")
    records = ok(editor.get("/api/audit", params={"entry_id": ENTRY}))["data"]
    assert records[0]["actor"] == "editor1" and records[0]["action"] == "edit"

    # no route changes it
    for route in seeded.routes:
        path = getattr(route, "path", "")
        if path.startswith("/api/audit"):
            assert getattr(route, "methods", set()) <= {"GET", "HEAD"}, path
    assert editor.delete("/api/audit").status_code == 405
    assert editor.put("/api/audit", json={}).status_code == 405

    # neither the ORM nor SQL can change or delete a record
    sessions = seeded.state.workflow.sessions
    with pytest.raises(AppendOnlyError), sessions.begin() as s:
        s.scalars(select(AuditRow)).first().comment = "changed"  # type: ignore[union-attr]
    with pytest.raises(AppendOnlyError), sessions.begin() as s:
        s.delete(s.scalars(select(AuditRow)).first())
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError, match="append-only"), sessions.begin() as s:
            s.execute(text(statement))
    with pytest.raises(DatabaseError), sessions.begin() as s:
        s.execute(update(AuditRow).values(comment="x"))
    assert len(ok(editor.get("/api/audit", params={"entry_id": ENTRY}))["data"]) == 1


@pytest.mark.postgres
def test_audit_log_is_append_only_on_postgres() -> None:
    from core.db import engine_for
    from core.migrate import migrate
    from tests.postgres import postgres_database

    gen = postgres_database()
    url = next(gen)
    try:
        migrate(url)
        sessions = session_factory(url)
        with sessions.begin() as s:
            s.add(AuditRow(actor="a", role="admin", action="x", comment=""))
        for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(DatabaseError, match="append-only"), sessions.begin() as s:
                s.execute(text(statement))
        engine_for(url).dispose()
    finally:
        next(gen, None)


# -- import / export --------------------------------------------------------------------------------


def _xlsx(client: TestClient) -> Any:
    r = client.get("/api/entry-transfer/export", params={"format": "xlsx"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxml")
    return load_workbook(io.BytesIO(r.content))


def _upload(client: TestClient, name: str, data: bytes, **form: Any) -> Any:
    return client.post("/api/entry-transfer/import", files={"file": (name, data)}, data=form)


def _save(book: Any) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _row_of(sheet: Any, column: int, value: str) -> int:
    return next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, column).value == value)


def test_xlsx_round_trip_import_creates_drafts(
    seeded: FastAPI, editor: TestClient, admin: TestClient
) -> None:
    book = _xlsx(editor)
    assert book.sheetnames == ["事项", "材料", "说明"]
    entries, materials = book["事项"], book["材料"]
    assert entries.max_row == 52 and entries.cell(1, 1).value == "编号 (id)"
    unchanged = ok(_upload(editor, "entries.xlsx", _save(book)))
    assert unchanged["count"] == 0 and len(unchanged["unchanged"]) == 51  # a lossless round trip

    row = _row_of(materials, 1, ENTRY)
    materials.cell(row, 4).value = 3  # copies
    result = ok(_upload(editor, "entries.xlsx", _save(book)))
    assert result["updated"] == [ENTRY] and result["published"] == []
    state = ok(editor.get(f"/api/entries/{ENTRY}"))
    assert state["status"] == "draft" and state["entry"]["materials"][0]["copies"] == 3
    assert EntryStore(seeded.state.workflow.sessions).get(ENTRY).materials[0].copies == 1  # still live: v1
    assert _upload(editor, "entries.xlsx", _save(book), publish="true").status_code == 403


def test_xlsx_import_is_all_or_nothing_with_row_errors(seeded: FastAPI, editor: TestClient) -> None:
    book = _xlsx(editor)
    entries, materials = book["事项"], book["材料"]
    good = _row_of(entries, 1, OTHER)
    entries.cell(good, 2).value = "护照（改过的标题）"  # valid change, must not be saved
    bad = _row_of(entries, 1, ENTRY)
    entries.cell(bad, 2).value = ""  # title
    entries.cell(bad, 3).value = "service"  # kind
    mrow = _row_of(materials, 1, ENTRY)
    materials.cell(mrow, 4).value = "两份"  # copies
    materials.cell(mrow, 5).value = "也许"  # required
    materials.cell(materials.max_row + 1, 1).value = "no-such-entry"
    materials.cell(materials.max_row, 2).value = "某材料"

    r = _upload(editor, "entries.xlsx", _save(book))
    assert r.status_code == 422 and "没有导入" in r.json()["detail"]
    texts = {p["text"] for p in r.json()["problems"]}
    assert f"sheet 事项 row {bad} title: 至少 2 个字" in texts
    assert any(t.startswith(f"sheet 事项 row {bad} kind: 只能是") for t in texts)
    assert f"sheet 材料 row {mrow} required: 应为“是”或“否”" in texts
    assert f"sheet 材料 row {materials.max_row} entry_id: 「事项」表中没有条目「no-such-entry」" in texts
    assert ok(editor.get(f"/api/entries/{OTHER}"))["has_draft"] is False  # nothing saved

    materials.cell(mrow, 5).value = "是"
    entries.cell(bad, 2).value, entries.cell(bad, 3).value = "“办不成事”反映窗口", "faq"
    materials.delete_rows(materials.max_row)
    texts = {p["text"] for p in _upload(editor, "entries.xlsx", _save(book)).json()["problems"]}
    assert texts == {f"sheet 材料 row {mrow} copies: 应为整数"}


def test_yaml_and_jsonl_import(
    seeded: FastAPI, editor: TestClient, admin: TestClient, seed_entries: list[Entry]
) -> None:
    new = seed_entries[0].model_dump(mode="json") | {"id": "dog-license", "title": "犬只登记", "related": []}
    broken = new | {"id": "cat-license", "title": "猫", "kind": "animal"}
    r = _upload(editor, "two.yml", yaml.safe_dump_all([new, broken], allow_unicode=True).encode())
    assert r.status_code == 422
    assert {p["text"] for p in r.json()["problems"]} == {
        "two.yml 第2个条目 title: 至少 2 个字",
        "two.yml 第2个条目 kind: 只能是 'bundle', 'matter' or 'faq'",
    }
    assert editor.get("/api/entries/dog-license").status_code == 404  # all or nothing

    r = _upload(editor, "e.jsonl", (json.dumps(new, ensure_ascii=False) + "\n{not json\n").encode())
    assert r.status_code == 422 and r.json()["problems"][0]["source"] == "e.jsonl:2"

    lines = json.dumps(new, ensure_ascii=False) + "\n"
    result = ok(_upload(admin, "e.jsonl", lines.encode(), publish="true"))  # the old admin form
    assert result["submitted"] == ["dog-license"] and result["published"] == []
    with pytest.raises(EntryNotFound):  # nothing live yet
        EntryStore(seeded.state.workflow.sessions).get("dog-license")
    assert ok(admin.get("/api/entries/dog-license"))["status"] == "review"
    # four-eyes holds for imports: the importer cannot approve their own import; another reviewer can
    assert admin.post("/api/entries/dog-license/approve").status_code == 403
    ok(_as(seeded, "reviewer1").post("/api/entries/dog-license/approve"))
    assert EntryStore(seeded.state.workflow.sessions).get("dog-license").status.value == "published"

    change_material(editor, ENTRY, "待审核的修改")
    pending = next(e for e in seed_entries if e.id == ENTRY).model_dump(mode="json") | {"fees": "新收费"}
    r = _upload(editor, "p.yml", yaml.safe_dump(pending, allow_unicode=True).encode())
    assert r.status_code == 422 and "未发布的修改" in r.json()["problems"][0]["message"]  # never overwrite


def test_export_formats(editor: TestClient) -> None:
    r = editor.get("/api/entry-transfer/export", params={"format": "yaml"})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    docs = list(yaml.safe_load_all(r.text))
    assert len(docs) == 51 and all(Entry.model_validate(d) for d in docs)
    lines = editor.get("/api/entry-transfer/export", params={"format": "jsonl"}).text.splitlines()
    assert len(lines) == 51 and json.loads(lines[0])["id"]
    change_material(editor, ENTRY, "草稿里的材料")
    working = editor.get("/api/entry-transfer/export", params={"format": "jsonl"}).text
    live = editor.get("/api/entry-transfer/export", params={"format": "jsonl", "source": "live"}).text
    assert "草稿里的材料" in working and "草稿里的材料" not in live


def test_the_old_import_and_export_paths_still_work_and_say_they_are_deprecated(
    seeded: FastAPI, editor: TestClient, seed_entries: list[Entry]
) -> None:
    for params in ({"format": "yaml"}, {"format": "jsonl", "source": "live"}, {"format": "xlsx"}):
        old = editor.get("/api/entries/export", params=params)
        new = editor.get("/api/entry-transfer/export", params=params)
        assert old.status_code == new.status_code == 200
        assert old.headers["content-type"] == new.headers["content-type"]
        assert old.headers["content-disposition"] == new.headers["content-disposition"]
        assert old.headers["deprecation"] == "true" and "deprecation" not in new.headers
        if params["format"] != "xlsx":  # a workbook carries its creation time
            assert old.content == new.content
    assert client_for(seeded).get("/api/entries/export").headers["deprecation"] == "true"  # 401 too

    new_entry = seed_entries[0].model_dump(mode="json") | {
        "id": "dog-license",
        "title": "犬只登记",
        "related": [],
    }
    r = editor.post("/api/entries/import", files={"file": ("e.yml", yaml.safe_dump(new_entry).encode())})
    assert r.status_code == 200 and r.headers["deprecation"] == "true"
    assert r.json()["created"] == ["dog-license"]
    broken = editor.post("/api/entries/import", files={"file": ("e.yml", b"id: [")})
    assert broken.status_code == 422 and broken.headers["deprecation"] == "true"
    # both paths take uploads up to MAX_IMPORT_BYTES, beyond the MAX_BODY_BYTES of other requests
    padding = b"# " + b"x" * seeded.state.settings.max_body_bytes + b"\n"
    for path, entry_id in (("/api/entries/import", "cat-a"), ("/api/entry-transfer/import", "cat-b")):
        big = padding + yaml.safe_dump(new_entry | {"id": entry_id}).encode()
        assert ok(editor.post(path, files={"file": ("big.yml", big)}))["created"] == [entry_id]

    paths = client_for(seeded).get("/openapi.json").json()["paths"]
    assert paths["/api/entries/import"]["post"]["deprecated"] is True
    assert paths["/api/entries/export"]["get"]["deprecated"] is True
    assert "deprecated" not in paths["/api/entry-transfer/import"]["post"]
    assert "deprecated" not in paths["/api/entry-transfer/export"]["get"]
    assert "deprecated" not in paths["/api/entries/{entry_id}"]["get"]


def test_only_the_id_an_old_path_shadows_is_refused(
    gaps: FastAPI, editor: TestClient, seed_entries: list[Entry]
) -> None:
    raw = seed_entries[0].model_dump(mode="json") | {"title": "新的事项", "related": []}
    r = editor.post("/api/entries", json={"entry": raw | {"id": "export"}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "id"
    assert "/api/entries/export" in r.json()["errors"][0]["message"]
    dogs = max(ok(editor.get("/api/gaps"))["data"], key=lambda c: c["count"])
    r = editor.post(
        "/api/gaps/new-entry", json={"gap_ids": dogs["gap_ids"], "entry_id": "export", "title": "狗证"}
    )
    assert r.status_code == 422 and ok(editor.get("/api/gaps"))["open_gaps"] == 7  # nothing closed
    r = _upload(editor, "x.yml", yaml.safe_dump(raw | {"id": "export"}, allow_unicode=True).encode())
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "id"
    assert editor.get("/api/entries/export").headers["deprecation"] == "true"  # still the export

    # the words the knowledge layer used to reserve are ordinary ids now
    for entry_id in ("import", "preview"):
        ok(editor.post("/api/entries", json={"entry": raw | {"id": entry_id}}), 201)
        assert ok(editor.get(f"/api/entries/{entry_id}"))["entry"]["title"] == "新的事项"
        ok(editor.post(f"/api/entries/{entry_id}/submit"))


# -- gaps ---------------------------------------------------------------------------------------------


def _gap(
    app: FastAPI, question: str, reason: str = "abstained", days_ago: float = 0, entry: str | None = None
) -> None:
    with app.state.workflow.sessions.begin() as s:
        s.add(
            GapRow(
                sender_id="citizen",
                question=question,
                reason=reason,
                top_entry=entry,
                created_at=utcnow() - dt.timedelta(days=days_ago),
            )
        )


@pytest.fixture
def gaps(seeded: FastAPI) -> FastAPI:
    for question, reason, days in [
        ("养狗要办什么证", "abstained", 3),
        ("养狗要办什么证？", "abstained", 1),
        ("狗证在哪里办", "low_confidence", 2),
        ("怎么给狗办证", "handoff", 0.5),
        ("今天天气怎么样", "abstained", 1),
        ("明天会下雨吗", "unhelpful", 2),
        ("护照办理需要几天", "low_confidence", 1),
        ("很久以前的问题", "abstained", 400),
    ]:
        _gap(seeded, question, reason, days, OTHER if "护照" in question else None)
    return seeded


def test_gaps_are_clustered_with_counts_and_last_seen(gaps: FastAPI, editor: TestClient) -> None:
    body = ok(editor.get("/api/gaps"))
    clusters = body["data"]
    assert body["open_gaps"] == 7 and [c["count"] for c in clusters] == [4, 2, 1]
    dogs = clusters[0]
    assert dogs["label"] == "养狗要办什么证" and dogs["questions"][0]["count"] == 2
    assert dogs["reasons"] == {"abstained": 2, "low_confidence": 1, "handoff": 1}
    assert {q["text"] for q in dogs["questions"]} == {"养狗要办什么证", "狗证在哪里办", "怎么给狗办证"}
    assert dt.datetime.fromisoformat(dogs["last_seen"]).replace(tzinfo=None) > utcnow() - dt.timedelta(days=1)
    assert {q["text"] for q in clusters[1]["questions"]} == {"今天天气怎么样", "明天会下雨吗"}
    assert clusters[2]["top_entries"][0]["entry_id"] == OTHER
    assert ok(editor.get("/api/gaps", params={"reason": "handoff"}))["open_gaps"] == 1
    assert ok(editor.get("/api/gaps", params={"days": 500}))["open_gaps"] == 8


def test_gap_actions(gaps: FastAPI, editor: TestClient, reviewer: TestClient, agent: TestClient) -> None:
    passport, weather, dogs = sorted(ok(editor.get("/api/gaps"))["data"], key=lambda c: c["count"])
    added = ok(
        editor.post(
            "/api/gaps/add-question",
            json={"gap_ids": passport["gap_ids"], "entry_id": OTHER, "question": "护照办理需要几天"},
        )
    )
    assert added["closed"] == 1 and added["entry"]["status"] == "draft"
    assert added["entry"]["entry"]["similar_questions"][-1] == "护照办理需要几天"
    assert EntryStore(gaps.state.workflow.sessions).get(OTHER).similar_questions[-1] != "护照办理需要几天"

    assert (
        reviewer.post(
            "/api/gaps/new-entry",
            json={"gap_ids": dogs["gap_ids"], "entry_id": "dog-license", "title": "犬只登记"},
        ).status_code
        == 403
    )
    created = ok(
        editor.post(
            "/api/gaps/new-entry",
            json={"gap_ids": dogs["gap_ids"], "entry_id": "dog-license", "title": "犬只登记"},
        ),
        201,
    )
    assert created["closed"] == 4 and created["entry"]["status"] == "draft"
    assert created["entry"]["entry"]["similar_questions"][0] == "养狗要办什么证"

    assert agent.post("/api/gaps/dismiss", json={"gap_ids": weather["gap_ids"]}).status_code == 403
    assert ok(reviewer.post("/api/gaps/dismiss", json={"gap_ids": weather["gap_ids"]}))["closed"] == 2
    assert ok(editor.get("/api/gaps"))["data"] == []
    with gaps.state.workflow.sessions() as s:
        handled = {
            (g.status, g.handled_by, g.resolved_entry)
            for g in s.scalars(select(GapRow))
            if g.status != "open"
        }
    assert handled == {
        ("resolved", "editor1", OTHER),
        ("resolved", "editor1", "dog-license"),
        ("dismissed", "reviewer1", None),
    }
    assert [a["action"] for a in ok(editor.get("/api/audit"))["data"]][:3] == [
        "dismiss_gaps",
        "create",
        "add_question",
    ]


def test_noise_clusters_are_left_out_unless_asked_for(seeded: FastAPI, editor: TestClient) -> None:
    """Masked phone / ID numbers and test typing are noise: they do not crowd the top of gap mining."""
    for question in ["138****5678", "138****5678", "430***********1234", "测试", "test", "养狗要办什么证"]:
        _gap(seeded, question)
    body = ok(editor.get("/api/gaps"))
    assert [c["label"] for c in body["data"]] == ["养狗要办什么证"]
    assert body["noise_gaps"] == 5 and body["noise_clusters"] >= 2 and body["open_gaps"] == 1
    everything = ok(editor.get("/api/gaps", params={"include_noise": "true"}))
    assert everything["open_gaps"] == 6 and everything["noise_clusters"] == 0
    noise = [c for c in everything["data"] if c["noise"]]
    assert {q["text"] for c in noise for q in c["questions"]} == {
        "138****5678",
        "430***********1234",
        "测试",
        "test",
    }
    assert all(c["suggested_entry"] is None for c in noise)


def test_a_weak_guess_is_not_proposed_as_the_target(seeded: FastAPI, editor: TestClient) -> None:
    """今天天气怎么样 leaned to newborn-birth at 0.42: that is no reason to add it there."""
    with seeded.state.workflow.sessions.begin() as s:
        s.add(
            GapRow(
                sender_id="c",
                question="今天天气怎么样",
                reason="abstained",
                top_entry="newborn-birth",
                score=0.42,
            )
        )
        s.add(
            GapRow(sender_id="c", question="护照加急要几天", reason="unhelpful", top_entry=OTHER, score=0.81)
        )
    clusters = {c["label"]: c for c in ok(editor.get("/api/gaps"))["data"]}
    weather, passport = clusters["今天天气怎么样"], clusters["护照加急要几天"]
    assert weather["suggested_entry"] is None and weather["top_entries"][0]["score"] == 0.42
    assert passport["suggested_entry"] == OTHER and passport["top_entries"][0]["score"] == 0.81


def test_marking_out_of_scope_feeds_the_engines_out_of_scope_check(
    seeded: FastAPI, editor: TestClient, agent: TestClient, settings: Settings
) -> None:
    """标记为超出范围: the questions become out-of-scope prototypes; every process follows the knowledge
    version and declines them from then on (no retraining)."""
    question = "公司注册资本多少合适"  # business advice, answered as 企业开办 before
    live: LiveSearch = seeded.state.live
    assert live.engine.search(question).answerable is True
    _gap(seeded, question)
    _gap(seeded, question + "？")
    cluster = ok(editor.get("/api/gaps"))["data"][0]
    assert agent.post("/api/gaps/out-of-scope", json={"gap_ids": cluster["gap_ids"]}).status_code == 403
    version = live.store.knowledge_version()
    try:
        assert ok(editor.post("/api/gaps/out-of-scope", json={"gap_ids": cluster["gap_ids"]}))["closed"] == 2
        assert live.store.knowledge_version() == version + 1
        assert live.gaps.out_of_scope_questions() == [question]
        assert live.refresh() is True
        assert live.engine.search(question).answerable is False
        assert ok(editor.get("/api/gaps"))["data"] == []
        assert ok(editor.get("/api/audit"))["data"][0]["action"] == "mark_out_of_scope"
    finally:  # the engine is shared by the tests
        live.engine.set_out_of_scope(load_out_of_scope(settings.out_of_scope_file))


def test_try_a_question_against_the_unsaved_draft(editor: TestClient, agent: TestClient) -> None:
    """试一试: which entry, which part and the score, with the draft in place of the live entry."""
    entry = ok(editor.get(f"/api/entries/{OTHER}"))["entry"]
    question = "出国玩要办的本子去哪儿弄"
    before = ok(editor.post("/api/entries/try", json={"entry": entry, "question": question}))
    draft = {**entry, "similar_questions": [*entry["similar_questions"], question]}
    after = ok(editor.post("/api/entries/try", json={"entry": draft, "question": question}))
    assert after["entry_id"] == OTHER and after["rank"] == 1 and after["answerable"] is True
    assert after["score"] > (before["score"] or 0) and after["results"][0] == {
        "id": OTHER,
        "title": entry["title"],
        "score": after["score"],
        "this": True,
    }
    assert after["verdict"].startswith("助手会用这个条目")
    assert after["part"] == "location" and after["part_title"] == "办理地点"
    whole = ok(editor.post("/api/entries/try", json={"entry": draft, "question": "办护照"}))
    assert whole["part"] is None and whole["part_title"] == "完整的一次性告知"
    assert agent.post("/api/entries/try", json={"entry": draft, "question": question}).status_code == 403
    # nothing was saved or indexed
    assert question not in ok(editor.get(f"/api/entries/{OTHER}"))["entry"]["similar_questions"]


# -- dashboard --------------------------------------------------------------------------------------


def _conversation(
    app: FastAPI, sender: str, turns: list[tuple[str, list[dict[str, Any]]]], days_ago: int = 0
) -> None:
    at = utcnow() - dt.timedelta(days=days_ago)
    with app.state.workflow.sessions.begin() as s:
        for n, (question, replies) in enumerate(turns):
            t = at + dt.timedelta(seconds=10 * n)
            s.add(
                MessageRow(
                    sender_id=sender, role="user", payload={"type": "text", "text": question}, created_at=t
                )
            )
            for reply in replies:
                s.add(
                    MessageRow(
                        sender_id=sender, role="bot", payload=reply, created_at=t + dt.timedelta(seconds=1)
                    )
                )
            if not replies:
                s.add(
                    GapRow(
                        sender_id=sender,
                        question=question,
                        reason="abstained",
                        created_at=t + dt.timedelta(seconds=1),
                    )
                )


def test_stats(seeded: FastAPI, editor: TestClient) -> None:
    card = {"type": "card", "entry_id": OTHER, "title": "护照"}
    _conversation(seeded, "s1", [("办护照要什么材料", [card]), ("/choose_option", [card]), ("养狗办证", [])])
    _conversation(
        seeded,
        "s2",
        [("护照多久能拿到", [card]), ("转人工", [{"type": "handoff", "ticket_id": 1}])],
        days_ago=1,
    )
    _conversation(seeded, "s3", [("你好", [{"type": "text", "text": "您好"}])], days_ago=40)
    with seeded.state.workflow.sessions.begin() as s:
        s.add_all(
            [
                FeedbackRow(sender_id="s1", entry_id=OTHER, rating=1),
                FeedbackRow(sender_id="s1", entry_id=OTHER, rating=0),
                FeedbackRow(sender_id="s2", entry_id=OTHER, rating=1),
                FeedbackRow(sender_id="s2", rating=5, kind="conversation"),
                FeedbackRow(sender_id="s1", rating=2, kind="conversation"),
                HandoffRow(sender_id="s2", reason="explicit"),
            ]
        )
    body = ok(editor.get("/api/stats"))
    assert len(body["days"]) == 30 and body["days"][-1]["date"] == dt.date.today().isoformat()
    assert body["totals"] == {"questions": 4, "answered": 2, "abstained": 1, "handed_off": 1, "other": 0}
    assert body["shares"]["answered"] == 0.5 and body["conversations"] == 2
    assert body["feedback"]["useful"] == 2 and body["feedback"]["not_useful"] == 1
    assert body["feedback"]["ratings"]["5"] == 1 and body["feedback"]["rating_average"] == 3.5
    title = EntryStore(seeded.state.workflow.sessions).get(OTHER).title
    assert body["top_matters"] == [{"entry_id": OTHER, "title": title, "count": 2}]
    assert body["top_gaps"][0]["label"] == "养狗办证"
    longer = ok(
        editor.get("/api/stats", params={"from": (dt.date.today() - dt.timedelta(days=60)).isoformat()})
    )
    assert longer["totals"]["questions"] == 5 and len(longer["days"]) == 61
    assert editor.get("/api/stats", params={"from": "2026-02-01", "to": "2026-01-01"}).status_code == 422


# -- the editor page ------------------------------------------------------------------------------------


def test_editor_page_is_served_with_a_strict_policy(seeded: FastAPI) -> None:
    c = client_for(seeded)
    r = c.get("/editor")
    assert r.status_code == 200 and "script-src 'self'" in r.headers["content-security-policy"]
    for needed in (
        "login-username",
        "login-password",
        "login-submit",
        "entry-list",
        "entry-form",
        "versions",
    ):
        assert f'id="{needed}"' in r.text
    assert '<script type="module" src="/static/editor/main.js">' in r.text
    # the editor's modules, each view its own, and the modules the staff pages share
    modules = [f"editor/{p.name}" for p in sorted((STATIC / "editor").glob("*.js"))]
    modules += [f"lib/{p.name}" for p in sorted((STATIC / "lib").glob("*.js"))]
    for view in ("main", "list", "form", "history", "gaps", "stats", "transfer"):
        assert f"editor/{view}.js" in modules
    js = ""
    for module in modules:
        got = c.get(f"/static/{module}")
        assert got.status_code == 200 and "javascript" in got.headers["content-type"], module
        js += got.text
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "document.write" not in js
    # nothing is loaded from elsewhere (the one URL is the SVG namespace)
    assert re.findall(r"https?://[^'\" ]+", js + r.text) == ["http://www.w3.org/2000/svg"]
    assert c.get("/static/editor/editor.css").status_code == 200


def test_openapi_documents_the_editor_api(seeded: FastAPI) -> None:
    paths = client_for(seeded).get("/openapi.json").json()["paths"]
    for path in (
        "/api/entries",
        "/api/entries/{entry_id}",
        "/api/entries/{entry_id}/submit",
        "/api/entries/{entry_id}/approve",
        "/api/entries/{entry_id}/reject",
        "/api/entries/{entry_id}/publish",
        "/api/entries/{entry_id}/unpublish",
        "/api/entries/{entry_id}/versions",
        "/api/entries/{entry_id}/diff",
        "/api/entries/{entry_id}/rollback",
        "/api/entry-transfer/import",
        "/api/entry-transfer/export",
        "/api/entries/import",  # deprecated
        "/api/entries/export",  # deprecated
        "/api/entries/preview",
        "/api/gaps",
        "/api/stats",
        "/api/audit",
    ):
        assert path in paths, path
