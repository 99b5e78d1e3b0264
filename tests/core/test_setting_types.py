"""Settings written as text are parsed once, when the settings load: rate limits (``count/seconds``),
trusted proxies, the agents' working hours and the time zone. A bad value stops the start with a
message naming the variable."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from core.hours import HoursSpec
from core.ratelimit import make_limiter
from core.setting_types import RateSpec, parse_networks
from core.settings import Settings

RATE_SETTINGS = [name for name, field in Settings.model_fields.items() if field.annotation is RateSpec]


def test_every_rate_setting_is_a_rate_spec() -> None:
    assert sorted(RATE_SETTINGS) == sorted(
        [
            "chat_rate_limit",
            "search_rate_limit",
            "feedback_rate_limit",
            "callback_rate_limit",
            "stream_rate_limit",
            "login_throttle",
            "login_client_throttle",
        ]
    )
    defaults = Settings()
    for name in RATE_SETTINGS:
        spec = getattr(defaults, name)
        assert isinstance(spec, RateSpec) and RateSpec.parse(str(spec)) == spec, name


@pytest.mark.parametrize(
    ("text", "count", "seconds"),
    [("20/60", 20, 60.0), ("5/3600", 5, 3600.0), ("2/0.2", 2, 0.2), (" 7 / 30 ", 7, 30.0), ("20", 20, 60.0)],
)
def test_good_rates_are_parsed(text: str, count: int, seconds: float) -> None:
    assert RateSpec.parse(text) == RateSpec(count, seconds)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "20 per minute",
        "20/x",
        "1.5/60",
        "20/60/1",
        "0/60",
        "-1/60",
        "20/0",
        "20/-5",
        "20/nan",
        "20/inf",
    ],
)
def test_bad_rates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"count/seconds|above 0"):
        RateSpec.parse(text)


@pytest.mark.parametrize("name", RATE_SETTINGS)
def test_rates_from_the_environment_are_parsed_at_load(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str
) -> None:
    monkeypatch.setenv(name.upper(), "3/30")
    assert getattr(Settings(data_dir=tmp_path), name) == RateSpec(3, 30.0)


@pytest.mark.parametrize("value", ["20 per minute", "0/60", "20/0"])
def test_a_bad_rate_stops_the_start_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str
) -> None:
    monkeypatch.setenv("CALLBACK_RATE_LIMIT", value)
    with pytest.raises(
        ValidationError, match=rf"CALLBACK_RATE_LIMIT='{value}': (use count/seconds|count and)"
    ):
        Settings(data_dir=tmp_path)
    with pytest.raises(ValidationError, match="LOGIN_THROTTLE="):
        Settings(data_dir=tmp_path, login_throttle=value)  # type: ignore[arg-type]


def test_a_limiter_counts_what_the_setting_says(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, chat_rate_limit="2/60")  # type: ignore[arg-type]
    limiter = make_limiter(settings.chat_rate_limit, "chat", settings)
    assert (limiter.limit, limiter.window) == (2, 60.0)
    assert [limiter.check("a"), limiter.check("a")] == [0.0, 0.0]
    assert 0 < limiter.check("a") <= 60 and limiter.check("b") == 0.0


def test_trusted_proxies_are_parsed_at_load(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).trusted_proxies == ()
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1,::1")
    assert Settings(data_dir=tmp_path).trusted_proxies == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("::1/128"),
    )
    assert parse_networks(" , ") == ()
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal")
    with pytest.raises(ValidationError, match=re.escape("TRUSTED_PROXIES='10.0.0.0/8, proxy.internal'")):
        Settings(data_dir=tmp_path)


def test_agent_hours_and_time_zone_are_parsed_at_load(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    defaults = Settings(data_dir=tmp_path)
    assert defaults.agent_hours == HoursSpec(0, 24 * 60) and defaults.timezone == ZoneInfo("Asia/Shanghai")
    monkeypatch.setenv("AGENT_HOURS", "20:00-08:00")
    monkeypatch.setenv("TIMEZONE", "Europe/London")
    loaded = Settings(data_dir=tmp_path)
    assert loaded.agent_hours == HoursSpec(20 * 60, 8 * 60) and loaded.agent_hours.crosses_midnight
    assert loaded.timezone == ZoneInfo("Europe/London")
    given = Settings(data_dir=tmp_path, agent_hours="08:30-17:30", timezone="Asia/Shanghai")
    assert (given.agent_hours, given.timezone.key) == (HoursSpec(510, 1050), "Asia/Shanghai")


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("AGENT_HOURS", "8点半到5点半", "must look like 08:30-17:30"),
        ("AGENT_HOURS", "08:30-25:00", "not a time of day"),
        ("TIMEZONE", "Beijing", "unknown time zone"),
    ],
)
def test_bad_hours_or_zone_stop_the_start_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=rf"{name}='{value}': .*{says}"):
        Settings(data_dir=tmp_path)
