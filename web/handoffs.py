"""The handoff queue: tickets waiting for, held by, or closed by a 12345 hotline agent.

State machine (every change is one conditional UPDATE, so two agents never hold the same ticket)::

    waiting ──claim──▶ active ──close──▶ closed
    left-message ──claim──▶ active ──release──▶ waiting (or left-message when a callback number was left)

``offline`` tickets (nobody online, no message left yet) become ``left-message`` when the citizen leaves
a callback number (``POST /api/chat/{sender_id}/callback``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session, sessionmaker

from conversations.tables import MessageRow
from core.accounts import Account
from core.db import utcnow
from handoff.tables import HandoffRow
from knowledge.checklist import UNSURE
from knowledge.models import Entry
from knowledge.render import PART_TITLES
from web.commands import canonical
from web.conversations import Conversations

STATUSES = ("waiting", "active", "left-message", "offline", "closed")
QUEUE_STATUSES = ("waiting", "active", "left-message")  # what the console shows by default
CLAIMABLE = ("waiting", "left-message")
Resolution = Literal["answered", "referred", "complaint_filed", "called_back", "no_response", "other"]
RESOLUTIONS: dict[Resolution, str] = {
    "answered": "已解答",
    "referred": "已转交相关部门",
    "complaint_filed": "已登记投诉",
    "called_back": "已回电",
    "no_response": "群众无回应",
    "other": "其他",
}
CANCELLED = "cancelled"  # the resolution of a ticket the citizen withdrew before any agent took it
CLOSE_GRACE = dt.timedelta(seconds=5)
STATUS_TITLES = {
    "waiting": "排队中",
    "active": "处理中",
    "left-message": "留言待回电",
    "offline": "无人在线",
    "closed": "已结束",
}


class HandoffError(Exception):
    """A ticket action that cannot be done (web/errors.py turns it into an HTTP answer)."""

    def __init__(self, ticket_id: int, message: str) -> None:
        super().__init__(message)
        self.ticket_id = ticket_id
        self.message = message


class TicketNotFound(HandoffError):
    """No such ticket."""


class TicketConflict(HandoffError):
    """The ticket is not in a state that allows the action (e.g. someone else claimed it first)."""


class NotTicketHolder(HandoffError):
    """The ticket is held by another agent."""


# what a public command button says (the widget's 转人工 button and integrations send these)
COMMAND_TITLES = {
    "/request_human": "转人工",
    "/greet": "你好",
    "/goodbye": "再见",
    "/thank": "谢谢",
    "/affirm": "是",
    "/deny": "否",
}
LEFT_MESSAGE = "left_message"  # the ``kind`` of the transcript line holding a citizen's 留言


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


def left_message(ticket: HandoffRow) -> str | None:
    """The message the citizen left with a callback number, if any."""
    if not ticket.callback_phone:
        return None
    lines = [t for t in ticket.transcript or [] if isinstance(t, dict) and t.get("role", "user") == "user"]
    marked = [t for t in lines if t.get("kind") == LEFT_MESSAGE]
    last = marked[-1] if marked else (lines[-1] if lines else None)  # (tickets from before the mark)
    text = str(last.get("text", "")).strip() if last else ""
    return text or None


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
        return text or f"【转人工】{STATUS_TITLES.get(str(payload.get('status')), payload.get('status'))}"
    return text or f"[{kind}]"


class HandoffQueue:
    def __init__(self, sessions: sessionmaker[Session], conversations: Conversations) -> None:
        self.sessions = sessions
        self.conversations = conversations

    # -- reading -------------------------------------------------------------------------------
    def tickets(self, statuses: tuple[str, ...] = QUEUE_STATUSES, limit: int = 200) -> list[HandoffRow]:
        """Tickets in the given states, oldest first."""
        with self.sessions() as s:
            return list(
                s.scalars(
                    select(HandoffRow)
                    .where(HandoffRow.status.in_(statuses))
                    .order_by(HandoffRow.created_at, HandoffRow.id)
                    .limit(limit)
                )
            )

    def get(self, ticket_id: int) -> HandoffRow:
        with self.sessions() as s:
            ticket = s.get(HandoffRow, ticket_id)
        if ticket is None:
            raise TicketNotFound(ticket_id, f"没有编号为 {ticket_id} 的工单。")
        return ticket

    def _messages(self, ticket: HandoffRow) -> list[MessageRow]:
        """Chat messages of the ticket's conversation stored since the ticket was opened."""
        query = (
            select(MessageRow)
            .where(MessageRow.sender_id == ticket.sender_id, MessageRow.created_at >= ticket.created_at)
            .order_by(MessageRow.id)
            .limit(500)
        )
        if ticket.closed_at is not None:  # (with the closing notice, stored just after)
            query = query.where(MessageRow.created_at <= ticket.closed_at + CLOSE_GRACE)
        with self.sessions() as s:
            return list(s.scalars(query))

    def offered_titles(self, ticket: HandoffRow) -> dict[str, str]:
        """The titles of the buttons the assistant offered in the conversation (payload → title)."""
        query = (
            select(MessageRow.payload)
            .where(MessageRow.sender_id == ticket.sender_id, MessageRow.role == "bot")
            .order_by(MessageRow.id)
            .limit(500)
        )
        titles: dict[str, str] = {}
        with self.sessions() as s:
            for payload in s.scalars(query):
                button_titles(payload, titles)
        return titles

    def history(self, ticket: HandoffRow, entry: Entry | None = None) -> list[dict[str, Any]]:
        """The full conversation: the transcript handed over, then every message since (masked). A
        button the citizen pressed reads as its title (``entry``: the service, for its options)."""
        titles = self.offered_titles(ticket)
        items: list[dict[str, Any]] = [
            {
                "id": None,
                "role": str(t.get("role", "user")),
                "text": chosen(self.conversations.mask(str(t.get("text", ""))), titles, entry)
                if t.get("role", "user") == "user"
                else str(t.get("text", "")),
                "at": None,
            }
            for t in ticket.transcript
            if isinstance(t, dict)
        ]
        for m in self._messages(ticket):
            # citizens' messages were masked when stored; the bureau's are shown as said
            text = describe(m.payload)
            if m.role == "user":
                text = chosen(text, titles, entry)
            item = {"id": m.id, "role": m.role, "text": text, "at": m.created_at}
            if m.payload.get("agent"):
                item["agent"] = str(m.payload["agent"])
            items.append(item)
        return items

    def citizen_texts(self, ticket: HandoffRow, n: int = 3) -> list[str]:
        """The citizen's last ``n`` typed messages (button payloads skipped), oldest first. The message
        that asked for a person (转人工, 没用) is about no service and is left out."""
        lines = [t for t in ticket.transcript if isinstance(t, dict) and t.get("role") == "user"]
        asked = [i for i, t in enumerate(lines) if t.get("kind") != LEFT_MESSAGE]
        if asked and ticket.reason in ("explicit", "negative_feedback"):
            del lines[asked[-1]]
        typed = [str(t.get("text", "")) for t in lines]
        typed += [str(m.payload.get("text", "")) for m in self._messages(ticket) if m.role == "user"]
        typed = [t for t in typed if t.strip() and not t.startswith("/")]
        return typed[-n:]

    # -- changing ------------------------------------------------------------------------------
    def _diagnose(self, ticket_id: int, agent: Account, action: str, allow_admin: bool) -> HandoffError:
        """Why a conditional update on an active ticket matched nothing."""
        ticket = self.get(ticket_id)
        if ticket.status != "active":
            title = STATUS_TITLES.get(ticket.status, ticket.status)
            return TicketConflict(ticket_id, f"工单 {ticket_id} 当前状态为“{title}”，不能{action}。")
        if ticket.claimed_by != agent.username and not (allow_admin and agent.role == "admin"):
            return NotTicketHolder(
                ticket_id, f"工单 {ticket_id} 由 {ticket.claimed_by} 接入，只有接入的坐席可以{action}。"
            )
        return TicketConflict(ticket_id, f"工单 {ticket_id} 刚刚被修改，请刷新后重试。")

    def _update_held(
        self, ticket_id: int, agent: Account, action: str, values: dict[str, Any], allow_admin: bool
    ) -> HandoffRow:
        """Apply ``values`` to an active ticket held by ``agent`` (or any, for an admin if allowed)."""
        query = update(HandoffRow).where(HandoffRow.id == ticket_id, HandoffRow.status == "active")
        if not (allow_admin and agent.role == "admin"):
            query = query.where(HandoffRow.claimed_by == agent.username)
        with self.sessions.begin() as s:
            changed = s.execute(query.values(updated_at=utcnow(), **values)).rowcount  # type: ignore[attr-defined]
        if changed != 1:
            raise self._diagnose(ticket_id, agent, action, allow_admin)
        return self.get(ticket_id)

    def claim(self, ticket_id: int, agent: Account) -> HandoffRow:
        """Take a waiting (or left-message) ticket; exactly one of several simultaneous claims wins."""
        now = utcnow()
        with self.sessions.begin() as s:
            changed = s.execute(
                update(HandoffRow)
                .where(HandoffRow.id == ticket_id, HandoffRow.status.in_(CLAIMABLE))
                .values(status="active", claimed_by=agent.username, claimed_at=now, updated_at=now)
            ).rowcount  # type: ignore[attr-defined]
        ticket = self.get(ticket_id)
        if changed != 1:
            who = f"已由 {ticket.claimed_by} 接入" if ticket.status == "active" else ""
            title = STATUS_TITLES.get(ticket.status, ticket.status)
            raise TicketConflict(
                ticket_id, f"工单 {ticket_id} {who or '当前状态为“' + title + '”'}，不能接入。"
            )
        self.conversations.add(
            ticket.sender_id,
            "system",
            {
                "type": "handoff",
                "status": "active",
                "agent": agent.username,
                "text": f"人工客服（工号 {agent.username}）已接入，正在为您服务。",
            },
        )
        return ticket

    def open_ticket(self, sender_id: str, reason: str, status: str = "waiting") -> HandoffRow:
        """A new ticket opened by the web app (the bot's own handoff action opens the others), with the
        conversation so far from the stored messages."""
        with self.sessions() as s:
            rows = s.scalars(
                select(MessageRow)
                .where(MessageRow.sender_id == sender_id, MessageRow.role.in_(("user", "bot")))
                .order_by(MessageRow.id.desc())
                .limit(40)
            ).all()
        transcript = [
            {"role": r.role, "text": self.conversations.mask(describe(r.payload))} for r in reversed(rows)
        ]
        with self.sessions.begin() as s:
            ticket = HandoffRow(sender_id=sender_id, status=status, reason=reason, transcript=transcript)
            s.add(ticket)
            s.flush()
            s.expunge(ticket)
        return ticket

    def cancel_waiting(self, sender_id: str) -> HandoffRow:
        """The citizen stops waiting for an agent and goes back to the bot.

        Only a ticket nobody has taken yet can be withdrawn (a conditional update: of a cancel and a claim
        in the same instant exactly one wins); once an agent is talking, the agent ends the conversation.
        """
        now = utcnow()
        with self.sessions.begin() as s:
            ticket_id = s.scalars(
                select(HandoffRow.id)
                .where(HandoffRow.sender_id == sender_id, HandoffRow.status == "waiting")
                .order_by(HandoffRow.id.desc())
            ).first()
            changed = 0
            if ticket_id is not None:
                changed = s.execute(
                    update(HandoffRow)
                    .where(HandoffRow.id == ticket_id, HandoffRow.status == "waiting")
                    .values(status="closed", resolution=CANCELLED, closed_at=now, updated_at=now)
                ).rowcount  # type: ignore[attr-defined]
        if ticket_id is None or changed != 1:
            raise TicketConflict(ticket_id or 0, "没有正在等待的人工服务可以取消（客服可能已经接入）。")
        self.conversations.add(
            sender_id,
            "system",
            {"type": "handoff", "status": "cancelled", "text": "已取消转人工，智能助手继续为您服务。"},
        )
        return self.get(ticket_id)

    def reply(self, ticket_id: int, agent: Account, text: str) -> dict[str, Any]:
        """Send the agent's message to the citizen (only the agent holding the ticket)."""
        ticket = self._update_held(ticket_id, agent, "回复", {}, allow_admin=False)
        return self.conversations.add(
            ticket.sender_id, "agent", {"type": "text", "text": text, "agent": agent.username}
        )

    def release(self, ticket_id: int, agent: Account) -> HandoffRow:
        """Put a held ticket back in the queue (an admin may release anyone's)."""
        back = case((HandoffRow.callback_phone.is_not(None), "left-message"), else_="waiting")
        ticket = self._update_held(
            ticket_id,
            agent,
            "退回",
            {"status": back, "claimed_by": None, "claimed_at": None},
            allow_admin=True,
        )
        if ticket.status == "waiting":
            self.conversations.add(
                ticket.sender_id,
                "system",
                {"type": "handoff", "status": "waiting", "text": "正在为您转接其他人工客服，请稍候。"},
            )
        return ticket

    def close(self, ticket_id: int, agent: Account, resolution: Resolution) -> HandoffRow:
        """End the takeover with a resolution category; the citizen is told the bot is back."""
        if resolution not in RESOLUTIONS:
            raise ValueError(f"unknown resolution {resolution!r}")
        ticket = self._update_held(
            ticket_id,
            agent,
            "结束",
            {"status": "closed", "resolution": resolution, "closed_at": utcnow()},
            allow_admin=True,
        )
        self.conversations.add(
            ticket.sender_id,
            "system",
            {
                "type": "handoff",
                "status": "closed",
                "resolution": resolution,
                "text": "人工服务已结束，智能助手继续为您服务。",
            },
        )
        return ticket


def waiting_seconds(ticket: HandoffRow, now: dt.datetime) -> int:
    """How long the citizen waited for an agent (still waiting: until now)."""
    until = ticket.claimed_at if ticket.status in ("active", "closed") and ticket.claimed_at else None
    if until is None and ticket.status == "closed":
        until = ticket.closed_at
    return max(0, int(((until or now) - ticket.created_at).total_seconds()))
