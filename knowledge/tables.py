"""The knowledge base's tables: entries and their published versions, the editors' working copies,
the audit log, the knowledge version counter, and what citizens tell the editors (ratings, gaps)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from conversations.tables import MessageRow
from core.db import Base, utcnow


class EntryRow(Base):
    """The current state of a knowledge entry (the published or working copy)."""

    __tablename__ = "entries"
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(80), default="system")


class EntryVersionRow(Base):
    """Every published version of every entry, kept forever."""

    __tablename__ = "entry_versions"
    __table_args__ = (UniqueConstraint("entry_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(String(80), index=True)
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    author: Mapped[str] = mapped_column(String(80), default="system")


class MetaRow(Base):
    """Small key/value counters, e.g. the knowledge version every process watches."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


# -- knowledge editor: working copies and the audit log (migration 0003) ------------------------


class EntryDraftRow(Base):
    """The editors' working copy of an entry, kept apart from the live row in ``entries`` so the
    published version keeps serving citizens until the working copy is published.

    One row per entry id, never deleted: ``lock_version`` only grows, so a stale editor can always
    be told (optimistic locking), even after the working copy was published or discarded.
    """

    __tablename__ = "entry_drafts"
    entry_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # None: no pending change
    state: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)  # draft | review
    base_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")  # the reviewer's last send-back comment
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    submitted_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(80), default="system")


class AuditRow(Base):
    """Who did what to which entry, when. Append-only: the ORM refuses updates and deletes and the
    database has triggers that refuse them too (migration 0003)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40))
    entry_id: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")


class AppendOnlyError(RuntimeError):
    """Someone tried to change or delete an audit log record."""


def _refuse_audit_change(_mapper: Any, _connection: Any, target: AuditRow) -> None:
    raise AppendOnlyError(f"audit log record {target.id} cannot be changed or deleted")


event.listen(AuditRow, "before_update", _refuse_audit_change)
event.listen(AuditRow, "before_delete", _refuse_audit_change)


# -- what citizens tell the editors ---------------------------------------------------------------


class FeedbackRow(Base):
    """好差评: a rating of one answer (有用 / 没用) or of a whole conversation (1–5)."""

    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(120), index=True)
    entry_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey(MessageRow.id), nullable=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # answer: 有用 (1) / 没用 (0) on one answer; conversation: 1–5 on a whole conversation
    kind: Mapped[str] = mapped_column(String(20), default="answer", server_default="answer")


class GapRow(Base):
    """A question the assistant could not answer well (masked), for editors to mine."""

    __tablename__ = "gaps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(120))
    question: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(40))  # abstained | low_confidence | unhelpful | handoff
    top_entry: Mapped[str | None] = mapped_column(String(80), nullable=True)
    score: Mapped[float | None] = mapped_column(nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # open | dismissed | resolved (added to an entry by an editor); set by the knowledge editor
    status: Mapped[str] = mapped_column(String(20), default="open", server_default="open", index=True)
    handled_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    handled_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    resolved_entry: Mapped[str | None] = mapped_column(String(80), nullable=True)
