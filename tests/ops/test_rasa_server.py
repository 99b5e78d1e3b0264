"""ops/rasa_server.py: Rasa validates action answers as before, without re-checking the schema each time.

The module runs in the Rasa environment, so the checks run there in one subprocess.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from ops.supervisor import children
from tests.rasa_env import RASA_PY, run_in_rasa_env

CHECKS = r"""
import json
import jsonschema
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from ops.rasa_server import install_action_result_validator

action = RemoteAction("action_answer_service", None)
valid = {
    "events": [{"event": "slot", "name": "candidates", "value": ["a"], "timestamp": None}],
    "responses": [{"text": "您好", "buttons": [{"title": "转人工", "payload": "/request_human"}]}],
}
invalid = {"events": [{"event": "slot", "value": 1}], "responses": []}

def stock_error():
    try:
        action._validate_action_result(invalid)
    except jsonschema.ValidationError as e:
        return e.message
    return None

before = stock_error()
install_action_result_validator()
first = RemoteAction._validate_action_result
install_action_result_validator()  # a second call changes nothing
out = {"idempotent": RemoteAction._validate_action_result is first}

# the schema is checked once, at install: validation no longer calls check_schema
cls = validator_for(RemoteAction.action_response_format_spec())
def refuse(*args, **kwargs):
    raise AssertionError("check_schema called per validation")
check_schema = cls.check_schema
cls.check_schema = classmethod(refuse)
out["valid"] = action._validate_action_result(valid)
cls.check_schema = check_schema
out["same_error"] = stock_error() == before and before is not None
out["error"] = before
print("RESULT " + json.dumps(out, ensure_ascii=False))
"""


@pytest.mark.skipif(not RASA_PY.exists(), reason="needs the Rasa environment (.venv-rasa)")
def test_action_answers_validated_like_rasa_with_the_schema_checked_once() -> None:
    result = run_in_rasa_env(CHECKS)
    assert result["valid"] is True
    assert result["idempotent"] is True
    assert result["same_error"] is True, result["error"]
    assert "Failed to validate Action server response" in result["error"]


def test_supervisor_starts_rasa_through_the_launcher(tmp_path: Path) -> None:
    kids = children(Settings(), tmp_path / "banshi.tar.gz", tmp_path / "logs")
    rasa = next(k for k in kids if k.name == "rasa")
    assert rasa.argv[:3] == [str(RASA_PY), "-m", "ops.rasa_server"]
    assert rasa.argv[3] == "run"


STORE_CHECKS = r"""
import asyncio, json, sys
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from ops.rasa_server import install_sqlite_tracker_store_pool

db = sys.argv[1]
stock = SQLTrackerStore(dialect="sqlite", db=db + ".stock")
install_sqlite_tracker_store_pool()
install_sqlite_tracker_store_pool()  # a second call changes nothing
store = SQLTrackerStore(dialect="sqlite", db=db)

async def roundtrip(store):
    tracker = DialogueStateTracker("citizen-1", [])
    for e in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
              UserUttered("办二手房过户要准备什么资料", {"name": "ask_service", "confidence": 0.9})):
        tracker.update(e)
    await store.save(tracker)
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)  # only the new event is added
    again = await store.retrieve("citizen-1")
    return [e.type_name for e in again.events], again.latest_message.text

events, text = asyncio.run(roundtrip(store))
stock_events, _ = asyncio.run(roundtrip(stock))
with store.engine.connect() as conn:
    pragmas = {p: conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in ("journal_mode", "synchronous", "busy_timeout")}
print("RESULT " + json.dumps({
    "stock_pool": type(stock.engine.pool).__name__, "pool": type(store.engine.pool).__name__,
    "pragmas": pragmas, "events": events, "text": text, "stock_events": stock_events,
}, ensure_ascii=False))
"""


@pytest.mark.skipif(not RASA_PY.exists(), reason="needs the Rasa environment (.venv-rasa)")
def test_the_sqlite_tracker_store_gets_a_pool_and_the_apps_sqlite_settings(tmp_path: Path) -> None:
    out = run_in_rasa_env(STORE_CHECKS, str(tmp_path / "rasa.db"))
    assert out["stock_pool"] == "NullPool"  # Rasa's own: a new connection per read and per save
    assert out["pool"] == "QueuePool"
    assert out["pragmas"] == {"journal_mode": "wal", "synchronous": 1, "busy_timeout": 5000}  # 1 = NORMAL
    assert out["events"] == out["stock_events"] and "user" in out["events"]  # as Rasa's own store
    assert out["text"] == "办二手房过户要准备什么资料"
