"""Abuse limits of the public API: per-client rate limits and the cap on open message streams.

Routes take a limit as a dependency, e.g. ``dependencies=[Depends(rate_limited("search"))]``; a client
over its limit gets 429 with ``Retry-After`` and a message that names the hotline.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request

from core.ratelimit import Limiter, make_limiter
from core.settings import Settings
from web.client_address import client_address

log = logging.getLogger(__name__)
STREAM_LEASE_S = 330  # longer than a stream lives (STREAM_SECONDS): a crashed process's leases expire


@dataclass
class Limits:
    chat: Limiter
    search: Limiter  # also QR codes: both cost CPU
    feedback: Limiter
    callback: Limiter
    stream: Limiter  # openings of the message stream
    streams: StreamGate

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            chat=make_limiter(settings.chat_rate_limit, "chat", settings),
            search=make_limiter(settings.search_rate_limit, "search", settings),
            feedback=make_limiter(settings.feedback_rate_limit, "feedback", settings),
            callback=make_limiter(settings.callback_rate_limit, "callback", settings),
            stream=make_limiter(settings.stream_rate_limit, "stream", settings),
            streams=(
                SharedStreamGate(settings.max_streams_per_client, settings.max_streams, settings.redis_url)
                if settings.redis_url
                else StreamGate(settings.max_streams_per_client, settings.max_streams)
            ),
        )


def too_many(wait: float, hotline: str) -> HTTPException:
    seconds = int(wait) + 1
    return HTTPException(
        429,
        f"您操作得太快了，请{seconds}秒后再试。紧急事项请拨打{hotline}。",
        headers={"Retry-After": str(seconds)},
    )


def enforce(request: Request, name: str) -> None:
    """Count one request of the client against the limit ``name``; 429 when over it."""
    limiter: Limiter = getattr(request.app.state.limits, name)
    wait = limiter.check(client_address(request))
    if wait:
        raise too_many(wait, request.app.state.settings.hotline)


def rate_limited(name: str) -> Callable[[Request], None]:
    """A route dependency enforcing the limit ``name`` (a plain ``def``: runs off the event loop)."""

    def dependency(request: Request) -> None:
        enforce(request, name)

    return dependency


def too_many_streams() -> HTTPException:
    return HTTPException(429, "打开的对话窗口太多了，请关闭其他窗口后再试。", headers={"Retry-After": "30"})


class StreamGate:
    """How many message streams are open, per client and in all, in this process (each stream lives in
    one process, so the total cap protects that process). ``acquire`` returns a lease to release."""

    def __init__(self, per_client: int, total: int) -> None:
        self.per_client, self.total = per_client, total
        self._open: Counter[str] = Counter()
        self._lock = threading.Lock()

    def acquire(self, client: str) -> str:
        """Count one more open stream of ``client``; 429 when that would exceed a cap."""
        with self._lock:
            if self._open[client] >= self.per_client or sum(self._open.values()) >= self.total:
                raise too_many_streams()
            self._open[client] += 1
        return ""

    def release(self, client: str, lease: str = "") -> None:
        with self._lock:
            self._open[client] -= 1
            if self._open[client] <= 0:
                del self._open[client]

    def open_streams(self, client: str) -> int:
        with self._lock:
            return self._open[client]


class SharedStreamGate(StreamGate):
    """The per-client cap counted across every replica in Redis (a sorted set of leases per client,
    each expiring after STREAM_LEASE_S so a killed process frees its clients' places); the total cap
    stays per process. Redis unavailable: the per-process gate alone decides (logged)."""

    def __init__(self, per_client: int, total: int, redis_url: str) -> None:
        import redis

        super().__init__(per_client, total)
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = "banshi:streams:"

    def acquire(self, client: str) -> str:
        super().acquire(client)
        key, lease, now = self.prefix + client, secrets.token_hex(8), time.time()
        try:
            pipe = self._redis.pipeline()
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.zadd(key, {lease: now + STREAM_LEASE_S})
            pipe.zcard(key)
            pipe.expire(key, STREAM_LEASE_S)
            open_now = int(pipe.execute()[2])
        except Exception as exc:  # the gate must not take the service down
            log.warning("stream gate: Redis unavailable (%s); per-process cap only", exc)
            return ""
        if open_now > self.per_client:
            self._forget(key, lease)
            super().release(client)
            raise too_many_streams()
        return lease

    def release(self, client: str, lease: str = "") -> None:
        super().release(client)
        if lease:
            self._forget(self.prefix + client, lease)

    def _forget(self, key: str, lease: str) -> None:
        try:
            self._redis.zrem(key, lease)
        except Exception as exc:
            log.warning("stream gate: Redis unavailable (%s); lease %s expires by itself", exc, lease[:4])

    def open_streams(self, client: str) -> int:
        try:
            return int(self._redis.zcount(self.prefix + client, time.time(), "+inf"))
        except Exception:
            return super().open_streams(client)
