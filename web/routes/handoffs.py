"""The handoff queue for hotline agents: list, read, claim, reply, release, close, suggested answers.

Every endpoint needs a logged-in agent or admin (401 anonymous, 403 other roles); POSTs need the
X-CSRF-Token header. The queue's errors (``handoff.errors``) become 404 / 409 / 403 in ``web/errors.py``.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from core.db import utcnow
from core.pii import mask_data, mask_phone
from handoff.queue import waiting_seconds
from handoff.status import QUEUE, TicketStatus, title_of
from handoff.tables import HandoffRow
from handoff.transcript import left_message
from knowledge.models import Entry
from web.assist import for_conversation
from web.auth import AgentUser, AuthDep
from web.deps import HandoffsDep, LiveDep, RasaDep, SettingsDep
from web.rasa import RasaUnavailable
from web.schemas import (
    DB_INT_MAX,
    AssistResponse,
    ClosedTicket,
    CloseRequest,
    HistoryItem,
    ReplyRequest,
    SentMessage,
    TicketDetail,
    TicketPublic,
    TicketsPublic,
)
from web.ticket_view import citizen_texts, filled_in, history

log = logging.getLogger(__name__)
TicketId = Annotated[int, Path(ge=1, le=DB_INT_MAX, description="the ticket's id")]


def no_store(response: Response) -> None:
    """Tickets carry personal data: never cache them."""
    response.headers["Cache-Control"] = "no-store"


router = APIRouter(
    prefix="/api/handoffs",
    tags=["handoffs"],
    dependencies=[Depends(no_store)],
    responses={
        401: {"description": "not logged in"},
        403: {"description": "not an agent or admin, not the holder of the ticket, or no X-CSRF-Token"},
        404: {"description": "no such ticket"},
    },
)
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "the ticket is not in a state that allows this (e.g. claimed by another)"}
}


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value else None


def _fields(ticket: HandoffRow, sla_s: int, entries: dict[str, Entry], now: dt.datetime) -> dict[str, Any]:
    waited = waiting_seconds(ticket, now)
    entry = entries.get(ticket.current_service or "")
    return {
        "id": ticket.id,
        "sender_id": ticket.sender_id,
        "status": ticket.status,
        "status_title": title_of(ticket.status),
        "reason": ticket.reason,
        "current_service": ticket.current_service,
        "current_service_title": entry.title if entry else None,
        "slots": mask_data(ticket.slots or {}),
        "candidates": mask_data(ticket.candidates or []),
        # the citizen's lines masked (again: tickets may come from older versions); the bot's as said
        "transcript": [
            mask_data(t) if isinstance(t, dict) and t.get("role", "user") == "user" else t
            for t in ticket.transcript or []
        ],
        "waiting_seconds": waited,
        "over_sla": ticket.status == TicketStatus.WAITING and waited > sla_s,
        "claimed_by": ticket.claimed_by,
        "callback_phone": mask_phone(ticket.callback_phone) if ticket.callback_phone else None,
        "left_message": left_message(ticket),
        "filled": filled_in(ticket.slots or {}, entry),
        "resolution": ticket.resolution,
        "created_at": _utc(ticket.created_at),
        "claimed_at": _utc(ticket.claimed_at),
        "closed_at": _utc(ticket.closed_at),
    }


def _statuses(status: str | None) -> tuple[TicketStatus, ...]:
    if not status:
        return QUEUE
    wanted = tuple(dict.fromkeys(s.strip() for s in status.split(",") if s.strip()))
    known = [str(s) for s in TicketStatus]
    unknown = [s for s in wanted if s not in known]
    if unknown or not wanted:
        raise HTTPException(422, f"未知的工单状态：{'、'.join(unknown)}（可选：{', '.join(known)}）")
    return tuple(TicketStatus(s) for s in wanted)


@router.get("", response_model=TicketsPublic)
def list_tickets(
    agent: AgentUser,
    auth: AuthDep,
    queue: HandoffsDep,
    settings: SettingsDep,
    live: LiveDep,
    status: str | None = Query(
        None,
        description=f"comma-separated statuses ({', '.join(TicketStatus)}); default {','.join(QUEUE)}",
    ),
) -> TicketsPublic:
    """The queue, oldest first. Polling it keeps the agent counted as online (AGENT_PRESENCE_S)."""
    wanted = _statuses(status)
    auth.accounts.touch(agent.id)
    now, entries = utcnow(), live.engine.entries
    tickets = [
        TicketPublic(**_fields(t, settings.handoff_sla_s, entries, now)) for t in queue.tickets(wanted)
    ]
    return TicketsPublic(data=tickets, count=len(tickets), sla_seconds=settings.handoff_sla_s)


@router.get("/{ticket_id}", response_model=TicketDetail)
def get_ticket(
    ticket_id: TicketId, agent: AgentUser, queue: HandoffsDep, settings: SettingsDep, live: LiveDep
) -> TicketDetail:
    """One ticket with its full history: the transcript handed over plus every message since."""
    ticket = queue.get(ticket_id)
    holder = ticket.status == TicketStatus.ACTIVE and ticket.claimed_by == agent.username
    entries = live.engine.entries
    said = history(queue, ticket, entries.get(ticket.current_service or ""))
    return TicketDetail(
        **_fields(ticket, settings.handoff_sla_s, entries, utcnow()),
        history=[HistoryItem(**{**h, "at": _utc(h["at"])}) for h in said],
        callback_phone_full=ticket.callback_phone if holder else None,
    )


@router.get("/{ticket_id}/suggestions", response_model=AssistResponse)
def suggestions(ticket_id: TicketId, agent: AgentUser, queue: HandoffsDep, live: LiveDep) -> AssistResponse:
    """Up to 3 entries for the conversation: the service the bot was on first (with the score the bot
    gave it), then what the citizen's last 3 messages were clearly about; weak matches are left out."""
    ticket = queue.get(ticket_id)
    situations = (ticket.slots or {}).get("situations")
    answers = {str(k): str(v) for k, v in situations.items()} if isinstance(situations, dict) else {}
    return for_conversation(
        live.engine,
        citizen_texts(queue, ticket),
        current=ticket.current_service,
        candidates=ticket.candidates or [],
        answers=answers,
    )


