"""好差评: the one writer of ratings, for the action server (有用 / 没用 typed in the chat) and the web app
(the widget's buttons and the 1–5 rating of a whole conversation) alike. A 没用 on an answer is also a
gap for editors (``knowledge.gaps``), recorded by the caller, which knows the question."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from conversations.tables import MessageRow
from core.pii import mask_pii
from knowledge.tables import FeedbackRow

COMMENT_CHARS = 500


def rate_answer(
    session: Session, *, sender_id: str, entry_id: str | None, useful: bool, message_id: int | None = None
) -> FeedbackRow:
    """有用 (1) or 没用 (0) on one answer; a message id that does not exist is dropped, not an error."""
    known = None
    if message_id is not None and session.get(MessageRow, message_id) is not None:
        known = message_id
    row = FeedbackRow(sender_id=sender_id, entry_id=entry_id, message_id=known, rating=1 if useful else 0)
    session.add(row)
    return row


def rate_conversation(
    session: Session, *, sender_id: str, score: int, comment: str = "", keep: Iterable[str] = ()
) -> FeedbackRow:
    """1–5 on a whole conversation; the comment masked (``keep``: the bureau's own contacts) and cut."""
    if not 1 <= score <= 5:
        raise ValueError(f"a conversation is rated 1–5, not {score}")
    text = mask_pii(comment or "", list(keep))[:COMMENT_CHARS]
    row = FeedbackRow(sender_id=sender_id, rating=score, comment=text, kind="conversation")
    session.add(row)
    return row
