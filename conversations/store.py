"""Stored chat transcripts and the citizen's message feed.

What citizens and agents type is masked (``core/pii.py``) before it is stored, except the bureau's own
published contacts; the assistant's answers and system notices (the bureau's approved text) are stored
as said, so its published numbers stay intact.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from conversations.tables import MessageRow
from core.pii import mask_data, mask_pii

TYPED = ("user", "agent")  # free text people type: masked


class Conversations:
    def __init__(
        self, sessions: sessionmaker[Session], contacts: Callable[[], frozenset[str]] = frozenset
    ) -> None:
        self.sessions = sessions
        self.contacts = contacts  # the bureau's published numbers: never masked

    def mask(self, text: str) -> str:
        """Citizen text with personal data masked (the bureau's own contacts kept)."""
        return mask_pii(text, self.contacts())

    def add(self, sender_id: str, role: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Store one message (typed ones with personal data masked); returns it with its cursor ``id``."""
        stored = mask_data(payload, self.contacts()) if role in TYPED else payload
        assert isinstance(stored, dict)
        with self.sessions.begin() as s:
            row = MessageRow(sender_id=sender_id, role=role, payload=stored)
            s.add(row)
            s.flush()
            return {**stored, "id": row.id, "role": role, "at": row.created_at.isoformat() + "Z"}

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

    def recent_bot_payloads(self, sender_id: str, n: int = 50) -> list[dict[str, Any]]:
        """The last ``n`` messages the assistant sent in the conversation (for offered buttons)."""
        with self.sessions() as s:
            return list(
                s.scalars(
                    select(MessageRow.payload)
                    .where(MessageRow.sender_id == sender_id, MessageRow.role == "bot")
                    .order_by(MessageRow.id.desc())
                    .limit(n)
                )
            )

    def last_user_text(self, sender_id: str) -> str:
        with self.sessions() as s:
            row = s.scalars(
                select(MessageRow)
                .where(MessageRow.sender_id == sender_id, MessageRow.role == "user")
                .order_by(MessageRow.id.desc())
            ).first()
            return str(row.payload.get("text", "")) if row else ""
