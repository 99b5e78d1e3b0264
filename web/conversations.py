"""Stored chat transcripts (always masked) and the citizen's message feed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db import HandoffRow, MessageRow
from core.pii import mask_pii

OPEN_TICKET = ("waiting", "active")


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    return value


class Conversations:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def add(self, sender_id: str, role: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Store one message with personal data masked; returns it with its cursor ``id``."""
        masked = _masked(payload)
        with self.sessions.begin() as s:
            row = MessageRow(sender_id=sender_id, role=role, payload=masked)
            s.add(row)
            s.flush()
            return {**masked, "id": row.id, "role": role, "at": row.created_at.isoformat() + "Z"}

    def after(self, sender_id: str, cursor: int, limit: int = 200) -> list[dict[str, Any]]:
        with self.sessions() as s:
            rows = s.scalars(
                select(MessageRow)
                .where(MessageRow.sender_id == sender_id, MessageRow.id > cursor)
                .order_by(MessageRow.id)
                .limit(limit)
            )
            return [
                {**r.payload, "id": r.id, "role": r.role, "at": r.created_at.isoformat() + "Z"} for r in rows
            ]

    def last_user_text(self, sender_id: str) -> str:
        with self.sessions() as s:
            row = s.scalars(
                select(MessageRow)
                .where(MessageRow.sender_id == sender_id, MessageRow.role == "user")
                .order_by(MessageRow.id.desc())
            ).first()
            return str(row.payload.get("text", "")) if row else ""

    def open_ticket(self, sender_id: str) -> HandoffRow | None:
        with self.sessions() as s:
            return s.scalars(
                select(HandoffRow)
                .where(HandoffRow.sender_id == sender_id, HandoffRow.status.in_(OPEN_TICKET))
                .order_by(HandoffRow.id.desc())
            ).first()
