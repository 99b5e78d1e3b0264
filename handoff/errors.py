"""What goes wrong with a ticket action. The errors know nothing of HTTP: ``web/errors.py`` turns
them into answers (404, 403, 409, else 400)."""

from __future__ import annotations


class HandoffError(Exception):
    """A ticket action that cannot be done; ``message`` is for the person who tried it."""

    def __init__(self, ticket_id: int, message: str) -> None:
        super().__init__(message)
        self.ticket_id = ticket_id  # 0 when no ticket was found to act on
        self.message = message


class TicketNotFound(HandoffError):
    """No such ticket."""


class TicketConflict(HandoffError):
    """The ticket is not in a state that allows the action (e.g. someone else claimed it first)."""


class NotTicketHolder(HandoffError):
    """The ticket is held by another agent."""
