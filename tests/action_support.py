"""What the action-server tests share: a tracker as Rasa sends it, running an action, reading a slot.
(The ``live`` fixture, which gives the actions a real engine and database, is in conftest.py.)"""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher


def tracker(
    text: str,
    intent: str,
    slots: dict[str, Any] | None = None,
    entities: list | None = None,
    history: list[dict[str, Any]] | None = None,
) -> Tracker:
    """A tracker whose latest message is ``text``, parsed as ``intent``. ``history``: the events before
    it, oldest first, as Rasa records them (user messages with their ``parse_data``, bot lines)."""
    return Tracker.from_dict(
        {
            "sender_id": "unit",
            "slots": slots or {},
            "latest_message": {
                "text": text,
                "intent": {"name": intent, "confidence": 0.9},
                "entities": entities or [],
            },
            "events": [*(history or []), {"event": "user", "text": text}],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


def run(action: Any, t: Tracker) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, {}))
    return events, dispatcher.messages


def slot(events: list[dict], name: str) -> Any:
    return next(e["value"] for e in events if e.get("event") == "slot" and e["name"] == name)
