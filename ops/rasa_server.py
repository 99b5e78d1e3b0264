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


def main() -> None:
    # a public service does not report usage to a third party (Rasa's telemetry is on by default)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    install_action_result_validator()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
