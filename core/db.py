"""Database engine and sessions (SQLAlchemy 2). SQLite (WAL) by default, PostgreSQL via DATABASE_URL.

Tables are declared on :class:`Base` by the package that owns them (``knowledge/tables.py``,
``handoff/tables.py``, …); ``migrations/env.py`` imports every one, so Alembic sees the whole schema.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import JSON, Engine, Table, create_engine, event, false, update
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


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
def writing(sessions: sessionmaker[Any], lock: type[Base] | Table) -> Iterator[Session]:
    """A transaction for read-check-write work that holds the write lock from its first statement.

    On PostgreSQL the caller's ``SELECT … FOR UPDATE`` row locks serialise such transactions. SQLite
    ignores ``FOR UPDATE`` and its driver opens a transaction only at the first write, so two of them
    could both read the same state, both pass their check and both write (a lost update). There a
    no-op UPDATE of ``lock`` (a table the caller's package owns; SQLite locks the whole database)
    takes the write lock first: the second transaction waits (busy_timeout) and then reads what the
    first one committed.
    """
    table = lock if isinstance(lock, Table) else lock.__table__
    assert isinstance(table, Table)
    with sessions.begin() as s:
        if s.get_bind().dialect.name == "sqlite":
            column = next(iter(table.primary_key.columns))
            s.execute(update(table).where(false()).values({column: column}))
        yield s
