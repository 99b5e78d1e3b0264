"""Rasa's endpoints file, written from the settings: action server, tracker store and lock store.

- Tracker store: SQL, on the database the app uses (``DATABASE_URL``): the same SQLite file by
  default, PostgreSQL when ``DATABASE_URL`` points there. Rasa keeps its ``events`` table beside the
  app's tables, so a restart (or another Rasa replica) continues every conversation where it was.
- Lock store: Redis when ``REDIS_URL`` is set (required when several Rasa servers share the tracker
  store: the lock serialises one conversation's messages across them), in memory otherwise.

``bot/endpoints.yml`` stays the file for running ``rasa`` by hand (in-memory stores).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from core.settings import Settings

LOCK_KEY_PREFIX = "banshi"


def rasa_database_url(database_url: str) -> str:
    """The app's SQLAlchemy URL as Rasa's SQLAlchemy 1.4 with psycopg2 (its own venv) spells it."""
    scheme, sep, rest = database_url.partition("://")
    dialect = scheme.split("+", 1)[0]
    if dialect in ("postgresql", "postgres"):
        return f"postgresql://{rest}"
    if dialect == "sqlite":
        path = rest.removeprefix("/")
        if path and path != ":memory:" and not path.startswith("/"):
            path = str(Path(path).resolve())  # Rasa runs in bot/: a relative path would move
        return f"sqlite:///{path}"
    raise ValueError(f"unsupported database for Rasa's tracker store: {scheme}{sep}")


def lock_store(redis_url: str) -> dict[str, Any] | None:
    """Rasa's Redis lock store from a ``redis://[:password@]host[:port][/db]`` URL."""
    if not redis_url:
        return None
    parts = urlsplit(redis_url)
    config: dict[str, Any] = {
        "type": "redis",
        "url": parts.hostname or "127.0.0.1",
        "port": parts.port or 6379,
        "db": int(parts.path.strip("/") or 0),
        "key_prefix": LOCK_KEY_PREFIX,
        "use_ssl": parts.scheme == "rediss",
    }
    if parts.password:
        config["password"] = parts.password
    if parts.username:
        config["username"] = parts.username
    return config


def endpoints(settings: Settings) -> dict[str, Any]:
    config: dict[str, Any] = {
        "action_endpoint": {"url": settings.action_server_url},
        "tracker_store": {"type": "SQL", "url": rasa_database_url(settings.database_url)},
    }
    lock = lock_store(settings.redis_url)
    if lock:
        config["lock_store"] = lock
    return config


def write_endpoints(settings: Settings, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# written by ops/endpoints.py from the settings; edit DATABASE_URL / REDIS_URL instead\n"
        + yaml.safe_dump(endpoints(settings), allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    path.chmod(0o600)  # it may hold database and Redis passwords
    return path
