"""Citizen chat: ``POST /api/chat``, the conversation's feed, stream, callback, cancel and end.

Two ways to talk (see ``web/conversation_binding.py``):

- the widget: ``POST /api/chat/conversations`` issues a conversation bound to the browser by an HttpOnly
  cookie; every request for it needs that cookie (403 without, 410 once it ended or idled out);
- the legacy/integration form: ``POST /api/chat {"sender_id": "<your own id>", "message": "..."}`` with
  no cookie, several turns per id. Such a conversation can be talked to, never read back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from conversations.store import Conversations
from core.pii import mask_phone
from core.settings import Settings
from handoff.queue import HandoffQueue
from handoff.status import TicketStatus
from web import commands, degraded
from web.client_address import client_address
from web.conversation_binding import BOUND, require_binding
from web.deps import ConversationsDep, HandoffsDep, LiveDep, RasaDep, SettingsDep
from web.limits import enforce, rate_limited
from web.rasa import RasaUnavailable, to_messages
from web.schemas import (
    DB_INT_MAX,
    SENDER_PATTERN,
    ChatRequest,
    ChatResponse,
    ConversationPublic,
    MessagesResponse,
)
from web.sites import localize_messages

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/chat", tags=["chat"])
STREAM_SECONDS = 300  # the browser's EventSource reconnects after this, resuming from Last-Event-ID
POLL_SECONDS = 1.0
SenderId = Path(min_length=1, max_length=120, pattern=SENDER_PATTERN)


@router.post("/conversations", response_model=ConversationPublic, status_code=201, responses=BOUND)
def start_conversation(request: Request, response: Response, settings: SettingsDep) -> ConversationPublic:
    """A new conversation bound to this browser (HttpOnly, SameSite=Strict cookie). The widget calls it
    at start and after 结束并清除对话."""
    enforce(request, "chat")
    sender_id = request.app.state.binding.issue(response)
    response.headers["Cache-Control"] = "no-store"
    return ConversationPublic(sender_id=sender_id, idle_seconds=settings.conversation_idle_s)


def _accept(
    request: Request, body: ChatRequest, conversations: Conversations, queue: HandoffQueue
) -> tuple[bool, str]:
    """Store the citizen's message; returns (handed to a person, the text for Rasa). Blocking."""
    require_binding(request, body.sender_id, allow_unbound=True)
    text_for_rasa = commands.to_rasa(
        body.message, commands.offered(conversations.recent_bot_payloads(body.sender_id))
    )
    conversations.add(body.sender_id, "user", {"type": "text", "text": body.message})
    return queue.handed_off(body.sender_id) is not None, conversations.mask(text_for_rasa)


@router.post(
    "",
    response_model=ChatResponse,
    responses={**BOUND, 413: {"description": "message longer than MAX_MESSAGE_CHARS"}},
)
async def chat(
    body: ChatRequest,
    request: Request,
    settings: SettingsDep,
    rasa: RasaDep,
    conversations: ConversationsDep,
    live: LiveDep,
    queue: HandoffsDep,
) -> ChatResponse:
    """One citizen message and the assistant's answer. A message starting with ``/`` is a command only
    when it is a button the assistant offered in this conversation or a public one (``/greet``,
    ``/request_human``, …); anything else is sent as text."""
    if len(body.message) > settings.max_message_chars:
        raise HTTPException(
            413,
            f"消息太长了（{len(body.message)}字），请控制在{settings.max_message_chars}字以内。",
        )
    await run_in_threadpool(enforce, request, "chat")
    handed_off, text = await run_in_threadpool(_accept, request, body, conversations, queue)
    if handed_off:
        return ChatResponse(messages=[], handoff=True)
    try:
        responses = await rasa.send(body.sender_id, text)
    except RasaUnavailable as exc:
        log.warning("rasa unavailable: %s", exc)
        responses = []
    if not to_messages(responses):
        # Rasa down, or up but silent (it answers 200 [] when the action server is down)
        return await run_in_threadpool(
            _degraded, body.sender_id, body.message, settings, queue, conversations
        )

    def store() -> list[dict[str, Any]]:
        replies = localize_messages(to_messages(responses), body.site, live.engine.entries)
        return [conversations.add(body.sender_id, "bot", m) for m in replies]

    messages = await run_in_threadpool(store)
    # handed to a person who will take over (with nobody online the bot keeps answering)
    handoff = any(m.get("type") == "handoff" and m.get("status") != TicketStatus.OFFLINE for m in messages)
    return ChatResponse(messages=messages, handoff=handoff)


def _degraded(
    sender_id: str, text: str, settings: Settings, queue: HandoffQueue, conversations: Conversations
) -> ChatResponse:
    """The bot gave nothing: the degraded message with 12345 / 转人工, or a ticket when asked for a person."""
    if degraded.wants_human(text):
        shown, handoff = degraded.handoff_messages(settings, queue, sender_id)
    else:
        shown, handoff = degraded.degraded_messages(settings), False
    stored = [conversations.add(sender_id, "system", m) for m in shown]
    return ChatResponse(messages=stored, handoff=handoff, degraded=True)


