"""Secrets generated once for local mode instead of known defaults.

In local mode an empty ``SESSION_SECRET`` or ``RASA_TOKEN`` is taken from ``<DATA_DIR>/local-secrets.json``,
which the first process to need it writes with random values and 0600 permissions. Every process of
one installation (web app, action server, the supervisor passing the token to Rasa) reads the same
file. Production never generates: there both must be set (see ``core/settings.py``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import stat
from pathlib import Path

log = logging.getLogger(__name__)
FILE_NAME = "local-secrets.json"
NAMES = ("session_secret", "rasa_token")


def _generate(path: Path) -> None:
    """Write a fresh file atomically; when another process won the race, keep its file."""
    values = {name: secrets.token_urlsafe(32) for name in NAMES}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(values, f)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)  # fails when the file exists: first writer wins
    finally:
        tmp.unlink(missing_ok=True)


def local_secrets(data_dir: Path) -> dict[str, str]:
    """The installation's generated secrets (created on first use, 0600, owner-only)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / FILE_NAME
    if not path.exists():
        _generate(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("%s was readable by others (mode %o); set to 0600", path, mode)
        path.chmod(0o600)
    values = json.loads(path.read_text(encoding="utf-8"))
    if not all(isinstance(values.get(n), str) and len(values[n]) >= 32 for n in NAMES):
        raise ValueError(f"{path} is damaged: delete it and start again (new secrets are generated)")
    return {n: str(values[n]) for n in NAMES}
