"""Errors of the knowledge package. Each names the file, entry, field and problem it is about."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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


# -- the knowledge editor's workflow (knowledge/workflow.py) ---------------------------------------


@dataclass(frozen=True)
class FieldProblem:
    field: str  # dotted path into the entry, e.g. materials.0.name; "(entry)" for the whole entry
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class EntryInvalid(KnowledgeError):
    """An entry sent by an editor is invalid; every problem names its field."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))


class EntryExists(KnowledgeError):
    def __init__(self, entry_id: str) -> None:
        self.entry_id = entry_id
        super().__init__(f"条目「{entry_id}」已存在")


class InvalidTransition(KnowledgeError):
    """The workflow does not allow this action in the entry's current state."""

    def __init__(self, entry_id: str, message: str) -> None:
        self.entry_id = entry_id
        super().__init__(message)


class SelfReview(InvalidTransition):
    """Four-eyes rule: nobody approves (or publishes) a change they submitted themselves."""

    def __init__(self, entry_id: str, username: str) -> None:
        super().__init__(entry_id, f"不能审核自己提交的修改（{username}）：请由另一位审核员审核。")


class DraftConflict(VersionConflict):
    """Optimistic locking in the editor: carries the other editor's working copy to show the user."""

    def __init__(
        self, entry_id: str, expected: int, actual: int, current: dict[str, Any] | None, updated_by: str
    ) -> None:
        super().__init__(entry_id, expected, actual)
        self.current, self.updated_by = current, updated_by
