"""Sliding-window limits per client (in memory; one web process): chat requests and failed logins."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class RateLimiter:
    def __init__(self, spec: str) -> None:
        count, _, seconds = spec.partition("/")
        self.limit, self.window = int(count), float(seconds or 60)
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _wait(self, hits: deque[float], now: float) -> float:
        while hits and now - hits[0] > self.window:
            hits.popleft()
        return self.window - (now - hits[0]) if len(hits) >= self.limit else 0.0

    def check(self, client: str) -> float:
        """Count one request: 0 when allowed, else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits[client]
            wait = self._wait(hits, now)
            if not wait:
                hits.append(now)
            return wait

    def blocked(self, client: str) -> float:
        """The seconds ``client`` must wait (0 when free), without counting anything."""
        with self._lock:
            hits = self._hits.get(client)
            return self._wait(hits, time.monotonic()) if hits else 0.0

    def record(self, client: str) -> None:
        """Count one event (e.g. a failed login) against ``client``."""
        with self._lock:
            self._hits[client].append(time.monotonic())

    def reset(self, client: str) -> None:
        with self._lock:
            self._hits.pop(client, None)
