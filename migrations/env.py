"""Alembic environment: the URL comes from the caller (core.migrate) or from DATABASE_URL."""

from __future__ import annotations

from alembic import context

from core.db import Base, engine_for
from core.settings import get_settings

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().database_url

with engine_for(url).connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
