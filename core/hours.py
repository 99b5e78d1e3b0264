"""Working hours of the hotline agents (``AGENT_HOURS``, e.g. ``08:30-17:30``) in the bureau's time zone
(``TIMEZONE``). A range may cross midnight (``20:00-08:00``); ``00:00-24:00`` is all day and a range
that starts where it ends (``00:00-00:00``) is never.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_SPEC = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class Hours:
    start: int  # minutes after midnight
    end: int  # minutes after midnight, 1440 = the end of the day

    @classmethod
    def parse(cls, spec: str) -> Hours:
        m = _SPEC.match(spec.strip())
        if not m:
            raise ValueError(f"working hours must look like 08:30-17:30, not {spec!r}")
        sh, sm, eh, em = (int(x) for x in m.groups())
        if sh > 23 or sm > 59 or em > 59 or eh > 24 or (eh == 24 and em):
            raise ValueError(f"not a time of day in {spec!r}")
        return cls(sh * 60 + sm, eh * 60 + em)

    def contains(self, local: dt.datetime) -> bool:
        minute = local.hour * 60 + local.minute
        if self.start <= self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end  # across midnight


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as Asia/Shanghai)") from exc


def within_hours(spec: str, now: dt.datetime | None = None, *, tz: str) -> bool:
    """Whether ``now`` (aware, or naive UTC like the database's times; default: the current time) falls
    within the hours, read on the clock of ``tz`` (an IANA name, always given: the server's own clock
    must not decide)."""
    moment = now or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return Hours.parse(spec).contains(moment.astimezone(zone(tz)))
