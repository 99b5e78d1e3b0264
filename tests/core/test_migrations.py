"""The models and the migrations describe the same schema: ``alembic check`` after ``upgrade head``
finds nothing to add, on SQLite and on PostgreSQL (a model changed without a migration fails here)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import ROOT
from tests.postgres import postgres_database

ALEMBIC = ROOT / ".venv" / "bin" / "alembic"


def _alembic(url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [str(ALEMBIC), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'drift.db'}"
        return
    yield from postgres_database()


def test_the_migrations_build_exactly_the_models_schema(database_url: str, tmp_path: Path) -> None:
    up = _alembic(database_url, tmp_path, "upgrade", "head")
    assert up.returncode == 0, up.stderr[-2000:]
    check = _alembic(database_url, tmp_path, "check")
    assert check.returncode == 0, (check.stdout + check.stderr)[-2000:]
    assert "No new upgrade operations detected" in check.stdout + check.stderr