@router.post("/{ticket_id}/claim", response_model=TicketPublic, responses=CONFLICT)
def claim(
    ticket_id: TicketId, agent: AgentUser, queue: HandoffsDep, settings: SettingsDep, live: LiveDep
) -> TicketPublic:
    """Take over a waiting (or left-message) ticket. Of simultaneous claims exactly one succeeds."""
    ticket = queue.claim(ticket_id, agent)
    return TicketPublic(**_fields(ticket, settings.handoff_sla_s, live.engine.entries, utcnow()))


@router.post("/{ticket_id}/messages", response_model=SentMessage, responses=CONFLICT)
def send_message(
    ticket_id: TicketId, body: ReplyRequest, agent: AgentUser, queue: HandoffsDep
) -> SentMessage:
    """Reply to the citizen (only the agent holding the ticket); the widget shows it live."""
    return SentMessage(message=queue.reply(ticket_id, agent, body.text))


@router.post("/{ticket_id}/release", response_model=TicketPublic, responses=CONFLICT)
def release(
    ticket_id: TicketId, agent: AgentUser, queue: HandoffsDep, settings: SettingsDep, live: LiveDep
) -> TicketPublic:
    """Hand the ticket back to the queue (waiting, or left-message when a callback number was left)."""
    ticket = queue.release(ticket_id, agent)
    return TicketPublic(**_fields(ticket, settings.handoff_sla_s, live.engine.entries, utcnow()))


@router.post("/{ticket_id}/close", response_model=ClosedTicket, responses=CONFLICT)
async def close(
    ticket_id: TicketId,
    body: CloseRequest,
    agent: AgentUser,
    queue: HandoffsDep,
    rasa: RasaDep,
    settings: SettingsDep,
    live: LiveDep,
) -> ClosedTicket:
    """End the takeover with a resolution; the citizen is told, and the bot answers again."""
    ticket = await run_in_threadpool(queue.close, ticket_id, agent, body.resolution)
    resumed = True
    try:
        await rasa.resume(ticket.sender_id)
    except RasaUnavailable as exc:
        resumed = False
        log.warning("ticket %d closed, but Rasa did not resume %s: %s", ticket.id, ticket.sender_id, exc)
    fields = _fields(ticket, settings.handoff_sla_s, live.engine.entries, utcnow())
    return ClosedTicket(**fields, bot_resumed=resumed)
