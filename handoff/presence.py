"""Is anyone there to take a handed-off conversation?

Only within ``AGENT_HOURS``, read on the clock of ``TIMEZONE`` (``core/hours.py``), and when an agent's
(or admin's) console polled the queue within the last ``AGENT_PRESENCE_S`` seconds (the poll writes the
account's ``last_seen``: ``AccountStore.touch``). Otherwise the citizen is offered 留言 instead of a wait.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.accounts import TICKET_ROLES, UserRow
from core.db import utcnow
from core.hours import within_hours
from core.settings import Settings

Availability = Literal["available", "outside_hours", "no_agent_online"]


def agent_availability(
    settings: Settings, sessions: sessionmaker[Session], now: dt.datetime | None = None
) -> Availability:
    """Can a handed-off conversation be taken over now? ``now`` is UTC (naive), like every time stored in
    the database; the hours (parsed when the settings load) are read in ``settings.timezone``."""
    if not within_hours(settings.agent_hours, now, tz=settings.timezone):
        return "outside_hours"
    cutoff = (now or utcnow()) - dt.timedelta(seconds=settings.agent_presence_s)
    with sessions() as s:
        present = s.scalars(
            select(UserRow.id).where(UserRow.role.in_(TICKET_ROLES), UserRow.last_seen >= cutoff).limit(1)
        ).first()
    return "available" if present is not None else "no_agent_online"


def why_unavailable(availability: Availability, settings: Settings) -> str:
    """Why nobody takes the conversation now, as the citizen is told before being offered 留言."""
    if availability == "outside_hours":
        return f"现在不在人工客服在线时间（{settings.agent_hours}）"
    return "现在人工客服都不在线"
