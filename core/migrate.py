"""Bring a database to the newest schema with Alembic (idempotent)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from core.settings import ROOT


def migrate(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")
