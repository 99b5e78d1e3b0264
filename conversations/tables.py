"""The conversations' tables: chat messages (the transcript) and the browser bindings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class MessageRow(Base):
    """One chat message (masked), in order; its id is the cursor of the citizen's message feed."""

    __tablename__ = "chat_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(120), index=True)
    role: Mapped[str] = mapped_column(String(20))  # user | bot | agent | system
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class ConversationBindingRow(Base):
    """A conversation the server issued to a browser (the widget): only requests carrying its binding
    (cookie) may use it, until it ends (结束并清除对话) or idles out (CONVERSATION_IDLE_S)."""

    __tablename__ = "conversation_bindings"
    sender_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
