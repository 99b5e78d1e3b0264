"""The API fuzz run: schemathesis over the app's own OpenAPI document, once
anonymous and once logged in as staff (admin), against the real app (real engine on the seed entries,
a fresh SQLite database, Rasa stubbed). Every response must be non-5xx, declared (status code, content
type) and match its schema.

    python -m tests.fuzz.runner --examples 25     # make fuzz; writes var/fuzz-report.json

``tests/fuzz/test_fuzz_smoke.py`` runs it with 3 examples per operation inside ``make test``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.migrate import migrate
from core.setting_types import RateSpec
from core.settings import ROOT, Settings
from retrieval.live import LiveSearch
from tests.staff import DEMO_PASSWORD, StubRasa
from web.app import create_app

CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
UNLIMITED = RateSpec(1_000_000, 60)
STAFF_SKIP = {("POST", "/api/auth/logout"), ("POST", "/api/auth/login")}  # keep the session; argon2 cost
REPORT = ROOT / "var" / "fuzz-report.json"


def fuzz_settings(tmp: Path) -> Settings:
    return Settings(
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


def fuzz_app(s: Settings, live: LiveSearch) -> FastAPI:
    import web.routes.chat as chat

    chat.STREAM_SECONDS = 0  # a stream sends its first event and ends: no 300 s waits
    migrate(s.database_url)
    app = create_app(settings=s, live=live, rasa=StubRasa())  # type: ignore[arg-type]
    app.state.auth.accounts.ensure_demo_accounts(DEMO_PASSWORD)
    return app


def staff_headers(app: FastAPI) -> dict[str, str]:
    with TestClient(app) as c:
        r = c.post("/api/auth/login", json={"username": "admin", "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
        return {"Cookie": cookie, "X-CSRF-Token": r.json()["csrf_token"]}


def _operation_test(
    operation: Any,
    mode: str,
    headers: dict[str, str] | None,
    examples: int,
    counts: Counter[str],
    failures: list[dict[str, str]],
) -> Any:
    """A hypothesis test calling ``operation`` with generated cases; each distinct failure recorded once."""
    seen: set[str] = set()

    @given(case=operation.as_strategy())
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: Any) -> None:
        counts[f"{mode}_cases"] += 1
        response = case.call(headers=headers, timeout=60)  # a loaded machine can take seconds
        if response.status_code >= 500 and not (case.path == "/healthz" and response.status_code == 503):
            counts[f"{mode}_5xx"] += 1
        try:
            # /healthz answers 503 by design while a component is down (here: no action server)
            checks = CHECKS[1:] if case.path == "/healthz" else CHECKS
            case.validate_response(response, checks=checks)
        except (Exception, BaseExceptionGroup) as exc:  # every check failure is recorded, not raised
            key = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            if key not in seen:
                seen.add(key)
                failures.append({"mode": mode, "operation": operation.label, "failure": str(exc)[:600]})
            counts[f"{mode}_failures"] += 1

    return run


def fuzz(app: FastAPI, examples: int) -> dict[str, Any]:
    """Run both passes; returns case counts, 5xx count and every failure (operation, check, message)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    counts: Counter[str] = Counter()
    failures: list[dict[str, str]] = []
    staff = staff_headers(app)
    started = time.monotonic()
    for mode, headers in (("anonymous", None), ("staff", staff)):
        for result in schema.get_all_operations():
            operation = result.ok()  # type: ignore[union-attr]
            if mode == "staff" and (operation.method.upper(), operation.path) in STAFF_SKIP:
                continue
            run = _operation_test(operation, mode, headers, examples, counts, failures)
            try:
                run()
            except (Exception, BaseExceptionGroup):  # generation errors: a failure of the operation
                failures.append(
                    {"mode": mode, "operation": operation.label, "failure": traceback.format_exc()[-600:]}
                )
    return {
        "examples_per_operation": examples,
        "operations": sum(1 for _ in schema.get_all_operations()),
        **{
            k: counts.get(k, 0)
            for k in (
                "anonymous_cases",
                "anonymous_5xx",
                "anonymous_failures",
                "staff_cases",
                "staff_5xx",
                "staff_failures",
            )
        },
        "seconds": round(time.monotonic() - started),
        "failures": failures,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.runner", description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=25, help="generated cases per operation and pass")
    parser.add_argument("--report", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    from knowledge.cli import main as knowledge_cli

    # a fresh database each run; the index and embedding cache in var/fuzz are kept between runs
    tmp = ROOT / "var" / "fuzz"
    tmp.mkdir(parents=True, exist_ok=True)
    for old in tmp.glob("fuzz.db*"):
        old.unlink()
    s = fuzz_settings(tmp)
    assert knowledge_cli(["--database-url", s.database_url, "seed"]) == 0
    live = LiveSearch(s)
    live.warm_up()
    result = fuzz(fuzz_app(s, live), args.examples)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    summary = {k: v for k, v in result.items() if k != "failures"}
    print(json.dumps(summary, indent=2))
    for f in result["failures"]:
        print(f"FAIL [{f['mode']}] {f['operation']}: {f['failure']}", file=sys.stderr)
    return 1 if result["failures"] or result["anonymous_5xx"] or result["staff_5xx"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
