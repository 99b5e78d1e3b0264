"""The entry store: entries, their published versions and the knowledge version counter."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.db import utcnow
from knowledge.errors import EntryNotFound, VersionConflict
from knowledge.models import Entry, Status
from knowledge.tables import EntryRow, EntryVersionRow, MetaRow

KNOWLEDGE_VERSION = "knowledge_version"


class EntryStore:
    """Entries in a relational database. Every write bumps the knowledge version that the search
    index of every process watches, so a published change goes live without a restart."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # -- reading -------------------------------------------------------------------------------
    def count(self, status: Status | None = None) -> int:
        with self._sessions() as s:
            q = select(func.count()).select_from(EntryRow)
            if status is not None:
                q = q.where(EntryRow.status == status.value)
            return int(s.scalar(q) or 0)

    def get(self, entry_id: str) -> Entry:
        with self._sessions() as s:
            row = s.get(EntryRow, entry_id)
            if row is None:
                raise EntryNotFound(entry_id)
            return Entry.model_validate(row.data)

    def lock_version(self, entry_id: str) -> int:
        with self._sessions() as s:
            row = s.get(EntryRow, entry_id)
            if row is None:
                raise EntryNotFound(entry_id)
            return row.lock_version

    def list_entries(self, status: Status | None = None) -> list[Entry]:
        with self._sessions() as s:
            q = select(EntryRow).order_by(EntryRow.id)
            if status is not None:
                q = q.where(EntryRow.status == status.value)
            return [Entry.model_validate(r.data) for r in s.scalars(q)]

    def published(self) -> list[Entry]:
        return self.list_entries(Status.published)

    def knowledge_version(self) -> int:
        with self._sessions() as s:
            row = s.get(MetaRow, KNOWLEDGE_VERSION)
            return row.value if row else 0

    def versions(self, entry_id: str) -> list[tuple[int, dict[str, Any]]]:
        """Every published version of the entry, oldest first, as ``(version, data)``."""
        with self._sessions() as s:
            rows = s.scalars(
                select(EntryVersionRow)
                .where(EntryVersionRow.entry_id == entry_id)
                .order_by(EntryVersionRow.version)
            )
            return [(r.version, r.data) for r in rows]

    # -- writing -------------------------------------------------------------------------------
    def import_entries(self, entries: Iterable[Entry], author: str = "import") -> int:
        """Insert or replace ``entries`` in one transaction (all or nothing)."""
        count = 0
        with self._sessions.begin() as s:
            for entry in entries:
                self.put(s, entry, author)
                count += 1
            self.bump(s)
        return count

    def save(self, entry: Entry, expected_lock: int | None, author: str) -> Entry:
        """Save one entry with optimistic locking on ``expected_lock`` (None for a new entry)."""
        with self._sessions.begin() as s:
            row = s.get(EntryRow, entry.id, with_for_update=True)
            actual = row.lock_version if row else 0
            if (expected_lock or 0) != actual:
                raise VersionConflict(entry.id, expected_lock or 0, actual)
            self.put(s, entry, author)
            self.bump(s)
        return entry

    def delete(self, entry_id: str) -> None:
        with self._sessions.begin() as s:
            row = s.get(EntryRow, entry_id)
            if row is None:
                raise EntryNotFound(entry_id)
            s.delete(row)
            self.bump(s)

    # -- building blocks for callers that write more in the same transaction (knowledge.workflow) --
    def put(self, s: Session, entry: Entry, author: str) -> None:
        """Write ``entry`` as the live row in session ``s``; a published entry's version is kept."""
        data = entry.model_dump(mode="json")
        row = s.get(EntryRow, entry.id)
        if row is None:
            row = EntryRow(id=entry.id, lock_version=0)
            s.add(row)
        row.title, row.status, row.version, row.data = entry.title, entry.status.value, entry.version, data
        row.lock_version = (row.lock_version or 0) + 1
        row.updated_at, row.updated_by = utcnow(), author
        if entry.status is Status.published:
            exists = s.scalar(
                select(EntryVersionRow.id).where(
                    EntryVersionRow.entry_id == entry.id, EntryVersionRow.version == entry.version
                )
            )
            if exists is None:
                s.add(EntryVersionRow(entry_id=entry.id, version=entry.version, data=data, author=author))

    @staticmethod
    def bump(s: Session) -> None:
        """Move the knowledge version on: every process's search index follows within seconds."""
        meta = s.get(MetaRow, KNOWLEDGE_VERSION, with_for_update=True)
        if meta is None:
            s.add(MetaRow(key=KNOWLEDGE_VERSION, value=1))
        else:
            meta.value += 1
