"""The ``rasa`` command as the supervisor starts it: ``.venv-rasa/bin/python -m ops.rasa_server run …``.

Runs in the Rasa environment (Python 3.10, ``rasa==3.6.21``) and imports nothing from the app. It
installs :func:`install_action_result_validator`, then hands the arguments to Rasa's own CLI.

Why: after every custom action (``action_answer_service``, the form's ``validate_situation_form`` …)
Rasa 3.6 checks the action server's answer with ``jsonschema.validate(result, schema)``. That call
first checks the *schema* against the JSON Schema 2020-12 meta-schema, every time; the schema never
changes, and that check alone cost ~50 ms of CPU per call, 2–3 calls per new conversation, more than
all of Rasa's NLU, policies and TensorFlow together (docs/performance.md). Rasa has no setting or
plug-in point for it (``RemoteAction`` is created inside the processor), so the method is replaced
in this process; the installed package is not modified.

Behaviour is unchanged: the answer is validated against the same schema by the same validator class;
an invalid answer goes through Rasa's original method, which raises the same ``ValidationError`` with
the same message.

It also installs :func:`install_sqlite_tracker_store_pool`: on a SQLite file, Rasa 3.6's SQL tracker
store opens a new connection for every read and every save (SQLAlchemy 1.4's default for a file) and
commits with ``synchronous=FULL`` (an fsync of the write-ahead log per save, on Rasa's event loop). The
store's engine is replaced by a pooled one whose connections use the app's own settings (core/db.py):
WAL, ``synchronous=NORMAL``, a 5 s busy timeout. Per new conversation, a read and a save cost 3.2 ms of
CPU instead of 6.0 (docs/performance.md). PostgreSQL is left as Rasa configures it (a pool already).
"""

from __future__ import annotations

import os
import sys
from typing import Any

_INSTALLED = "_banshi_compiled_validator"


def install_action_result_validator() -> None:
    """Validate action server answers with a validator built once (the schema checked once)."""
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    if getattr(RemoteAction._validate_action_result, _INSTALLED, False):
        return
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)  # what jsonschema.validate picks: the latest draft (no "$schema")
    cls.check_schema(schema)
    validator = cls(schema)
    original = RemoteAction._validate_action_result

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        if validator.is_valid(result):
            return True
        return bool(original(self, result))  # raises Rasa's ValidationError, message included

    setattr(_validate_action_result, _INSTALLED, True)
    RemoteAction._validate_action_result = _validate_action_result


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def install_sqlite_tracker_store_pool() -> None:
    """Give the SQL tracker store a pooled engine with the app's SQLite settings (SQLite files only)."""
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore
    from sqlalchemy.pool import QueuePool

    if getattr(SQLTrackerStore.__init__, _INSTALLED, False):
        return
    original = SQLTrackerStore.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        url = self.engine.url
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return
        self.engine.dispose()
        self.engine = sa.create_engine(
            url, poolclass=QueuePool, pool_size=2, max_overflow=8, connect_args={"check_same_thread": False}
        )
        sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    setattr(__init__, _INSTALLED, True)
    SQLTrackerStore.__init__ = __init__


def main() -> None:
    # a public service does not report usage to a third party (Rasa's telemetry is on by default)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    install_action_result_validator()
    install_sqlite_tracker_store_pool()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
