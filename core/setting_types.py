"""Typed values of settings written as text in the environment, parsed once when the settings load.

- ``RateSpec``: a rate limit, ``count/seconds`` (``CHAT_RATE_LIMIT=20/60``: 20 requests in any 60 s);
  a bare count means per minute.
- ``parse_networks``: addresses and networks, comma-separated (``TRUSTED_PROXIES=10.0.0.0/8, 127.0.0.1``).
- ``HoursSpec`` and ``zone`` live in ``core/hours.py``, beside the rule they serve: the agents' working
  hours (``AGENT_HOURS=08:30-17:30``, may cross midnight) and the clock they are read on (``TIMEZONE``).

Each raises ``ValueError`` with what was wrong; ``core.settings`` adds the variable's name, so a bad
value stops the start with ``CHAT_RATE_LIMIT='20 per minute': …`` rather than failing at the first
request that needs it.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class RateSpec:
    count: int  # events allowed …
    seconds: float  # … in any window this long

    def __post_init__(self) -> None:
        if self.count < 1 or not (self.seconds > 0 and math.isfinite(self.seconds)):
            raise ValueError("count and seconds must both be above 0")

    @classmethod
    def parse(cls, text: str) -> RateSpec:
        """``"20/60"`` → RateSpec(20, 60.0); ``"20"`` → RateSpec(20, 60.0)."""
        count, _, seconds = text.strip().partition("/")
        try:
            limit, window = int(count), float(seconds) if seconds.strip() else 60.0
        except ValueError:
            raise ValueError("use count/seconds, e.g. 20/60") from None
        return cls(limit, window)

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds:g}"


def parse_networks(spec: str) -> tuple[Network, ...]:
    """``"10.0.0.0/8, 127.0.0.1"`` → networks (an address is a network of one); raises ValueError."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())
