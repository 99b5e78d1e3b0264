"""Working hours of the hotline agents (AGENT_HOURS, e.g. "08:30-17:30")."""

from __future__ import annotations

import datetime as dt


def within_hours(spec: str, now: dt.datetime | None = None) -> bool:
    now = now or dt.datetime.now()
    start_s, _, end_s = spec.partition("-")
    start_h, start_m = (int(x) for x in start_s.split(":"))
    end_h, end_m = (int(x) for x in end_s.split(":"))
    minutes = now.hour * 60 + now.minute
    return start_h * 60 + start_m <= minutes < end_h * 60 + end_m
