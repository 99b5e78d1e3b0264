"""Security settings: safe by default outside loopback, demo accounts, login throttling,
client addresses and shared rate limits."""

from __future__ import annotations

import io
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.requests import Request

from core.accounts import DemoAccountsEnabled
from core.db import session_factory
from core.migrate import migrate
from core.ratelimit import DatabaseLimiter, MemoryLimiter, RedisLimiter
from core.setting_types import RateSpec, parse_networks
from core.settings import Settings
from retrieval.engine import SearchEngine
from retrieval.live import LiveSearch
from tests.staff import DEMO_PASSWORD, StubRasa, client_for
from web.app import create_app
from web.client_address import ClientAddress

PRODUCTION = {
    "environment": "production",
    "rasa_token": "r" * 40,
    "session_secret": "s" * 40,
    "public_base_url": "https://zwfw.example.gov.cn",
}


# -- 1. local mode only on loopback; secrets generated, never a known default -----------------------


@pytest.mark.parametrize(
    ("setting", "value"),
    [("web_host", "0.0.0.0"), ("web_host", "192.168.1.10"), ("rasa_url", "http://10.0.0.5:5005")],
)
def test_local_mode_refuses_a_listener_that_is_not_loopback(tmp_path: Path, setting: str, value: str) -> None:
    with pytest.raises(ValueError, match=r"local mode listens on loopback only.*ENVIRONMENT=production"):
        Settings.model_validate({"data_dir": tmp_path, setting: value})


def test_local_mode_accepts_loopback_listeners(tmp_path: Path) -> None:
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert Settings(data_dir=tmp_path, web_host=host).web_host == host