@router.get("/{sender_id}/messages", response_model=MessagesResponse, responses=BOUND)
def messages(
    request: Request,
    conversations: ConversationsDep,
    queue: HandoffsDep,
    sender_id: str = SenderId,
    after: int = Query(
        0, ge=0, le=DB_INT_MAX, description="cursor: the id of the last message already shown"
    ),
) -> MessagesResponse:
    """The conversation's messages after the cursor (only for the browser it is bound to)."""
    require_binding(request, sender_id)
    items = conversations.after(sender_id, after)
    cursor = items[-1]["id"] if items else after
    return MessagesResponse(messages=items, cursor=cursor, handoff=queue.handed_off(sender_id) is not None)


@router.delete("/{sender_id}", responses=BOUND)
def end_conversation(request: Request, response: Response, sender_id: str = SenderId) -> dict[str, bool]:
    """结束并清除对话: the conversation ends for good (its cookie is cleared; the widget starts anew).
    The transcript is kept for agents until RETENTION_DAYS."""
    require_binding(request, sender_id)
    request.app.state.binding.end(sender_id, response)
    return {"ok": True}


class CallbackRequest(BaseModel):
    phone: str = Field(min_length=5, max_length=20)
    message: str = Field("", max_length=500)


PHONE = re.compile(r"^(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


@router.post(
    "/{sender_id}/callback",
    responses={**BOUND, 409: {"description": "no offline handoff to leave a number for, or one was left"}},
    dependencies=[Depends(rate_limited("callback"))],
)
def leave_message(
    body: CallbackRequest,
    request: Request,
    conversations: ConversationsDep,
    queue: HandoffsDep,
    settings: SettingsDep,
    sender_id: str = SenderId,
) -> dict[str, object]:
    """留言: nobody was online when the conversation was handed off; leave one callback number on that
    ticket for agents to call back. Only for the conversation's own offline ticket, once."""
    require_binding(request, sender_id)
    phone = body.phone.replace(" ", "")
    if not PHONE.match(phone):
        raise HTTPException(422, "请填写正确的手机号（11位）或带区号的固定电话。")
    queue.leave_message(sender_id, phone, body.message)  # 409 (TicketConflict): none, or already left
    expect = (
        f"已收到您的留言。工作人员会在1个工作日内回电（{mask_phone(phone)}）；"
        f"紧急事项请拨打{settings.hotline}政务服务便民热线。"
    )
    conversations.add(sender_id, "system", {"type": "text", "text": expect})
    return {"ok": True, "expect": expect}


@router.post(
    "/{sender_id}/handoff/cancel",
    responses={**BOUND, 409: {"description": "nothing is waiting (an agent may have taken over)"}},
)
async def cancel_handoff(
    request: Request,
    queue: HandoffsDep,
    rasa: RasaDep,
    sender_id: str = SenderId,
) -> dict[str, object]:
    """取消转人工: the citizen stops waiting for an agent (none has taken over yet); the bot answers again.

    409 when nothing is waiting, e.g. an agent took the conversation a moment ago.
    """
    await run_in_threadpool(require_binding, request, sender_id)
    ticket = await run_in_threadpool(queue.cancel_waiting, sender_id)
    resumed = True
    try:
        await rasa.resume(sender_id)
    except RasaUnavailable as exc:
        resumed = False
        log.warning("ticket %d cancelled, but Rasa did not resume %s: %s", ticket.id, sender_id, exc)
    return {"ok": True, "ticket_id": ticket.id, "bot_resumed": resumed}


@router.get(
    "/{sender_id}/stream",
    responses={**BOUND, 200: {"content": {"text/event-stream": {}}}},
)
async def stream(
    request: Request,
    conversations: ConversationsDep,
    sender_id: str = SenderId,
    after: int = Query(0, ge=0, le=DB_INT_MAX),
) -> StreamingResponse:
    """Server-sent events: every new message (bot, agent, system) as it is stored. Per client at most
    MAX_STREAMS_PER_CLIENT open at once and STREAM_RATE_LIMIT openings."""
    await run_in_threadpool(require_binding, request, sender_id)
    await run_in_threadpool(enforce, request, "stream")
    last_event = request.headers.get("last-event-id", "")
    cursor = int(last_event) if last_event.isdigit() and int(last_event) <= DB_INT_MAX else after
    client = client_address(request)
    gate = request.app.state.limits.streams
    lease = gate.acquire(client)

    async def events() -> AsyncIterator[str]:
        nonlocal cursor
        try:
            deadline = time.monotonic() + STREAM_SECONDS
            yield "retry: 2000\n\n"
            while time.monotonic() < deadline and not await request.is_disconnected():
                for m in await run_in_threadpool(conversations.after, sender_id, cursor):
                    cursor = m["id"]
                    yield f"id: {cursor}\ndata: {json.dumps(m, ensure_ascii=False)}\n\n"
                yield ": keep-alive\n\n"
                await asyncio.sleep(POLL_SECONDS)
        finally:
            gate.release(client, lease)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
