"""Conversations bound to the browser that started them.

The widget asks the server for a conversation (``POST /api/chat/conversations``): the server picks an
unguessable id and sets the HttpOnly, SameSite=Strict cookie ``banshi_conversation`` holding the id and
its HMAC under ``SESSION_SECRET``. From then on every request for that conversation (chat, history,
stream, callback, cancel, 好差评) must carry the cookie, else 403; the conversation ends when the citizen
presses 结束并清除对话 or after ``CONVERSATION_IDLE_S`` without activity (410, the widget starts anew).

A sender id the server did not issue (an API client's own ``POST /api/chat {"sender_id": ...}``, the
legacy/integration form) is *unbound*: ``POST /api/chat`` keeps working for it, without cookies, but
reading it back (history, stream), leaving a callback number or cancelling a handoff needs a binding,
so nobody can read such a transcript through the API.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from enum import Enum
from typing import Any

from fastapi import HTTPException, Request, Response
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from conversations.tables import ConversationBindingRow
from core.db import utcnow
from handoff.queue import HandoffQueue

COOKIE = "banshi_conversation"
COOKIE_PATH = "/api"
ISSUED_PREFIX = "w-"
TOUCH_EVERY = dt.timedelta(seconds=30)


class Binding(Enum):
    unbound = "unbound"  # not issued by the server: the legacy API form
    valid = "valid"  # issued, and this request carries its cookie
    missing = "missing"  # issued, but this request does not carry its cookie
    ended = "ended"  # issued, and ended or idle too long


class ConversationBinding:
    def __init__(
        self, secret: str, sessions: sessionmaker[Session], idle_s: int, secure_cookies: bool
    ) -> None:
        self._key = hmac.new(secret.encode(), b"banshi-conversation", hashlib.sha256).digest()
        self.sessions = sessions
        self.idle = dt.timedelta(seconds=idle_s)
        self.secure_cookies = secure_cookies

    # -- tokens ---------------------------------------------------------------------------------
    def token(self, sender_id: str) -> str:
        mac = hmac.new(self._key, sender_id.encode(), hashlib.sha256).digest()
        return f"{sender_id}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"

    def _carries(self, request: Request, sender_id: str) -> bool:
        sent = request.cookies.get(COOKIE, "")
        return hmac.compare_digest(sent.encode(), self.token(sender_id).encode())

    # -- lifecycle ------------------------------------------------------------------------------
    def issue(self, response: Response) -> str:
        """A new conversation bound to this browser (cookie set on ``response``)."""
        sender_id = ISSUED_PREFIX + secrets.token_urlsafe(24)
        with self.sessions.begin() as s:
            s.add(ConversationBindingRow(sender_id=sender_id))
        response.set_cookie(
            COOKIE,
            self.token(sender_id),
            path=COOKIE_PATH,
            httponly=True,
            samesite="strict",
            secure=self.secure_cookies,
        )
        return sender_id

    def end(self, sender_id: str, response: Response) -> None:
        with self.sessions.begin() as s:
            s.execute(
                update(ConversationBindingRow)
                .where(
                    ConversationBindingRow.sender_id == sender_id, ConversationBindingRow.ended_at.is_(None)
                )
                .values(ended_at=utcnow())
            )
        response.delete_cookie(COOKIE, path=COOKIE_PATH, samesite="strict", secure=self.secure_cookies)

    def state(self, request: Request, sender_id: str, queue: HandoffQueue) -> Binding:
        """How ``request`` stands to the conversation ``sender_id`` (refreshes its idle clock)."""
        with self.sessions() as s:
            row = s.get(ConversationBindingRow, sender_id)
        if row is None:
            return Binding.unbound
        if not self._carries(request, sender_id):
            return Binding.missing
        now = utcnow()
        if row.ended_at is not None:
            return Binding.ended
        if now - row.last_seen > self.idle and queue.handed_off(sender_id) is None:
            self._end_row(sender_id, now)  # (never a conversation handed to a person)
            return Binding.ended
        if now - row.last_seen > TOUCH_EVERY:
            with self.sessions.begin() as s:
                s.execute(
                    update(ConversationBindingRow)
                    .where(ConversationBindingRow.sender_id == sender_id)
                    .values(last_seen=now)
                )
        return Binding.valid

    def _end_row(self, sender_id: str, now: dt.datetime) -> None:
        with self.sessions.begin() as s:
            s.execute(
                update(ConversationBindingRow)
                .where(ConversationBindingRow.sender_id == sender_id)
                .values(ended_at=now)
            )

    def require(self, request: Request, sender_id: str, queue: HandoffQueue, allow_unbound: bool) -> Binding:
        """403 without the binding (or, unless ``allow_unbound``, for an unbound conversation); 410
        for an ended one."""
        state = self.state(request, sender_id, queue)
        if state is Binding.valid or (state is Binding.unbound and allow_unbound):
            return state
        if state is Binding.ended:
            raise HTTPException(410, "这次对话已经结束（长时间未操作或已清除），请开始新的对话。")
        raise HTTPException(403, "这个对话只能在发起它的浏览器中查看和继续。")

    def exists(self, sender_id: str) -> bool:
        with self.sessions() as s:
            return (
                s.scalars(
                    select(ConversationBindingRow.sender_id).where(
                        ConversationBindingRow.sender_id == sender_id
                    )
                ).first()
                is not None
            )


#: the OpenAPI responses of a route that checks the binding
BOUND: dict[int | str, dict[str, Any]] = {
    403: {"description": "the conversation is bound to another browser, or was not issued by the server"},
    410: {"description": "the conversation ended (结束并清除对话) or idled out: start a new one"},
}


def require_binding(request: Request, sender_id: str, allow_unbound: bool = False) -> Binding:
    """403/410 unless this request may use the conversation (a blocking call: run it off the loop)."""
    return request.app.state.binding.require(  # type: ignore[no-any-return]
        request, sender_id, request.app.state.handoffs, allow_unbound
    )
