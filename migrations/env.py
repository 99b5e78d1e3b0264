"""Alembic environment: the URL comes from the caller (core.migrate) or from DATABASE_URL.

Every package declares its own tables; importing their modules here puts the whole schema in
``Base.metadata`` (a table left out would read as one to drop, and ``alembic check`` would fail).
"""

from __future__ import annotations

from alembic import context

import conversations.tables
import core.accounts
import core.ratelimit
import handoff.tables
import knowledge.tables
from core.db import Base, engine_for
from core.settings import get_settings

# the modules that declare tables on Base, one package each (see their docstrings)
TABLES = (conversations.tables, core.accounts, core.ratelimit, handoff.tables, knowledge.tables)

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().database_url

with engine_for(url).connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
