"""The editors' dashboard figures over a period: questions per day, how they ended, 好差评, top matters.

A *question* is a message the citizen typed (button payloads such as ``/choose_service`` belong to the
question before them). Its outcome is read from what followed it until the next question: a handoff,
else a card (answered), else an abstention recorded as a gap (abstained), else something else
(small talk, a clarifying question). Days are the server's local calendar days.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from conversations.tables import MessageRow
from knowledge.tables import FeedbackRow, GapRow

OUTCOMES = ("answered", "abstained", "handed_off", "other")
OUTCOME_TITLES = {"answered": "已回答", "abstained": "未能回答", "handed_off": "转人工", "other": "其他"}


@dataclass
class _Turn:
    sender_id: str
    at: dt.datetime  # UTC, naive (as stored)
    outcome: str = "other"
    entries: frozenset[str] = frozenset()


def local_day(utc: dt.datetime) -> dt.date:
    return utc.replace(tzinfo=dt.UTC).astimezone().date()


def utc_start(day: dt.date) -> dt.datetime:
    """The UTC time (naive, as stored) at which local ``day`` begins."""
    local = dt.datetime.combine(day, dt.time()).astimezone()
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def _turns(messages: list[MessageRow], abstained: dict[str, list[dt.datetime]]) -> list[_Turn]:
    turns: list[_Turn] = []
    by_sender: dict[str, list[MessageRow]] = {}
    for m in messages:
        by_sender.setdefault(m.sender_id, []).append(m)
    for sender, rows in by_sender.items():
        current: _Turn | None = None
        seen: list[tuple[_Turn, list[MessageRow]]] = []
        for m in rows:
            text = str(m.payload.get("text") or "")
            if m.role == "user" and text and not text.startswith("/"):
                current = _Turn(sender, m.created_at)
                seen.append((current, []))
            elif current is not None and m.role == "bot":
                seen[-1][1].append(m)
        for n, (turn, replies) in enumerate(seen):
            end = seen[n + 1][0].at if n + 1 < len(seen) else dt.datetime.max
            kinds = {str(r.payload.get("type")) for r in replies}
            turn.entries = frozenset(
                str(r.payload["entry_id"])
                for r in replies
                if r.payload.get("type") == "card" and r.payload.get("entry_id")
            )
            if "handoff" in kinds:
                turn.outcome = "handed_off"
            elif turn.entries:
                turn.outcome = "answered"
            elif any(turn.at <= t < end for t in abstained.get(sender, [])):
                turn.outcome = "abstained"
            turns.append(turn)
    return turns


def dashboard(
    sessions: sessionmaker[Session], start: dt.date, end: dt.date, titles: dict[str, str]
) -> dict[str, Any]:
    """Figures for local days ``start`` … ``end`` (inclusive)."""
    lo, hi = utc_start(start), utc_start(end + dt.timedelta(days=1))
    with sessions() as s:
        messages = list(
            s.scalars(
                select(MessageRow)
                .where(
                    MessageRow.created_at >= lo,
                    MessageRow.created_at < hi,
                    MessageRow.role.in_(("user", "bot")),
                )
                .order_by(MessageRow.id)
            )
        )
        gaps = list(s.scalars(select(GapRow).where(GapRow.created_at >= lo, GapRow.created_at < hi)))
        feedback = list(
            s.scalars(select(FeedbackRow).where(FeedbackRow.created_at >= lo, FeedbackRow.created_at < hi))
        )
    abstained: dict[str, list[dt.datetime]] = {}
    for g in gaps:
        if g.reason == "abstained":
            abstained.setdefault(g.sender_id, []).append(g.created_at)
    turns = _turns(messages, abstained)

    days: dict[dt.date, Counter[str]] = {}
    day = start
    while day <= end:
        days[day] = Counter()
        day += dt.timedelta(days=1)
    for t in turns:
        counter = days.setdefault(local_day(t.at), Counter())
        counter["questions"] += 1
        counter[t.outcome] += 1
    totals: Counter[str] = Counter()
    for counter in days.values():
        totals.update(counter)
    asked = totals["questions"]

    matters = Counter(e for t in turns for e in t.entries)
    answers = [f for f in feedback if f.kind == "answer"]
    ratings = [f for f in feedback if f.kind == "conversation"]
    useful = sum(1 for f in answers if f.rating > 0)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "days": [
            {"date": d.isoformat(), **{k: c[k] for k in ("questions", *OUTCOMES)}}
            for d, c in sorted(days.items())
        ],
        "totals": {"questions": asked, **{k: totals[k] for k in OUTCOMES}},
        "shares": {k: round(totals[k] / asked, 4) if asked else 0.0 for k in OUTCOMES},
        "conversations": len({t.sender_id for t in turns}),
        "feedback": {
            "useful": useful,
            "not_useful": len(answers) - useful,
            "useful_share": round(useful / len(answers), 4) if answers else None,
            "ratings": {str(n): sum(1 for f in ratings if f.rating == n) for n in range(1, 6)},
            "rating_count": len(ratings),
            "rating_average": round(sum(f.rating for f in ratings) / len(ratings), 2) if ratings else None,
        },
        "top_matters": [
            {"entry_id": e, "title": titles.get(e, e), "count": n} for e, n in matters.most_common(10)
        ],
        "gap_reasons": dict(Counter(g.reason for g in gaps)),
    }
