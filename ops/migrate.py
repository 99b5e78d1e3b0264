"""``python -m ops.migrate``: bring the database to the newest schema, once, under a lock.

Run it as its own step before starting replicas (``ops.run --replicas``, the Kubernetes Job, the
compose ``migrate`` service); the web apps then start with ``MIGRATE_ON_START=false``.
"""

from __future__ import annotations

from core.migrate import ensure_database, migrate
from core.settings import get_settings


def main() -> int:
    settings = get_settings()
    ensure_database(settings.database_url)
    migrate(settings.database_url)
    print("==> database schema is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
