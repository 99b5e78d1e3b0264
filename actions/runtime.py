"""The action server's process-wide services: settings, live search and the database session."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from core.db import session_factory
from core.settings import get_settings
from retrieval.live import LiveSearch

_lock = threading.Lock()
_live: LiveSearch | None = None


def live_search() -> LiveSearch:
    """The warmed-up search service that follows knowledge changes (created on first use)."""
    global _live
    with _lock:
        if _live is None:
            live = LiveSearch(get_settings())
            live.warm_up()
            live.start()
            _live = live
        return _live


def set_live_search(live: LiveSearch | None) -> None:
    """Let tests install a search service built on a small real index."""
    global _live
    with _lock:
        _live = live


@lru_cache
def sessions() -> sessionmaker[Session]:
    return session_factory(get_settings().database_url)


def should_warm(environ: Mapping[str, str]) -> bool:
    """Warm up before the first question (BANSHI_WARM=1, set by the supervisor), in the process that
    answers: Sanic's worker (SANIC_WORKER_NAME), not its manager process, which imports the actions too
    and would hold a second, unused index (≈ 330 MB)."""
    return environ.get("BANSHI_WARM") == "1" and bool(environ.get("SANIC_WORKER_NAME"))


if should_warm(os.environ):
    threading.Thread(target=live_search, name="warm-up", daemon=True).start()
