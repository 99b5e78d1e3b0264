"""core/hours.py: agent working hours on the bureau's clock, across midnight, parsed at start-up."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from core.hours import HoursSpec, within_hours, zone

UTC = dt.UTC
BEIJING = ZoneInfo("Asia/Shanghai")


def open_at(spec: str, now: dt.datetime, tz: ZoneInfo = BEIJING) -> bool:
    """The bureau's clock unless a test names another (``within_hours`` always needs the zone)."""
    return within_hours(HoursSpec.parse(spec), now, tz=tz)


def at(hour: int, minute: int = 0) -> dt.datetime:
    """A moment given on Beijing time (UTC+8), as the naive UTC the database stores."""
    return dt.datetime(2026, 11, 30, hour, minute) - dt.timedelta(hours=8)


def test_office_hours_are_read_on_the_bureaus_clock() -> None:
    assert open_at("08:30-17:30", at(8, 30)) and open_at("08:30-17:30", at(17, 29))
    assert not open_at("08:30-17:30", at(8, 29)) and not open_at("08:30-17:30", at(17, 30))
    # 09:00 in Beijing is 01:00 UTC: a server clock on UTC must not decide
    assert open_at("08:30-17:30", dt.datetime(2026, 11, 30, 1, 0, tzinfo=UTC))
    london = ZoneInfo("Europe/London")
    assert not open_at("08:30-17:30", dt.datetime(2026, 11, 30, 1, 0, tzinfo=UTC), tz=london)


def test_a_night_shift_crosses_midnight() -> None:
    night = "20:00-08:00"
    assert HoursSpec.parse(night) == HoursSpec(1200, 480) and HoursSpec.parse(night).crosses_midnight
    assert open_at(night, at(23, 59)) and open_at(night, at(0, 0)) and open_at(night, at(7, 59))
    assert not open_at(night, at(8, 0)) and not open_at(night, at(12, 0))


def test_all_day_and_never() -> None:
    assert all(open_at("00:00-24:00", at(h, 59)) for h in range(24))
    assert not any(open_at("00:00-00:00", at(h)) for h in range(24))
    assert HoursSpec.parse("8:05-9:00") == HoursSpec(485, 540)


def test_hours_read_back_in_the_settings_form() -> None:
    for text in ("08:30-17:30", "20:00-08:00", "00:00-24:00", "00:00-00:00"):
        assert str(HoursSpec.parse(text)) == text
    assert str(HoursSpec.parse(" 8:05-9:00 ")) == "08:05-09:00"


def test_the_time_zone_is_always_named() -> None:
    with pytest.raises(TypeError):
        within_hours(HoursSpec.parse("08:30-17:30"), at(9))  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "spec", ["8-17", "08:30~17:30", "25:00-26:00", "08:60-09:00", "24:30-08:00", "", "24:00-24:30"]
)
def test_malformed_hours_are_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        HoursSpec.parse(spec)


@pytest.mark.parametrize(("start", "end"), [(-1, 60), (1440, 60), (0, 1441)])
def test_minutes_outside_the_day_are_refused(start: int, end: int) -> None:
    with pytest.raises(ValueError, match="out of the day"):
        HoursSpec(start, end)


def test_zones_are_iana_names() -> None:
    assert zone("Asia/Shanghai") == BEIJING and zone(" Europe/London ") == ZoneInfo("Europe/London")
    for name in ("Beijing", "", "../etc/passwd", "UTC+8"):
        with pytest.raises(ValueError, match="unknown time zone"):
            zone(name)
