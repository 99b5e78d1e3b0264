"""Citizen chat: ``POST /api/chat`` and the message feed ``GET /api/chat/{sender_id}/messages``."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Path, Query, Request

from core.pii import mask_pii
from web.deps import ConversationsDep, RasaDep, SettingsDep
from web.rasa import RasaUnavailable, to_messages
from web.schemas import ChatRequest, ChatResponse, MessagesResponse

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/chat", tags=["chat"])


def _client_key(request: Request, sender_id: str) -> str:
    host = request.client.host if request.client else "unknown"
    return f"{host}"


@router.post("", response_model=ChatResponse)
async def chat(
    body: ChatRequest,
    request: Request,
    settings: SettingsDep,
    rasa: RasaDep,
    conversations: ConversationsDep,
) -> ChatResponse:
    if len(body.message) > settings.max_message_chars:
        raise HTTPException(
            413,
            f"消息太长了（{len(body.message)}字），请控制在{settings.max_message_chars}字以内。",
        )
    wait = request.app.state.limiter.check(_client_key(request, body.sender_id))
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
        text = (
            f"抱歉，智能助手暂时无法回答。请稍后再试，或直接拨打{settings.hotline}政务服务便民热线，"
            "我们会尽快为您解答。"
        )
        stored = conversations.add(body.sender_id, "system", {"type": "text", "text": text})
        return ChatResponse(messages=[stored], handoff=False, degraded=True)
    messages = [conversations.add(body.sender_id, "bot", m) for m in to_messages(responses)]
    handoff = any(m.get("type") == "handoff" for m in messages)
    return ChatResponse(messages=messages, handoff=handoff)


@router.get("/{sender_id}/messages", response_model=MessagesResponse)
async def messages(
    conversations: ConversationsDep,
    sender_id: str = Path(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_.:@-]+$"),
    after: int = Query(0, ge=0, description="cursor: the id of the last message already shown"),
) -> MessagesResponse:
    items = conversations.after(sender_id, after)
    cursor = items[-1]["id"] if items else after
    return MessagesResponse(
        messages=items, cursor=cursor, handoff=conversations.open_ticket(sender_id) is not None
    )
