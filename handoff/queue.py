"""The handoff queue: every change of a ticket's state, for the action server and the web app alike.

::

    open ──▶ waiting (an agent is online)                 open ──▶ offline (nobody is)
    waiting ──claim──▶ active ──close──▶ closed            offline ──leave_message──▶ left-message
    waiting ──cancel (the citizen)──▶ closed (cancelled)   left-message ──claim──▶ active
    active ──release──▶ waiting (left-message when a callback number was left)

Each change is one ``UPDATE handoffs … WHERE id = ? AND status IN (…)`` (and, for the holder's actions,
``AND claimed_by = ?``) whose row count says whether it happened: of two agents, or two replicas, trying
at once exactly one changes the row and the other gets :class:`~handoff.errors.TicketConflict`. The
citizen is told of each change by a system message in the conversation (``conversations.store``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Update, case, select, update
from sqlalchemy.orm import Session, sessionmaker

from conversations.store import Conversations
from conversations.tables import MessageRow
from core.accounts import Account
from core.db import utcnow
from handoff.errors import HandoffError, NotTicketHolder, TicketConflict, TicketNotFound
from handoff.status import (
    CANCELLED,
    CLAIMABLE,
    HANDED_OFF,
    QUEUE,
    RESOLUTIONS,
    HandoffReason,
    Resolution,
    TicketStatus,
    title_of,
)
from handoff.tables import HandoffRow
from handoff.transcript import LEFT_MESSAGE, describe

CLOSE_GRACE = dt.timedelta(seconds=5)  # the closing notice is stored just after the ticket closes
TRANSCRIPT_MESSAGES = 40  # how much of the conversation a ticket opened by the web app carries


def waiting_seconds(ticket: HandoffRow, now: dt.datetime) -> int:
    """How long the citizen waited for an agent (still waiting: until now)."""
    taken = ticket.status in (TicketStatus.ACTIVE, TicketStatus.CLOSED)
    until = ticket.claimed_at if taken and ticket.claimed_at else None
    if until is None and ticket.status == TicketStatus.CLOSED:
        until = ticket.closed_at
    return max(0, int(((until or now) - ticket.created_at).total_seconds()))


def _changed(s: Session, statement: Update) -> bool:
    """Run one conditional UPDATE; whether it changed the ticket."""
    return s.execute(statement).rowcount == 1  # type: ignore[attr-defined]


class HandoffQueue:
    def __init__(self, sessions: sessionmaker[Session], conversations: Conversations | None = None) -> None:
        self.sessions = sessions
        self.conversations = conversations or Conversations(sessions)

    # -- reading -------------------------------------------------------------------------------
    def tickets(self, statuses: Iterable[str] = QUEUE, limit: int = 200) -> list[HandoffRow]:
        """Tickets in the given states, oldest first."""
        with self.sessions() as s:
            return list(
                s.scalars(
                    select(HandoffRow)
                    .where(HandoffRow.status.in_(tuple(statuses)))
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

    def handed_off(self, sender_id: str) -> HandoffRow | None:
        """The conversation's ticket while it is with a person (waiting or active): the bot stays silent
        and the conversation does not idle out."""
        with self.sessions() as s:
            return s.scalars(
                select(HandoffRow)
                .where(HandoffRow.sender_id == sender_id, HandoffRow.status.in_(HANDED_OFF))
                .order_by(HandoffRow.id.desc())
            ).first()

    def messages(self, ticket: HandoffRow) -> list[MessageRow]:
        """Chat messages of the ticket's conversation stored since the ticket was opened (up to its
        closing notice)."""
        query = (
            select(MessageRow)
            .where(MessageRow.sender_id == ticket.sender_id, MessageRow.created_at >= ticket.created_at)
            .order_by(MessageRow.id)
            .limit(500)
        )
        if ticket.closed_at is not None:
            query = query.where(MessageRow.created_at <= ticket.closed_at + CLOSE_GRACE)
        with self.sessions() as s:
            return list(s.scalars(query))

    # -- opening -------------------------------------------------------------------------------
    def open(
        self,
        sender_id: str,
        reason: HandoffReason,
        *,
        online: bool,
        current_service: str | None = None,
        slots: dict[str, Any] | None = None,
        candidates: list[Any] | None = None,
        transcript: list[dict[str, Any]] | None = None,
    ) -> HandoffRow:
        """A new ticket: ``waiting`` for an agent when one is ``online`` (``handoff.presence``), else
        ``offline`` (the citizen may leave a callback number). ``transcript`` is the conversation so far,
        already masked (the bot's action passes its tracker's); without it, the conversation's stored
        messages (the web app, when the bot cannot hand off)."""
        if transcript is None:
            transcript = self._stored_transcript(sender_id)
        ticket = HandoffRow(
            sender_id=sender_id,
            status=TicketStatus.WAITING if online else TicketStatus.OFFLINE,
            reason=reason,
            current_service=current_service,
            slots=slots or {},
            candidates=candidates or [],
            transcript=transcript,
        )
        with self.sessions.begin() as s:
            s.add(ticket)
            s.flush()
            s.expunge(ticket)
        return ticket

    def _stored_transcript(self, sender_id: str) -> list[dict[str, Any]]:
        with self.sessions() as s:
            rows = s.scalars(
                select(MessageRow)
                .where(MessageRow.sender_id == sender_id, MessageRow.role.in_(("user", "bot")))
                .order_by(MessageRow.id.desc())
                .limit(TRANSCRIPT_MESSAGES)
            ).all()
        return [
            {"role": r.role, "text": self.conversations.mask(describe(r.payload))} for r in reversed(rows)
        ]

    # -- the citizen's changes ---------------------------------------------------------------------
    def cancel_waiting(self, sender_id: str) -> HandoffRow:
        """The citizen stops waiting for an agent and goes back to the bot.

        Only a ticket nobody has taken yet can be withdrawn: of a cancel and a claim in the same instant
        exactly one wins. Once an agent is talking, the agent ends the conversation.
        """
        now = utcnow()
        with self.sessions.begin() as s:
            ticket_id = self._latest(s, sender_id, TicketStatus.WAITING)
            changed = ticket_id is not None and _changed(
                s,
                update(HandoffRow)
                .where(HandoffRow.id == ticket_id, HandoffRow.status == TicketStatus.WAITING)
                .values(status=TicketStatus.CLOSED, resolution=CANCELLED, closed_at=now, updated_at=now),
            )
        if ticket_id is None or not changed:
            raise TicketConflict(ticket_id or 0, "没有正在等待的人工服务可以取消（客服可能已经接入）。")
        self.conversations.add(
            sender_id,
            "system",
            {"type": "handoff", "status": CANCELLED, "text": "已取消转人工，智能助手继续为您服务。"},
        )
        return self.get(ticket_id)

    def leave_message(self, sender_id: str, phone: str, message: str = "") -> HandoffRow:
        """留言: nobody was online when the conversation was handed off; the citizen leaves one callback
        number (checked by the caller) and a message (masked here) on that ``offline`` ticket, which
        becomes ``left-message`` for agents to call back. Once per ticket."""
        with self.sessions.begin() as s:
            ticket_id = self._latest(s, sender_id, TicketStatus.OFFLINE)
            ticket = s.get(HandoffRow, ticket_id) if ticket_id is not None else None
            if ticket is None:
                raise TicketConflict(0, "当前没有需要留言的转人工记录（已留言，或客服已在线）。")
            line = {"role": "user", "text": self.conversations.mask(message), "kind": LEFT_MESSAGE}
            changed = _changed(
                s,
                update(HandoffRow)
                .where(
                    HandoffRow.id == ticket.id,
                    HandoffRow.status == TicketStatus.OFFLINE,
                    HandoffRow.callback_phone.is_(None),
                )
                .values(
                    status=TicketStatus.LEFT_MESSAGE,
                    callback_phone=phone,
                    transcript=[*ticket.transcript, line],
                    updated_at=utcnow(),
                ),
            )
            if not changed:
                raise TicketConflict(ticket.id, "这次转人工已经留过电话了。")
        return self.get(ticket.id)

    @staticmethod
    def _latest(s: Session, sender_id: str, status: TicketStatus) -> int | None:
        return s.scalars(
            select(HandoffRow.id)
            .where(HandoffRow.sender_id == sender_id, HandoffRow.status == status)
            .order_by(HandoffRow.id.desc())
        ).first()

    # -- the agents' changes -------------------------------------------------------------------
    def claim(self, ticket_id: int, agent: Account) -> HandoffRow:
        """Take a waiting (or left-message) ticket; exactly one of several simultaneous claims wins."""
        now = utcnow()
        with self.sessions.begin() as s:
            changed = _changed(
                s,
                update(HandoffRow)
                .where(HandoffRow.id == ticket_id, HandoffRow.status.in_(CLAIMABLE))
                .values(
                    status=TicketStatus.ACTIVE, claimed_by=agent.username, claimed_at=now, updated_at=now
                ),
            )
        ticket = self.get(ticket_id)
        if not changed:
            who = f"已由 {ticket.claimed_by} 接入" if ticket.status == TicketStatus.ACTIVE else ""
            state = f"当前状态为“{title_of(ticket.status)}”"
            raise TicketConflict(ticket_id, f"工单 {ticket_id} {who or state}，不能接入。")
        self.conversations.add(
            ticket.sender_id,
            "system",
            {
                "type": "handoff",
                "status": TicketStatus.ACTIVE,
                "agent": agent.username,
                "text": f"人工客服（工号 {agent.username}）已接入，正在为您服务。",
            },
        )
        return ticket

    def reply(self, ticket_id: int, agent: Account, text: str) -> dict[str, Any]:
        """Send the agent's message to the citizen (only the agent holding the ticket)."""
        ticket = self._update_held(ticket_id, agent, "回复", {}, allow_admin=False)
        return self.conversations.add(
            ticket.sender_id, "agent", {"type": "text", "text": text, "agent": agent.username}
        )

    def release(self, ticket_id: int, agent: Account) -> HandoffRow:
        """Put a held ticket back in the queue (an admin may release anyone's): ``waiting``, or
        ``left-message`` when a callback number was left."""
        back = case(
            (HandoffRow.callback_phone.is_not(None), TicketStatus.LEFT_MESSAGE), else_=TicketStatus.WAITING
        )
        values = {"status": back, "claimed_by": None, "claimed_at": None}
        ticket = self._update_held(ticket_id, agent, "退回", values, allow_admin=True)
        if ticket.status == TicketStatus.WAITING:
            self.conversations.add(
                ticket.sender_id,
                "system",
                {
                    "type": "handoff",
                    "status": TicketStatus.WAITING,
                    "text": "正在为您转接其他人工客服，请稍候。",
                },
            )
        return ticket

    def close(self, ticket_id: int, agent: Account, resolution: Resolution) -> HandoffRow:
        """End the takeover with a resolution category; the citizen is told the bot is back."""
        if resolution not in RESOLUTIONS:
            raise ValueError(f"unknown resolution {resolution!r}")
        values = {"status": TicketStatus.CLOSED, "resolution": resolution, "closed_at": utcnow()}
        ticket = self._update_held(ticket_id, agent, "结束", values, allow_admin=True)
        self.conversations.add(
            ticket.sender_id,
            "system",
            {
                "type": "handoff",
                "status": TicketStatus.CLOSED,
                "resolution": resolution,
                "text": "人工服务已结束，智能助手继续为您服务。",
            },
        )
        return ticket

    def _update_held(
        self, ticket_id: int, agent: Account, action: str, values: dict[str, Any], allow_admin: bool
    ) -> HandoffRow:
        """Apply ``values`` to an active ticket held by ``agent`` (or by anyone, for an admin if allowed)."""
        query = update(HandoffRow).where(HandoffRow.id == ticket_id, HandoffRow.status == TicketStatus.ACTIVE)
        if not (allow_admin and agent.role == "admin"):
            query = query.where(HandoffRow.claimed_by == agent.username)
        with self.sessions.begin() as s:
            changed = _changed(s, query.values(updated_at=utcnow(), **values))
        if not changed:
            raise self._diagnose(ticket_id, agent, action, allow_admin)
        return self.get(ticket_id)

    def _diagnose(self, ticket_id: int, agent: Account, action: str, allow_admin: bool) -> HandoffError:
        """Why a conditional update on an active ticket matched nothing."""
        ticket = self.get(ticket_id)
        if ticket.status != TicketStatus.ACTIVE:
            return TicketConflict(
                ticket_id, f"工单 {ticket_id} 当前状态为“{title_of(ticket.status)}”，不能{action}。"
            )
        if ticket.claimed_by != agent.username and not (allow_admin and agent.role == "admin"):
            return NotTicketHolder(
                ticket_id, f"工单 {ticket_id} 由 {ticket.claimed_by} 接入，只有接入的坐席可以{action}。"
            )
        return TicketConflict(ticket_id, f"工单 {ticket_id} 刚刚被修改，请刷新后重试。")
