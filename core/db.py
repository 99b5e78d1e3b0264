"""Database engine and schema (SQLAlchemy 2). SQLite (WAL) by default, PostgreSQL via DATABASE_URL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


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


class MessageRow(Base):
    """One chat message (masked), in order; its id is the cursor of the citizen's message feed."""

    __tablename__ = "chat_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(120), index=True)
    role: Mapped[str] = mapped_column(String(20))  # user | bot | agent | system
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class HandoffRow(Base):
    """A handoff ticket: a conversation waiting for, or held by, a human agent."""

    __tablename__ = "handoffs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(120), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True, default="waiting")
    reason: Mapped[str] = mapped_column(String(40))
    current_service: Mapped[str | None] = mapped_column(String(80), nullable=True)
    slots: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    candidates: Mapped[list[Any]] = mapped_column(JSON, default=list)
    transcript: Mapped[list[Any]] = mapped_column(JSON, default=list)
    callback_phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    resolution: Mapped[str | None] = mapped_column(String(80), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class UserRow(Base):
    """A staff account (agent, editor, reviewer, admin); citizens never log in."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))  # agent | editor | reviewer | admin
    # Bumped on logout and password change: every session cookie issued before stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # When the agent console last polled the queue (UTC); agents count as online for a while after.
    last_seen: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # ``python -m ops.accounts disable NAME``: cannot log in; production refuses enabled demo accounts.
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class ConversationBindingRow(Base):
    """A conversation the server issued to a browser (the widget): only requests carrying its binding
    (cookie) may use it, until it ends (结束并清除对话) or idles out (CONVERSATION_IDLE_S)."""

    __tablename__ = "conversation_bindings"
    sender_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class RateHitRow(Base):
    """One counted request of a rate limit shared through the database (no REDIS_URL)."""

    __tablename__ = "rate_hits"
    __table_args__ = (Index("ix_rate_hits_key_at", "key", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[float] = mapped_column(Float)  # unix time


class FeedbackRow(Base):
    """好差评: a rating of one answer (有用 / 没用) or of a whole conversation (1–5)."""

    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(120), index=True)
    entry_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("chat_messages.id"), nullable=True)
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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL: a commit is not an fsync (only checkpoints are); a crash of the process loses
    # nothing, a power cut at most the last commits, never consistency. FULL made every chat
    # message wait for the disk (docs/performance.md).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    return make_engine(url)


def session_factory(url: str) -> sessionmaker[Any]:
    return sessionmaker(engine_for(url), expire_on_commit=False)


@contextmanager
def writing(sessions: sessionmaker[Any]) -> Iterator[Session]:
    """A transaction for read-check-write work that holds the write lock from its first statement.

    On PostgreSQL the caller's ``SELECT … FOR UPDATE`` row locks serialise such transactions. SQLite
    ignores ``FOR UPDATE`` and its driver opens a transaction only at the first write, so two of them
    could both read the same state, both pass their check and both write (a lost update). There a
    no-op UPDATE takes the database's write lock first: the second transaction waits (busy_timeout)
    and then reads what the first one committed.
    """
    with sessions.begin() as s:
        if s.get_bind().dialect.name == "sqlite":
            s.execute(text("UPDATE entry_drafts SET lock_version = lock_version WHERE 0"))
        yield s