def test_a_missing_secret_is_generated_once_with_owner_only_permissions(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path)
    again = Settings(data_dir=tmp_path)
    other = Settings(data_dir=tmp_path / "elsewhere")
    path = tmp_path / "local-secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.session_secret) >= 32 and len(first.rasa_token) >= 32
    assert first.session_secret != first.rasa_token
    assert (again.session_secret, again.rasa_token) == (first.session_secret, first.rasa_token)
    assert other.session_secret != first.session_secret
    for known in ("dev-session-secret", "dev-rasa-token", "change-me"):
        assert known not in path.read_text()
    path.chmod(0o644)  # loosened by someone: put back
    Settings(data_dir=tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_set_secret_is_kept(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, session_secret="mine-" * 8)
    assert s.session_secret == "mine-" * 8


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"session_secret": ""}, "SESSION_SECRET"),
        ({"session_secret": "dev-session-secret"}, "SESSION_SECRET"),
        ({"session_secret": "too-short"}, "SESSION_SECRET"),
        ({"rasa_token": "dev-rasa-token"}, "RASA_TOKEN"),
        ({"public_base_url": ""}, "PUBLIC_BASE_URL"),
    ],
)
def test_production_refuses_to_start_with_incomplete_settings(
    tmp_path: Path, override: dict[str, str], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        Settings.model_validate({"data_dir": tmp_path, **PRODUCTION, **override})


def test_production_binds_anywhere_and_generates_nothing(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, web_host="0.0.0.0", **PRODUCTION)  # type: ignore[arg-type]
    assert s.session_secret == "s" * 40 and not (tmp_path / "local-secrets.json").exists()
    assert s.base_url == "https://zwfw.example.gov.cn"


def test_demo_accounts_do_not_log_in_through_a_proxy_in_local_mode(client: TestClient) -> None:
    r = client.post(
        "/api/auth/login",
        json={"username": "admin", "password": DEMO_PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert r.status_code == 403 and "本机" in r.json()["detail"]


# -- 2. demo accounts in production ---------------------------------------------------------------


def _app(settings: Settings, engine: SearchEngine) -> FastAPI:
    live = LiveSearch(settings, engine=engine)
    live.ready = True
    return create_app(settings=settings, live=live, rasa=StubRasa())  # type: ignore[arg-type]


def test_production_refuses_to_start_while_a_demo_account_is_enabled(
    settings: Settings, engine: SearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ops.accounts import main

    with TestClient(_app(settings, engine)):  # a local start creates the demo accounts
        pass
    production = Settings(database_url=settings.database_url, data_dir=settings.data_dir, **PRODUCTION)  # type: ignore[arg-type]
    with (
        pytest.raises(DemoAccountsEnabled, match=r"python -m ops\.accounts disable admin"),
        TestClient(_app(production, engine)),
    ):
        pass
    url = ["--database-url", settings.database_url]
    for name in ("agent1", "editor1", "reviewer1", "admin"):
        assert main([*url, "disable", name]) == 0
    with TestClient(_app(production, engine)) as c:  # starts now
        r = c.post("/api/auth/login", json={"username": "admin", "password": DEMO_PASSWORD})
        assert r.status_code == 401
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main([*url, "list"]) == 0


def test_disabling_an_account_ends_its_sessions(app: FastAPI) -> None:
    c = client_for(app)
    r = c.post("/api/auth/login", json={"username": "editor1", "password": DEMO_PASSWORD})
    assert r.status_code == 200
    app.state.auth.accounts.set_disabled("editor1")
    assert c.get("/api/auth/me").status_code == 401
    assert app.state.auth.accounts.authenticate("editor1", DEMO_PASSWORD) is None
    app.state.auth.accounts.set_disabled("editor1", False)
    assert app.state.auth.accounts.ensure_demo_accounts(DEMO_PASSWORD) == []


# -- 7. login throttling and client addresses ------------------------------------------------------


def _slow_checks(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Replace the password check with a slow failing one that records how many ran at once."""
    seen = {"calls": 0, "now": 0, "max": 0}
    lock = threading.Lock()

    def authenticate(username: str, password: str) -> Any:
        with lock:
            seen["calls"] += 1
            seen["now"] += 1
            seen["max"] = max(seen["max"], seen["now"])
        time.sleep(0.2)
        with lock:
            seen["now"] -= 1
        return None

    monkeypatch.setattr(app.state.auth.accounts, "authenticate", authenticate)
    return seen


def _parallel(app: FastAPI, bodies: list[dict[str, str]]) -> list[int]:
    codes: list[int] = []

    def go(body: dict[str, str]) -> None:
        codes.append(client_for(app).post("/api/auth/login", json=body).status_code)

    threads = [threading.Thread(target=go, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return codes


def test_parallel_guesses_are_counted_before_the_password_check(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _slow_checks(app, monkeypatch)
    codes = _parallel(app, [{"username": "agent1", "password": f"guess-{i}"} for i in range(12)])
    assert seen["calls"] == 5  # LOGIN_THROTTLE 5/300: the rest never reach argon2
    assert sorted(codes) == [401] * 5 + [429] * 7


def test_password_checks_run_at_most_login_concurrency_at_once(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _slow_checks(app, monkeypatch)
    codes = _parallel(app, [{"username": f"nobody{i}", "password": "x"} for i in range(6)])
    assert codes == [401] * 6 and seen["calls"] == 6
    assert seen["max"] <= app.state.settings.login_concurrency == 2


def _request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    none_trusted = ClientAddress(())
    assert none_trusted(_request("10.0.0.2", "1.2.3.4")) == "10.0.0.2"
    proxy = ClientAddress(parse_networks("10.0.0.0/8, 127.0.0.1"))
    assert proxy(_request("10.0.0.2", "1.2.3.4")) == "1.2.3.4"
    assert proxy(_request("10.0.0.2", "6.6.6.6, 1.2.3.4, 10.0.0.9")) == "1.2.3.4"  # spoofed left part
    assert proxy(_request("8.8.8.8", "1.2.3.4")) == "8.8.8.8"  # not a proxy of ours
    assert proxy(_request("10.0.0.2")) == "10.0.0.2"


# -- 7. limits shared across processes -----------------------------------------------------------


@pytest.fixture
def redis_url() -> Iterator[str]:
    import redis

    url = "redis://127.0.0.1:6379/14"
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {url} is needed for this test: {exc}")
    yield url


def test_redis_limits_are_shared_between_limiters(redis_url: str) -> None:
    prefix = f"banshi-test:{time.time_ns()}:"
    a, b = RedisLimiter(RateSpec(3, 60), redis_url, prefix), RedisLimiter(RateSpec(3, 60), redis_url, prefix)
    assert [a.check("k"), b.check("k"), a.check("k")] == [0.0, 0.0, 0.0]
    assert b.check("k") > 0 and a.blocked("k") > 0 and a.check("other") == 0.0
    a.reset("k")
    assert b.check("k") == 0.0


def test_stream_cap_per_client_is_shared_between_replicas(redis_url: str) -> None:
    import redis
    from fastapi import HTTPException

    from web.limits import SharedStreamGate

    client = f"203.0.113.{time.time_ns() % 250}-{time.time_ns()}"
    one, two = SharedStreamGate(2, 100, redis_url), SharedStreamGate(2, 100, redis_url)  # two replicas
    first, second = one.acquire(client), two.acquire(client)
    with pytest.raises(HTTPException) as refused:
        one.acquire(client)  # the third stream, on either replica
    assert refused.value.status_code == 429 and two.open_streams(client) == 2
    one.release(client, first)
    third = two.acquire(client)
    # a replica killed while holding a stream: its lease expires instead of blocking the citizen
    r = redis.Redis.from_url(redis_url)
    r.zadd(one.prefix + client, {second: time.time() - 1})
    assert two.open_streams(client) == 1
    fourth = one.acquire(client)
    two.release(client, third)
    one.release(client, fourth)
    assert one.open_streams(client) == 0


def test_database_limits_are_shared_between_limiters(settings: Settings) -> None:
    migrate(settings.database_url)
    sessions = session_factory(settings.database_url)
    a, b = DatabaseLimiter(RateSpec(2, 60), sessions, "t:"), DatabaseLimiter(RateSpec(2, 60), sessions, "t:")
    assert a.check("k") == 0.0 and b.check("k") == 0.0
    assert a.check("k") > 0 and b.blocked("k") > 0
    b.reset("k")
    assert a.check("k") == 0.0


def test_memory_limiter_window_slides() -> None:
    limiter = MemoryLimiter(RateSpec(2, 0.2))
    assert limiter.check("k") == 0.0 and limiter.check("k") == 0.0 and limiter.check("k") > 0
    time.sleep(0.25)
    assert limiter.check("k") == 0.0
