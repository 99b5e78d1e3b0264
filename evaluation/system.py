"""The whole system on free ports, started the way tests/e2e/conftest.py starts it.

Real Rasa server, real action server, real web app over a freshly seeded SQLite database in a temporary
directory; agent hours all day and a chat rate limit no evaluation run reaches.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

from core.settings import ROOT, Settings
from knowledge.cli import main as knowledge_cli
from ops.supervisor import Supervisor, children
from ops.train import MODEL
from retrieval.live import LiveSearch


class SystemStartError(RuntimeError):
    """The system could not be started."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


LOCAL_CACHE = ROOT / "var" / "embeddings.sqlite"


def _copy_sqlite(source: Path, target: Path) -> None:
    with (
        contextlib.closing(sqlite3.connect(str(source), timeout=30)) as src,
        contextlib.closing(sqlite3.connect(str(target))) as dst,
    ):
        src.backup(dst)


def seed_embedding_cache(data_dir: Path, source: Path = LOCAL_CACHE) -> None:
    """Start from the local embedding cache when there is one (keyed by model and text hash: only the
    speed changes)."""
    if source.exists():
        _copy_sqlite(source, data_dir / "embeddings.sqlite")


def keep_embedding_cache(data_dir: Path, target: Path = LOCAL_CACHE) -> None:
    """Leave the cache built by this run for the next one when there is no local cache yet."""
    built = data_dir / "embeddings.sqlite"
    if built.exists() and not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy_sqlite(built, target)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def running_system(timeout: float = 600) -> Iterator[str]:
    """Start everything, yield the web app's base URL, stop everything."""
    if not MODEL.exists():
        raise SystemStartError(f"no trained Rasa model at {MODEL}: run 'make train'")
    tmp = Path(tempfile.mkdtemp(prefix="banshi-eval-"))
    env = {
        "DATABASE_URL": f"sqlite:///{tmp / 'system.db'}",
        "DATA_DIR": str(tmp),
        "WEB_PORT": str(free_port()),
        "RASA_URL": f"http://127.0.0.1:{free_port()}",
        "ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}/webhook",
        "RASA_TOKEN": "eval-token",
        "AGENT_HOURS": "00:00-24:00",
        "CHAT_RATE_LIMIT": "100000/60",
    }
    settings = Settings(**{k.lower(): v for k, v in env.items()})  # type: ignore[arg-type]
    seed_embedding_cache(tmp)
    if knowledge_cli(["--database-url", settings.database_url, "seed"]) != 0:
        raise SystemStartError("seeding the database failed")
    LiveSearch(settings).warm_up()  # build the index once; the processes load it
    keep_embedding_cache(tmp)
    sup = Supervisor(children(settings, MODEL, tmp / "logs"), tmp / "logs", env=env)
    ok = False
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)  # a terminated run still stops its servers
    try:
        sup.start()
        try:
            sup.wait_healthy(timeout=timeout)
        except RuntimeError as exc:
            raise SystemStartError(f"{exc} (logs in {tmp / 'logs'})") from exc
        yield f"http://127.0.0.1:{settings.web_port}"
        ok = True
    finally:
        sup.stop()
        signal.signal(signal.SIGTERM, previous)
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
