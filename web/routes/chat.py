"""Citizen chat: ``POST /api/chat`` and the message feed ``GET /api/chat/{sender_id}/messages``."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from core.db import HandoffRow, utcnow
from core.pii import mask_pii
from core.settings import Settings
from web import degraded
from web.conversations import Conversations
from web.deps import ConversationsDep, HandoffsDep, RasaDep, SettingsDep
from web.handoffs import HandoffQueue
from web.rasa import RasaUnavailable, to_messages
from web.schemas import SENDER_PATTERN, ChatRequest, ChatResponse, MessagesResponse

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/chat", tags=["chat"])
STREAM_SECONDS = 300  # the browser's EventSource reconnects after this, resuming from Last-Event-ID


def _client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("", response_model=ChatResponse)
async def chat(
    body: ChatRequest,
    request: Request,
    settings: SettingsDep,
    rasa: RasaDep,
    conversations: ConversationsDep,
    queue: HandoffsDep,
) -> ChatResponse:
    if len(body.message) > settings.max_message_chars:
        raise HTTPException(
            413,
            f"消息太长了（{len(body.message)}字），请控制在{settings.max_message_chars}字以内。",
        )
    wait = request.app.state.limiter.check(_client_key(request))
    if wait:
        raise HTTPException(
            429,
            f"您发送得太快了，请{int(wait) + 1}秒后再试。紧急事项请拨打{settings.hotline}。",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    conversations.add(body.sender_id, "user", {"type": "text", "text": body.message})
    if conversations.open_ticket(body.sender_id) is not None:
        return ChatResponse(messages=[], handoff=True)
    try:
        responses = await rasa.send(body.sender_id, mask_pii(body.message))
    except RasaUnavailable as exc:
        log.warning("rasa unavailable: %s", exc)
        responses = []
    if not to_messages(responses):
        # Rasa down, or up but silent (it answers 200 [] when the action server is down)
        return await run_in_threadpool(
            _degraded, body.sender_id, body.message, settings, queue, conversations
        )
    messages = [conversations.add(body.sender_id, "bot", m) for m in to_messages(responses)]
    # handed to a person who will take over (with nobody online the bot keeps answering)
    handoff = any(m.get("type") == "handoff" and m.get("status") != "offline" for m in messages)
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


@router.get("/{sender_id}/messages", response_model=MessagesResponse)
async def messages(
    conversations: ConversationsDep,
    sender_id: str = Path(min_length=1, max_length=120, pattern=SENDER_PATTERN),
    after: int = Query(0, ge=0, description="cursor: the id of the last message already shown"),
) -> MessagesResponse:
    items = conversations.after(sender_id, after)
    cursor = items[-1]["id"] if items else after
    return MessagesResponse(
        messages=items, cursor=cursor, handoff=conversations.open_ticket(sender_id) is not None
    )


class CallbackRequest(BaseModel):
    phone: str = Field(min_length=5, max_length=20)
    message: str = Field("", max_length=500)


PHONE = re.compile(r"^(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


@router.post("/{sender_id}/callback")
async def leave_message(
    body: CallbackRequest,
    conversations: ConversationsDep,
    settings: SettingsDep,
    sender_id: str = Path(min_length=1, max_length=120, pattern=SENDER_PATTERN),
) -> dict[str, object]:
    """留言: no agent is free; keep the ticket with a callback number for agents to call back."""
    phone = body.phone.replace(" ", "")
    if not PHONE.match(phone):
        raise HTTPException(422, "请填写正确的手机号（11位）或带区号的固定电话。")
    with conversations.sessions.begin() as s:
        ticket = s.scalars(
            select(HandoffRow)
            .where(HandoffRow.sender_id == sender_id, HandoffRow.status.in_(("waiting", "offline")))
            .order_by(HandoffRow.id.desc())
        ).first()
        if ticket is None:
            ticket = HandoffRow(sender_id=sender_id, reason="left_message", transcript=[])
            s.add(ticket)
        ticket.status = "left-message"
        ticket.callback_phone = phone
        ticket.transcript = [*ticket.transcript, {"role": "user", "text": mask_pii(body.message)}]
        ticket.updated_at = utcnow()
    expect = (
        f"已收到您的留言。工作人员会在1个工作日内回电（{mask_pii(phone)}）；"
        f"紧急事项请拨打{settings.hotline}政务服务便民热线。"
    )
    conversations.add(sender_id, "system", {"type": "text", "text": expect})
    return {"ok": True, "expect": expect}


@router.post("/{sender_id}/handoff/cancel")
async def cancel_handoff(
    queue: HandoffsDep,
    rasa: RasaDep,
    sender_id: str = Path(min_length=1, max_length=120, pattern=SENDER_PATTERN),
) -> dict[str, object]:
    """取消转人工: the citizen stops waiting for an agent (none has taken over yet); the bot answers again.

    409 when nothing is waiting, e.g. an agent took the conversation a moment ago.
    """
    ticket = await run_in_threadpool(queue.cancel_waiting, sender_id)
    resumed = True
    try:
        await rasa.resume(sender_id)
    except RasaUnavailable as exc:
        resumed = False
        log.warning("ticket %d cancelled, but Rasa did not resume %s: %s", ticket.id, sender_id, exc)
    return {"ok": True, "ticket_id": ticket.id, "bot_resumed": resumed}


@router.get("/{sender_id}/stream")
async def stream(
    request: Request,
    conversations: ConversationsDep,
    sender_id: str = Path(min_length=1, max_length=120, pattern=SENDER_PATTERN),
    after: int = Query(0, ge=0),
) -> StreamingResponse:
    """Server-sent events: every new message (bot, agent, system) as it is stored."""
    last_event = request.headers.get("last-event-id", "")
    cursor = int(last_event) if last_event.isdigit() else after

    async def events() -> AsyncIterator[str]:
        nonlocal cursor
        deadline = time.monotonic() + STREAM_SECONDS
        yield "retry: 2000\n\n"
        while time.monotonic() < deadline and not await request.is_disconnected():
            for m in conversations.after(sender_id, cursor):
                cursor = m["id"]
                yield f"id: {cursor}\ndata: {json.dumps(m, ensure_ascii=False)}\n\n"
            yield ": keep-alive\n\n"
            await asyncio.sleep(1)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
