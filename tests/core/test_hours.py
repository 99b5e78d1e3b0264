"""core/hours.py: agent working hours on the bureau's clock, across midnight, validated at start-up."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from core.hours import Hours
from core.hours import within_hours as within_hours_in
from core.settings import Settings

UTC = dt.UTC


def within_hours(spec: str, now: dt.datetime, tz: str = "Asia/Shanghai") -> bool:
    """The bureau's clock unless a test names another (``core.hours`` always needs the zone)."""
    return within_hours_in(spec, now, tz=tz)


def at(hour: int, minute: int = 0) -> dt.datetime:
    """A moment given on Beijing time (UTC+8), as the naive UTC the database stores."""
    return dt.datetime(2026, 11, 30, hour, minute) - dt.timedelta(hours=8)


def test_office_hours_are_read_on_the_bureaus_clock() -> None:
    assert within_hours("08:30-17:30", at(8, 30)) and within_hours("08:30-17:30", at(17, 29))
    assert not within_hours("08:30-17:30", at(8, 29)) and not within_hours("08:30-17:30", at(17, 30))
    # 09:00 in Beijing is 01:00 UTC: a server clock on UTC must not decide
    assert within_hours("08:30-17:30", dt.datetime(2026, 11, 30, 1, 0, tzinfo=UTC))
    assert not within_hours("08:30-17:30", dt.datetime(2026, 11, 30, 1, 0, tzinfo=UTC), tz="Europe/London")


def test_a_night_shift_crosses_midnight() -> None:
    night = "20:00-08:00"
    assert (
        within_hours(night, at(23, 59)) and within_hours(night, at(0, 0)) and within_hours(night, at(7, 59))
    )
    assert not within_hours(night, at(8, 0)) and not within_hours(night, at(12, 0))


def test_all_day_and_never() -> None:
    assert all(within_hours("00:00-24:00", at(h, 59)) for h in range(24))
    assert not any(within_hours("00:00-00:00", at(h)) for h in range(24))
    assert Hours.parse("8:05-9:00") == Hours(485, 540)


def test_the_time_zone_is_always_named() -> None:
    with pytest.raises(TypeError):
        within_hours_in("08:30-17:30", at(9))  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "spec", ["8-17", "08:30~17:30", "25:00-26:00", "08:60-09:00", "24:30-08:00", "", "24:00-24:30"]
)
def test_malformed_hours_are_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        Hours.parse(spec)


def test_settings_refuse_bad_hours_or_zone_at_start_up() -> None:
    with pytest.raises(ValidationError, match="08:30-17:30"):
        Settings(agent_hours="8点半到5点半")
    with pytest.raises(ValidationError, match="time zone"):
        Settings(timezone="Beijing")
    assert Settings(agent_hours="20:00-08:00", timezone="Asia/Shanghai").agent_hours == "20:00-08:00"
