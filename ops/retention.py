"""Retention: delete transcripts, tickets (with their callback numbers), feedback and unanswered
questions older than ``RETENTION_DAYS`` (default 180)::

    python -m ops.retention              # once; the web app also runs it at start and every day
    python -m ops.retention --days 30 --dry-run

Open tickets (waiting, active, left-message, offline) are kept whatever their age: a citizen is still
owed an answer or a call.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from conversations.tables import ConversationBindingRow, MessageRow
from core.db import session_factory, utcnow
from core.migrate import migrate
from core.ratelimit import RateHitRow
from core.settings import get_settings
from handoff.status import TicketStatus
from handoff.tables import HandoffRow
from knowledge.tables import FeedbackRow, GapRow

log = logging.getLogger(__name__)


def purge(sessions: sessionmaker[Session], days: int, dry_run: bool = False) -> dict[str, int]:
    """Delete what is older than ``days``; returns how many rows of each kind (would) go."""
    cutoff = utcnow() - dt.timedelta(days=days)
    old_messages = select(MessageRow.id).where(MessageRow.created_at < cutoff)
    counts: dict[str, int] = {}
    with sessions.begin() as s:
        # feedback newer than the cutoff may point at an older message: keep it, without the link
        s.execute(update(FeedbackRow).where(FeedbackRow.message_id.in_(old_messages)).values(message_id=None))
        for name, statement in (
            ("feedback", delete(FeedbackRow).where(FeedbackRow.created_at < cutoff)),
            ("messages", delete(MessageRow).where(MessageRow.created_at < cutoff)),
            (
                "tickets",
                delete(HandoffRow).where(
                    HandoffRow.status == TicketStatus.CLOSED, HandoffRow.updated_at < cutoff
                ),
            ),
            ("gaps", delete(GapRow).where(GapRow.created_at < cutoff)),
            ("bindings", delete(ConversationBindingRow).where(ConversationBindingRow.last_seen < cutoff)),
            ("rate_hits", delete(RateHitRow).where(RateHitRow.at < utcnow().timestamp() - 86400)),
        ):
            counts[name] = int(s.execute(statement).rowcount)  # type: ignore[attr-defined]
        if dry_run:
            s.rollback()
    return counts


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m ops.retention", description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=settings.retention_days)
    parser.add_argument("--database-url", default=settings.database_url)
    parser.add_argument("--dry-run", action="store_true", help="count only, delete nothing")
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error("--days must be at least 1")
    migrate(args.database_url)
    counts = purge(session_factory(args.database_url), args.days, args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    print(f"{verb} (older than {args.days} days): " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
