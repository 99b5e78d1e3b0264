"""How the agent console shows a ticket: the conversation as the citizen saw it (a button press reads as
its title, 〔点选〕是), the situation questions answered, and the citizen's own words for suggestions.

The ticket itself (its states, the queue) is ``handoff/``; this module only reads it.
"""

from __future__ import annotations

import json
from typing import Any

from handoff.queue import HandoffQueue
from handoff.status import ASKED_FOR_A_PERSON
from handoff.tables import HandoffRow
from handoff.transcript import LEFT_MESSAGE, describe
from knowledge.checklist import UNSURE
from knowledge.models import Entry
from knowledge.render import PART_TITLES
from web.commands import canonical

# what a public command button says (the widget's 转人工 button and integrations send these)
COMMAND_TITLES = {
    "/request_human": "转人工",
    "/greet": "你好",
    "/goodbye": "再见",
    "/thank": "谢谢",
    "/affirm": "是",
    "/deny": "否",
}
OFFERED_MESSAGES = 500  # how many of the assistant's last messages are searched for button titles


def button_titles(value: Any, into: dict[str, str] | None = None) -> dict[str, str]:
    """Canonical payload → the title the citizen saw, for every button inside stored messages."""
    out = {} if into is None else into
    if isinstance(value, dict):
        payload, title = value.get("payload"), value.get("title") or value.get("label")
        if isinstance(payload, str) and isinstance(title, str) and title and (c := canonical(payload)):
            out[c] = title
        for v in value.values():
            if isinstance(v, dict | list):
                button_titles(v, out)
    elif isinstance(value, list):
        for v in value:
            button_titles(v, out)
    return out


def option_label(entry: Entry | None, value: str, situation: str | None = None) -> str | None:
    """The label of a situation option (``yes`` → 是) in ``entry``; ``situation`` narrows it down."""
    if value == UNSURE:
        return "不确定"
    for s in entry.situations if entry else []:
        if situation is None or s.id == situation:
            for o in s.options:
                if o.value == value:
                    return o.label
    return None


def chosen(text: str, titles: dict[str, str], entry: Entry | None) -> str:
    """A button payload the citizen sent (``/choose_option{"option":"yes"}``) as what they saw and
    chose (``〔点选〕是``); any other text as it is."""
    command = canonical(text) if text.startswith("/") else None
    if command is None:
        return text
    title = titles.get(command) or COMMAND_TITLES.get(command)
    if title is None and command.startswith("/choose_option{"):
        entities = json.loads(command[len("/choose_option") :])  # canonical: valid JSON
        title = option_label(entry, str(entities.get("option", "")))
    return f"〔点选〕{title}" if title else "〔点选了一个按钮〕"


def filled_in(slots: dict[str, Any], entry: Entry | None) -> list[dict[str, str]]:
    """What the citizen told the assistant, as the citizen saw it: each answered situation question
    with the option chosen (是否已婚？→ 是), and the part of the guide asked about."""
    out: list[dict[str, str]] = []
    answers = slots.get("situations")
    by_id = {s.id: s for s in entry.situations} if entry else {}
    if isinstance(answers, dict):
        for sid, value in answers.items():
            question = by_id[sid].question if sid in by_id else str(sid)
            label = option_label(entry, str(value), str(sid)) or str(value)
            out.append({"label": question, "value": label})
    part = slots.get("requested_part")
    if isinstance(part, str) and part:
        titles = [PART_TITLES.get(p, p) for p in part.split(",") if p]
        out.append({"label": "想了解", "value": "、".join(titles)})
    return out


def offered_titles(queue: HandoffQueue, ticket: HandoffRow) -> dict[str, str]:
    """The titles of the buttons the assistant offered in the conversation (payload → title; a later
    offer of the same payload wins)."""
    titles: dict[str, str] = {}
    for payload in reversed(queue.conversations.recent_bot_payloads(ticket.sender_id, OFFERED_MESSAGES)):
        button_titles(payload, titles)
    return titles


def history(queue: HandoffQueue, ticket: HandoffRow, entry: Entry | None = None) -> list[dict[str, Any]]:
    """The full conversation: the transcript handed over, then every message since (masked). A button
    the citizen pressed reads as its title (``entry``: the service, for its options)."""
    titles = offered_titles(queue, ticket)
    mask = queue.conversations.mask
    items: list[dict[str, Any]] = [
        {
            "id": None,
            "role": str(t.get("role", "user")),
            "text": chosen(mask(str(t.get("text", ""))), titles, entry)
            if t.get("role", "user") == "user"
            else str(t.get("text", "")),
            "at": None,
        }
        for t in ticket.transcript
        if isinstance(t, dict)
    ]
    for m in queue.messages(ticket):
        # citizens' messages were masked when stored; the bureau's are shown as said
        text = describe(m.payload)
        if m.role == "user":
            text = chosen(text, titles, entry)
        item = {"id": m.id, "role": m.role, "text": text, "at": m.created_at}
        if m.payload.get("agent"):
            item["agent"] = str(m.payload["agent"])
        items.append(item)
    return items


def citizen_texts(queue: HandoffQueue, ticket: HandoffRow, n: int = 3) -> list[str]:
    """The citizen's last ``n`` typed messages (button payloads skipped), oldest first. The message that
    asked for a person (转人工, 没用) is about no service and is left out."""
    lines = [t for t in ticket.transcript if isinstance(t, dict) and t.get("role") == "user"]
    asked = [i for i, t in enumerate(lines) if t.get("kind") != LEFT_MESSAGE]
    if asked and ticket.reason in ASKED_FOR_A_PERSON:
        del lines[asked[-1]]
    typed = [str(t.get("text", "")) for t in lines]
    typed += [str(m.payload.get("text", "")) for m in queue.messages(ticket) if m.role == "user"]
    typed = [t for t in typed if t.strip() and not t.startswith("/")]
    return typed[-n:]
