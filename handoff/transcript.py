"""What a ticket carries of the conversation: stored chat messages as lines of text, and the message a
citizen left with a callback number."""

from __future__ import annotations

from typing import Any

from handoff.status import title_of
from handoff.tables import HandoffRow

LEFT_MESSAGE = "left_message"  # the ``kind`` of the transcript line holding a citizen's 留言


def describe(payload: dict[str, Any]) -> str:
    """One stored chat message as a line of text for the agent."""
    kind = payload.get("type")
    text = str(payload.get("text") or "")
    if kind == "card":
        return f"【一次性告知】{payload.get('title', '')}"
    if kind == "buttons":
        titles = " / ".join(str(b.get("title", "")) for b in payload.get("buttons") or [])
        return f"{text}（选项：{titles}）" if titles else text
    if kind == "handoff":
        return text or f"【转人工】{title_of(str(payload.get('status')))}"
    return text or f"[{kind}]"


def left_message(ticket: HandoffRow) -> str | None:
    """The message the citizen left with a callback number, if any."""
    if not ticket.callback_phone:
        return None
    lines = [t for t in ticket.transcript or [] if isinstance(t, dict) and t.get("role", "user") == "user"]
    marked = [t for t in lines if t.get("kind") == LEFT_MESSAGE]
    last = marked[-1] if marked else (lines[-1] if lines else None)  # (tickets from before the mark)
    text = str(last.get("text", "")).strip() if last else ""
    return text or None
