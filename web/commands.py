"""Which messages may reach Rasa as commands (``/intent{"entity": "value"}``).

Rasa treats any message starting with ``/`` as an intent with entities, so a citizen typing
``/restart`` or ``/session_start`` would drive the dialogue engine directly. A message is passed on as a
command only when it is the payload of a button the assistant offered in the same conversation, or one
of the public commands below; anything else goes to Rasa as text (leading slashes removed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

# Commands any client may send (intents without entities that a button or an integration may send).
PUBLIC_COMMANDS = frozenset({"/greet", "/goodbye", "/thank", "/affirm", "/deny", "/request_human"})
_COMMAND = re.compile(r"^/([A-Za-z_][A-Za-z0-9_]*)(\{.*\})?$", re.S)
RECENT_BOT_MESSAGES = 50  # how far back offered buttons count


def canonical(text: str) -> str | None:
    """``/intent{...}`` with its entities in a fixed form; None when ``text`` is not a command."""
    m = _COMMAND.match(text.strip())
    if not m:
        return None
    intent, raw = m.group(1), m.group(2)
    if not raw:
        return f"/{intent}"
    try:
        entities = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(entities, dict):
        return None
    return f"/{intent}" + json.dumps(entities, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def payloads(value: Any) -> Iterable[str]:
    """Every button payload inside a stored message (buttons may sit inside cards)."""
    if isinstance(value, dict):
        payload = value.get("payload")
        if isinstance(payload, str) and payload.startswith("/"):
            yield payload
        for v in value.values():
            if isinstance(v, dict | list):
                yield from payloads(v)
    elif isinstance(value, list):
        for v in value:
            yield from payloads(v)


def offered(bot_messages: Iterable[dict[str, Any]]) -> set[str]:
    """The canonical payloads of the buttons in ``bot_messages``."""
    return {c for m in bot_messages for p in payloads(m) if (c := canonical(p)) is not None}


def to_rasa(message: str, offered_payloads: set[str]) -> str:
    """What to send to Rasa for the citizen's ``message``."""
    text = message.strip()
    if not text.startswith("/"):
        return message
    command = canonical(text)
    if command is not None and (command in PUBLIC_COMMANDS or command in offered_payloads):
        return text
    return text.lstrip("/").strip() or "？"
