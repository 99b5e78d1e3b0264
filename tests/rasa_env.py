"""Run a check script in the Rasa environment (Python 3.10, ``.venv-rasa``) and read its result: the
script prints one line ``RESULT <json>``. Tests of code that runs inside Rasa use it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from core.settings import ROOT

RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"


def run_in_rasa_env(script: str, *args: str, cwd: Path = ROOT) -> Any:
    """``cwd`` is also the import path: the repository root (``ops``) or ``bot/`` (``nlu_components``)."""
    proc = subprocess.run(
        [str(RASA_PY), "-c", script, *args],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    return json.loads(lines[-1].removeprefix("RESULT "))
