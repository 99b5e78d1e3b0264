"""Sliding-window rate limits shared by every process: Redis, the database, or one process's memory.

``make_limiter(spec, name, settings)`` picks the store: Redis when ``REDIS_URL`` is set; the database
when it is PostgreSQL (several web processes may share it); otherwise (SQLite: one web process) memory.
Every limiter counts ``spec.count`` events per key in any ``spec.seconds`` window (``spec`` is a
``RateSpec``, parsed from ``count/seconds`` when the settings load).

    limiter.check(key)    count one event; 0 when allowed, else the seconds to wait (nothing counted)
    limiter.blocked(key)  the seconds to wait, counting nothing
    limiter.record(key)   count one event unconditionally
    limiter.reset(key)    forget the key (e.g. after a successful login)

A store that fails (Redis down) lets requests through and logs: a broken limiter must not take the
service down with it.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import defaultdict, deque
from typing import Protocol

from sqlalchemy import Float, Index, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from core.db import Base, session_factory
from core.setting_types import RateSpec
from core.settings import Settings

log = logging.getLogger(__name__)


class RateHitRow(Base):
    """One counted request of a rate limit shared through the database (no REDIS_URL)."""

    __tablename__ = "rate_hits"
    __table_args__ = (Index("ix_rate_hits_key_at", "key", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[float] = mapped_column(Float)  # unix time


class Limiter(Protocol):
    limit: int
    window: float

    def check(self, key: str) -> float: ...
    def blocked(self, key: str) -> float: ...
    def record(self, key: str) -> None: ...
    def reset(self, key: str) -> None: ...


class MemoryLimiter:
    """In this process only (enough for one web process on SQLite)."""

    def __init__(self, spec: RateSpec) -> None:
        self.limit, self.window = spec.count, spec.seconds
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _wait(self, hits: deque[float], now: float) -> float:
        while hits and now - hits[0] > self.window:
            hits.popleft()
        return self.window - (now - hits[0]) if len(hits) >= self.limit else 0.0

    def check(self, key: str) -> float:
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            wait = self._wait(hits, now)
            if not wait:
                hits.append(now)
            return wait

    def blocked(self, key: str) -> float:
        with self._lock:
            hits = self._hits.get(key)
            return self._wait(hits, time.monotonic()) if hits else 0.0

    def record(self, key: str) -> None:
        with self._lock:
            self._hits[key].append(time.monotonic())

    def reset(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)


# KEYS[1] the key; ARGV now, window, limit, member, count (1: count when allowed, 0: only look)
_SLIDING_WINDOW = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tostring(tonumber(ARGV[2]) - (tonumber(ARGV[1]) - tonumber(oldest[2])))
end
if ARGV[5] == '1' then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])))
end
return '0'
"""


class RedisLimiter:
    """Shared by every process and host using the same Redis (``REDIS_URL``); a sorted set per key."""

    def __init__(self, spec: RateSpec, redis_url: str, prefix: str) -> None:
        import redis

        self.limit, self.window = spec.count, spec.seconds
        self.prefix = prefix
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self._script = self._redis.register_script(_SLIDING_WINDOW)

    def _run(self, key: str, count: bool) -> float:
        member = f"{time.time():.6f}-{secrets.token_hex(4)}"
        try:
            wait = self._script(
                keys=[self.prefix + key], args=[time.time(), self.window, self.limit, member, int(count)]
            )
        except Exception as exc:  # the limiter must not take the service down
            log.warning("rate limiter: Redis unavailable (%s); request let through", exc)
            return 0.0
        return max(0.0, float(wait))

    def check(self, key: str) -> float:
        return self._run(key, count=True)

    def blocked(self, key: str) -> float:
        return self._run(key, count=False)

    def record(self, key: str) -> None:
        try:
            pipe = self._redis.pipeline()
            pipe.zadd(self.prefix + key, {f"{time.time():.6f}-{secrets.token_hex(4)}": time.time()})
            pipe.expire(self.prefix + key, int(self.window) + 1)
            pipe.execute()
        except Exception as exc:
            log.warning("rate limiter: Redis unavailable (%s); event not counted", exc)

    def reset(self, key: str) -> None:
        try:
            self._redis.delete(self.prefix + key)
        except Exception as exc:
            log.warning("rate limiter: Redis unavailable (%s); key not reset", exc)


class DatabaseLimiter:
    """Shared through the ``rate_hits`` table (several web processes on one PostgreSQL)."""

    def __init__(self, spec: RateSpec, sessions: sessionmaker[Session], prefix: str) -> None:
        self.limit, self.window = spec.count, spec.seconds
        self.sessions = sessions
        self.prefix = prefix

    def _run(self, key: str, count: bool) -> float:
        key, now = (self.prefix + key)[:200], time.time()
        with self.sessions.begin() as s:
            s.execute(delete(RateHitRow).where(RateHitRow.key == key, RateHitRow.at < now - self.window))
            n, oldest = s.execute(
                select(func.count(RateHitRow.id), func.min(RateHitRow.at)).where(RateHitRow.key == key)
            ).one()
            if n >= self.limit:
                return max(0.0, self.window - (now - float(oldest)))
            if count:
                s.add(RateHitRow(key=key, at=now))
        return 0.0

    def check(self, key: str) -> float:
        return self._run(key, count=True)

    def blocked(self, key: str) -> float:
        return self._run(key, count=False)

    def record(self, key: str) -> None:
        with self.sessions.begin() as s:
            s.add(RateHitRow(key=(self.prefix + key)[:200], at=time.time()))

    def reset(self, key: str) -> None:
        with self.sessions.begin() as s:
            s.execute(delete(RateHitRow).where(RateHitRow.key == (self.prefix + key)[:200]))


def make_limiter(spec: RateSpec, name: str, settings: Settings) -> Limiter:
    """The limiter for ``spec`` in the store the settings call for (see the module docstring)."""
    prefix = f"banshi:rl:{name}:"
    if settings.redis_url:
        return RedisLimiter(spec, settings.redis_url, prefix)
    if settings.database_url.startswith("postgresql"):
        return DatabaseLimiter(spec, session_factory(settings.database_url), prefix)
    return MemoryLimiter(spec)
