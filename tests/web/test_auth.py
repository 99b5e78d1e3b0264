"""Staff accounts: argon2 hashes, session cookies, CSRF, login throttling, roles, demo accounts."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.accounts import DEMO_ACCOUNTS, Account, AccountStore, UserRow
from core.db import session_factory
from core.migrate import migrate
from core.settings import Settings
from retrieval.engine import SearchEngine
from retrieval.live import LiveSearch
from tests.staff import DEMO_PASSWORD, StubRasa, client_for, login
from web.app import create_app
from web.auth import CSRF_COOKIE, SESSION_COOKIE, CurrentUser, SessionClaims, SessionSigner, require_roles

# -- a tiny router guarded as the editor routes are (require_roles from web/auth.py) ------------------
EditorUser = Annotated[Account, Depends(require_roles("editor", "admin"))]
guarded = APIRouter(prefix="/api/test")


@guarded.get("/editor-only")
def editor_page(user: EditorUser) -> dict[str, str]:
    return {"user": user.username}


@guarded.post("/editor-only")
def editor_change(user: EditorUser) -> dict[str, str]:
    return {"changed_by": user.username}


@guarded.get("/anyone")
def any_staff(user: CurrentUser) -> dict[str, str]:
    return {"role": user.role}


@pytest.fixture
def guarded_app(app: FastAPI) -> FastAPI:
    app.include_router(guarded)
    return app


def _set_cookie_headers(response: object) -> dict[str, str]:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    return {h.split("=", 1)[0]: h.lower() for h in headers}


# -- login, cookies, me, logout -------------------------------------------------------------------


def test_login_sets_httponly_samesite_session_and_readable_csrf_cookie(client: TestClient) -> None:
    r = client.post("/api/auth/login", json={"username": "agent1", "password": DEMO_PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["user"] == {"username": "agent1", "role": "agent", "role_title": "坐席"}
    cookies = _set_cookie_headers(r)
    assert "httponly" in cookies[SESSION_COOKIE] and "samesite=lax" in cookies[SESSION_COOKIE]
    assert "httponly" not in cookies[CSRF_COOKIE] and "samesite=lax" in cookies[CSRF_COOKIE]
    assert "secure" not in cookies[SESSION_COOKIE]  # local mode runs on plain http://127.0.0.1
    assert client.cookies[CSRF_COOKIE] == body["csrf_token"]
    me = client.get("/api/auth/me")
    assert me.status_code == 200 and me.json() == body


def test_me_needs_a_login(client: TestClient) -> None:
    r = client.get("/api/auth/me")
    assert r.status_code == 401 and r.json()["detail"] == "请先登录。"


@pytest.mark.parametrize(("username", "password"), [("agent1", "wrong-password"), ("nobody", DEMO_PASSWORD)])
def test_wrong_credentials_get_one_message(client: TestClient, username: str, password: str) -> None:
    r = client.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 401 and r.json()["detail"] == "用户名或密码错误。"
    assert SESSION_COOKIE not in client.cookies


def test_passwords_are_stored_as_argon2id(app: FastAPI) -> None:
    with app.state.conversations.sessions() as s:
        hashes = list(s.scalars(select(UserRow.password_hash)))
    assert len(hashes) == len(DEMO_ACCOUNTS)
    assert all(h.startswith("$argon2id$") and DEMO_PASSWORD not in h for h in hashes)


def test_logout_needs_csrf_and_kills_the_cookie_everywhere(app: FastAPI) -> None:
    first, second = client_for(app), client_for(app)
    login(first, "agent1")
    login(second, "agent1")  # the same person on a second screen
    stolen = first.cookies[SESSION_COOKIE]
    bare = client_for(app)
    bare.cookies.set(SESSION_COOKIE, stolen)
    assert bare.post("/api/auth/logout").status_code == 403  # no X-CSRF-Token
    assert first.post("/api/auth/logout").status_code == 200
    assert first.get("/api/auth/me").status_code == 401
    assert second.get("/api/auth/me").status_code == 401
    replay = client_for(app)
    replay.cookies.set(SESSION_COOKIE, stolen)
    r = replay.get("/api/auth/me")
    assert r.status_code == 401 and "重新登录" in r.json()["detail"]


def _refused(app: FastAPI, cookie: str) -> bool:
    c = client_for(app)
    c.cookies.set(SESSION_COOKIE, cookie)
    return c.get("/api/auth/me").status_code == 401


def _flip(text: str, at: int) -> str:
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]


def test_a_tampered_session_cookie_is_refused(app: FastAPI, client: TestClient) -> None:
    login(client, "agent1")
    genuine = client.cookies[SESSION_COOKIE]
    assert not _refused(app, genuine)
    payload, timestamp, signature = genuine.rsplit(".", 2)
    signer = app.state.auth.signer
    admin = app.state.auth.accounts.by_username("admin")
    claims = signer.decode(genuine)
    assert claims is not None
    other_payload = signer.encode(SessionClaims(admin.id, admin.session_version, claims.nonce)).split(".")[0]
    for forged in (
        f"{other_payload}.{timestamp}.{signature}",  # another account's id under this signature
        f"{payload}.{timestamp}.{signature[::-1]}",
        _flip(genuine, 3),
        _flip(genuine, len(genuine) - 3),
        f"{payload}.{signature}",  # the timestamp left out
        payload,
        "garbage",
        "",
    ):
        assert _refused(app, forged), forged


def test_a_session_cookie_signed_with_another_secret_or_salt_is_refused(app: FastAPI) -> None:
    account = app.state.auth.accounts.by_username("admin")
    foreign = SessionSigner("another-secret-of-at-least-32-characters", 3600)
    assert _refused(app, foreign.encode(foreign.issue(account)))
    # the CSRF token is signed with the same secret but another salt: never a session cookie
    own = app.state.auth.signer
    assert _refused(app, own.csrf_token(own.issue(account)))
    assert not _refused(app, own.encode(own.issue(account)))


def test_an_expired_session_cookie_is_refused(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    signer = app.state.auth.signer
    account = app.state.auth.accounts.by_username("agent1")
    now = time.time()
    with monkeypatch.context() as m:  # signed SESSION_MAX_AGE_S + 5 s ago
        m.setattr(time, "time", lambda: now - signer.max_age_s - 5)
        expired = signer.encode(signer.issue(account))
    with monkeypatch.context() as m:  # signed a minute before it expires
        m.setattr(time, "time", lambda: now - signer.max_age_s + 60)
        ageing = signer.encode(signer.issue(account))
    assert signer.decode(expired) is None and _refused(app, expired)
    assert signer.decode(ageing) is not None and not _refused(app, ageing)


def test_a_bumped_session_version_revokes_every_earlier_cookie(app: FastAPI) -> None:
    first, second = client_for(app), client_for(app)
    login(first, "editor1")
    login(second, "editor1")
    store: AccountStore = app.state.auth.accounts
    account = store.by_username("editor1")
    assert account is not None
    store.end_sessions(account.id)  # what logout, a password change or disabling the account do
    assert first.get("/api/auth/me").status_code == 401
    assert second.get("/api/auth/me").status_code == 401
    login(first, "editor1")  # a new login carries the new version
    assert first.get("/api/auth/me").status_code == 200


# -- CSRF -----------------------------------------------------------------------------------------


def test_state_changes_need_the_csrf_token_of_the_session(guarded_app: FastAPI) -> None:
    editor = client_for(guarded_app)
    token = login(editor, "editor1")
    del editor.headers["X-CSRF-Token"]
    r = editor.post("/api/test/editor-only")
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    assert editor.post("/api/test/editor-only", headers={"X-CSRF-Token": "forged"}).status_code == 403
    other = client_for(guarded_app)
    other_token = login(other, "admin")
    assert editor.post("/api/test/editor-only", headers={"X-CSRF-Token": other_token}).status_code == 403
    ok = editor.post("/api/test/editor-only", headers={"X-CSRF-Token": token})
    assert ok.status_code == 200 and ok.json() == {"changed_by": "editor1"}
    assert editor.get("/api/test/editor-only").status_code == 200  # reads need no token


# -- roles ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "status"), [("agent1", 403), ("reviewer1", 403), ("editor1", 200), ("admin", 200)]
)
def test_require_roles_lets_only_those_roles_in(guarded_app: FastAPI, username: str, status: int) -> None:
    c = client_for(guarded_app)
    login(c, username)
    assert c.get("/api/test/editor-only").status_code == status
    assert c.post("/api/test/editor-only").status_code == status
    assert c.get("/api/test/anyone").status_code == 200


def test_an_agent_cannot_reach_editor_only_things(guarded_app: FastAPI) -> None:
    c = client_for(guarded_app)
    login(c, "agent1")
    r = c.post("/api/test/editor-only")
    assert r.status_code == 403
    assert r.json()["detail"] == "没有权限：此功能仅限编辑、管理员使用（当前账号 agent1 的角色是坐席）。"


def test_anonymous_gets_401_before_any_role_check(guarded_app: FastAPI) -> None:
    c = client_for(guarded_app)
    assert c.get("/api/test/editor-only").status_code == 401
    assert c.post("/api/test/editor-only").status_code == 401


def test_require_roles_refuses_unknown_roles() -> None:
    with pytest.raises(ValueError):
        require_roles("superuser")
    with pytest.raises(ValueError):
        require_roles()


# -- throttling -----------------------------------------------------------------------------------


def test_five_failures_pause_that_username_from_that_client(client: TestClient, app: FastAPI) -> None:
    for _ in range(5):
        r = client.post("/api/auth/login", json={"username": "agent1", "password": "guess-1234"})
        assert r.status_code == 401
    r = client.post("/api/auth/login", json={"username": "agent1", "password": DEMO_PASSWORD})
    assert r.status_code == 429  # even the right password waits
    assert r.json()["detail"].startswith("登录失败次数过多，请5分钟后再试")
    assert 0 < int(r.headers["Retry-After"]) <= 300
    assert SESSION_COOKIE not in client.cookies
    login(client_for(app), "editor1")  # other accounts are not locked


def test_a_successful_login_resets_the_failure_count(client: TestClient) -> None:
    for _ in range(4):
        client.post("/api/auth/login", json={"username": "Agent1", "password": "guess-1234"})
    login(client, "agent1")
    for _ in range(4):
        r = client.post("/api/auth/login", json={"username": "agent1", "password": "guess-1234"})
        assert r.status_code == 401


# -- demo accounts --------------------------------------------------------------------------------


def test_demo_accounts_exist_in_local_mode_and_are_created_once(app: FastAPI) -> None:
    for username, role in DEMO_ACCOUNTS:
        c = client_for(app)
        login(c, username)
        assert c.get("/api/auth/me").json()["user"]["role"] == role
    store: AccountStore = app.state.auth.accounts
    assert store.ensure_demo_accounts(DEMO_PASSWORD) == []  # a restart creates nothing
    with store.sessions() as s:
        assert len(list(s.scalars(select(UserRow)))) == len(DEMO_ACCOUNTS)


def test_a_local_start_never_resets_a_password_an_operator_changed(app: FastAPI) -> None:
    store: AccountStore = app.state.auth.accounts
    store.set_password("agent1", "operator-chosen")
    assert store.ensure_demo_accounts(DEMO_PASSWORD) == []
    assert store.authenticate("agent1", DEMO_PASSWORD) is None
    assert store.authenticate("agent1", "operator-chosen") is not None


@pytest.fixture
def production_app(tmp_path: Path, engine: SearchEngine) -> Iterator[FastAPI]:
    settings = Settings(
        environment="production",
        database_url=f"sqlite:///{tmp_path / 'prod.db'}",
        data_dir=tmp_path,
        rasa_token="a-real-rasa-token-of-at-least-32-characters",
        session_secret="a-real-session-secret-of-at-least-32-characters",
        public_base_url="https://zwfw.example.gov.cn",
        reload_interval_s=3600.0,
    )
    live = LiveSearch(settings, engine=engine)
    live.ready = True
    application = create_app(settings=settings, live=live, rasa=StubRasa())  # type: ignore[arg-type]
    with TestClient(application):
        yield application


def test_no_demo_accounts_outside_local_mode_and_cookies_are_secure(production_app: FastAPI) -> None:
    c = client_for(production_app)
    for username, _ in DEMO_ACCOUNTS:
        r = c.post("/api/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        assert r.status_code == 401
    production_app.state.auth.accounts.create("operator", "long-enough-pw", "agent")
    r = c.post("/api/auth/login", json={"username": "operator", "password": "long-enough-pw"})
    assert r.status_code == 200
    cookies = _set_cookie_headers(r)
    assert "secure" in cookies[SESSION_COOKIE] and "secure" in cookies[CSRF_COOKIE]


def test_production_refuses_default_secrets() -> None:
    with pytest.raises(ValueError, match="SESSION_SECRET"):
        Settings(environment="production", rasa_token="x" * 40, public_base_url="https://a.example")


# -- the account store on its own -----------------------------------------------------------------


def test_password_change_ends_sessions_and_roles_are_checked(settings: Settings) -> None:
    migrate(settings.database_url)
    store = AccountStore(session_factory(settings.database_url))
    account = store.create("clerk", "first-password", "reviewer")
    with pytest.raises(ValueError):
        store.create("clerk", "another-password", "reviewer")
    with pytest.raises(ValueError):
        store.create("boss", "long-enough-pw", "owner")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        store.create("shorty", "short", "agent")
    store.set_password("clerk", "second-password")
    changed = store.get(account.id)
    assert changed is not None and changed.session_version == account.session_version + 1
    assert store.authenticate("clerk", "first-password") is None
    assert store.authenticate("clerk", "second-password") == changed


def test_accounts_cli_adds_and_changes_passwords(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ops.accounts import main

    url = ["--database-url", settings.database_url]
    monkeypatch.setattr("sys.stdin", io.StringIO("first-password\n"))
    assert main([*url, "add", "wang", "--role", "agent"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("second-password\n"))
    assert main([*url, "passwd", "wang"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main([*url, "add", "li", "--role", "agent"]) == 1
    assert main([*url, "list"]) == 0
    out = capsys.readouterr()
    assert "wang\tagent" in out.out and "li\t" not in out.out and "8 characters" in out.err
    store = AccountStore(session_factory(settings.database_url))
    assert store.authenticate("wang", "second-password") is not None
