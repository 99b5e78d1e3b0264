"""Errors of the knowledge package. Each names the file, entry, field and problem it is about."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    source: str  # file name, or "<file>:<line>" for JSON Lines
    entry_id: str | None
    field: str
    message: str

    def __str__(self) -> str:
        entry = self.entry_id or "?"
        return f"{self.source}: entry '{entry}': {self.field}: {self.message}"


class KnowledgeError(Exception):
    """Base class of the knowledge package's errors."""


class ValidationFailed(KnowledgeError):
    """One or more entries are invalid; nothing was loaded."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s), nothing was imported:\n{lines}")


class EntryNotFound(KnowledgeError):
    def __init__(self, entry_id: str) -> None:
        self.entry_id = entry_id
        super().__init__(f"no knowledge entry '{entry_id}'")


class VersionConflict(KnowledgeError):
    """Optimistic locking: someone else saved the entry since it was read."""

    def __init__(self, entry_id: str, expected: int, actual: int) -> None:
        self.entry_id, self.expected, self.actual = entry_id, expected, actual
        super().__init__(
            f"entry '{entry_id}' was changed by someone else (you edited version {expected}, "
            f"it is now {actual})"
        )
