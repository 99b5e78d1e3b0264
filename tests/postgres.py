"""A throwaway PostgreSQL database for the tests that run a contract on both databases.

PostgreSQL runs on the project's machines and in CI (127.0.0.1:5432, trust), so its absence fails those
tests; ``SKIP_POSTGRES=1`` skips their PostgreSQL half on purpose elsewhere.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def postgres_database() -> Iterator[str]:
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = f"banshi_test_{uuid.uuid4().hex[:8]}"
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        # PostgreSQL runs on the project's machines and in CI, so its absence fails the contract;
        # SKIP_POSTGRES=1 (elsewhere, on purpose) skips the PostgreSQL half instead
        message = f"no PostgreSQL server reachable at {PG_ADMIN}: {type(exc).__name__}"
        if os.environ.get("SKIP_POSTGRES") == "1":
            pytest.skip(message)
        pytest.fail(message + " (set SKIP_POSTGRES=1 to skip on a machine without one)")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
