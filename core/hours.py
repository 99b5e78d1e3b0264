"""Working hours of the hotline agents (``AGENT_HOURS``, e.g. ``08:30-17:30``) in the bureau's time zone
(``TIMEZONE``). A range may cross midnight (``20:00-08:00``); ``00:00-24:00`` is all day and a range
that starts where it ends (``00:00-00:00``) is never.

Both settings are parsed once, when the settings load (``core/settings.py``): ``AGENT_HOURS`` into an
``HoursSpec``, ``TIMEZONE`` into a ``ZoneInfo`` (``zone``). A bad value stops the start naming the
variable; nothing reads the text again at use.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_SPEC = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
DAY = 24 * 60


@dataclass(frozen=True)
class HoursSpec:
    start: int  # minutes after midnight, 0 … 1439
    end: int  # minutes after midnight, 0 … 1440 (the end of the day); before ``start``: the next day

    def __post_init__(self) -> None:
        if not (0 <= self.start < DAY and 0 <= self.end <= DAY):
            raise ValueError(f"minutes out of the day: {self.start}-{self.end}")

    @classmethod
    def parse(cls, text: str) -> HoursSpec:
        """``"08:30-17:30"`` → HoursSpec(510, 1050); ``"20:00-08:00"`` crosses midnight."""
        m = _SPEC.match(text.strip())
        if not m:
            raise ValueError(f"working hours must look like 08:30-17:30, not {text!r}")
        sh, sm, eh, em = (int(x) for x in m.groups())
        if sh > 23 or sm > 59 or em > 59 or eh > 24 or (eh == 24 and em):
            raise ValueError(f"not a time of day in {text!r}")
        return cls(sh * 60 + sm, eh * 60 + em)

    @property
    def crosses_midnight(self) -> bool:
        return self.end < self.start

    def contains(self, local: dt.datetime) -> bool:
        """Whether a time read on the bureau's clock falls within the hours."""
        minute = local.hour * 60 + local.minute
        if self.crosses_midnight:
            return minute >= self.start or minute < self.end
        return self.start <= minute < self.end

    def __str__(self) -> str:
        """The setting's form, ``08:30-17:30`` (what the citizen is shown)."""
        return "-".join(f"{m // 60:02d}:{m % 60:02d}" for m in (self.start, self.end))


def zone(name: str) -> ZoneInfo:
    """``"Asia/Shanghai"`` → its ZoneInfo; raises ValueError for a name that is not an IANA zone."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as Asia/Shanghai)") from exc


def within_hours(hours: HoursSpec, now: dt.datetime | None = None, *, tz: ZoneInfo) -> bool:
    """Whether ``now`` (aware, or naive UTC like the database's times; default: the current time) falls
    within the hours, read on the clock of ``tz`` (always given: the server's own clock must not
    decide)."""
    moment = now or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return hours.contains(moment.astimezone(tz))
