"""The API fuzz run (issue 14, point 12): schemathesis over the app's own OpenAPI document, once
anonymous and once logged in as staff (admin), against the real app (real engine, fresh SQLite, Rasa
stubbed). Every response must be non-5xx, declared (status code, content type) and match its schema.

``make fuzz`` runs it with FUZZ_EXAMPLES=60 per operation and writes the case counts to
``var/fuzz-report.json``; inside ``make test`` a smoke run uses 5 per operation.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.migrate import migrate
from core.settings import ROOT, Settings
from retrieval.engine import SearchEngine
from retrieval.live import LiveSearch
from tests.staff import DEMO_PASSWORD, StubRasa
from web.app import create_app

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
REPORT = Path(os.environ.get("FUZZ_REPORT", ROOT / "var" / "fuzz-report.json"))
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
UNLIMITED = "1000000/60"
COUNTS: Counter[str] = Counter()
STAFF_SKIP = {("POST", "/api/auth/logout"), ("POST", "/api/auth/login")}  # keep the session; argon2 cost


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory, engine: SearchEngine) -> Iterator[FastAPI]:
    tmp = tmp_path_factory.mktemp("fuzz")
    s = Settings(
        database_url=f"sqlite:///{tmp / 'fuzz.db'}",
        data_dir=tmp,
        reload_interval_s=3600.0,
        chat_rate_limit=UNLIMITED,
        search_rate_limit=UNLIMITED,
        feedback_rate_limit=UNLIMITED,
        callback_rate_limit=UNLIMITED,
        stream_rate_limit=UNLIMITED,
        login_throttle=UNLIMITED,
        login_client_throttle=UNLIMITED,
    )
    migrate(s.database_url)
    live = LiveSearch(s, engine=engine)
    live.ready = True
    app = create_app(settings=s, live=live, rasa=StubRasa())  # type: ignore[arg-type]
    app.state.auth.accounts.ensure_demo_accounts(DEMO_PASSWORD)
    import web.routes.chat as chat

    chat.STREAM_SECONDS = 0  # a stream answers its first event and ends: no 300 s waits
    yield app
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps({"examples_per_operation": EXAMPLES, **COUNTS}, indent=2) + "\n")


@pytest.fixture(scope="module")
def staff_headers(fuzz_app: FastAPI) -> dict[str, str]:
    with TestClient(fuzz_app) as c:
        r = c.post("/api/auth/login", json={"username": "admin", "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
        return {"Cookie": cookie, "X-CSRF-Token": r.json()["csrf_token"]}


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


schema = schemathesis.pytest.from_fixture("fuzz_schema")
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)


def _run(case: Any, mode: str, headers: dict[str, str] | None = None) -> None:
    COUNTS[f"{mode}_cases"] += 1
    response = case.call(headers=headers)
    if response.status_code >= 500:
        COUNTS[f"{mode}_5xx"] += 1
    try:
        case.validate_response(response, checks=CHECKS)
    except Exception:
        COUNTS[f"{mode}_failures"] += 1
        raise


@schema.parametrize()
@FUZZ
def test_anonymous(case: Any) -> None:
    _run(case, "anonymous")


@schema.parametrize()
@FUZZ
def test_staff(case: Any, staff_headers: dict[str, str]) -> None:
    if (case.method.upper(), case.path) in STAFF_SKIP:
        return
    _run(case, "staff", staff_headers)
