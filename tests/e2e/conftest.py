"""The whole system on free ports: real Rasa server, real action server, real web app."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from core.settings import Settings
from evaluation.system import free_port, seed_embedding_cache
from knowledge.cli import main as knowledge_cli
from ops.supervisor import Supervisor, children
from ops.train import MODEL
from retrieval.live import LiveSearch


@dataclass
class System:
    base: str
    settings: Settings
    supervisor: Supervisor

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=60)


def system_env(tmp: Path, **extra: str) -> dict[str, str]:
    """Settings of a whole system on free ports with its own SQLite database under ``tmp``."""
    return {
        "DATABASE_URL": f"sqlite:///{tmp / 'system.db'}",
        "DATA_DIR": str(tmp),
        "WEB_PORT": str(free_port()),
        "RASA_URL": f"http://127.0.0.1:{free_port()}",
        "ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}/webhook",
        "RASA_TOKEN": "e2e-token",
        "AGENT_HOURS": "00:00-24:00",
        "CHAT_RATE_LIMIT": "1000/60",
        "RASA_TIMEOUT_S": "60",  # a shared 2-core machine can be slow; a timeout would read as an outage
        **extra,
    }


def settings_of(env: dict[str, str]) -> Settings:
    return Settings(**{k.lower(): v for k, v in env.items()})  # type: ignore[arg-type]


@contextlib.contextmanager
def running_system(
    tmp: Path, env: dict[str, str], prepare: bool = True, timeout: float = 900
) -> Iterator[System]:
    """Start the three processes under a supervisor (which restarts any that exits); stop them after.
    ``prepare`` seeds the database and builds the index first (skip it to restart on the same data)."""
    if not MODEL.exists():
        pytest.fail(f"no trained Rasa model at {MODEL}: run 'make train' (make test does)")
    settings = settings_of(env)
    if prepare:
        seed_embedding_cache(tmp)
        assert knowledge_cli(["--database-url", settings.database_url, "seed"]) == 0
        # Build the search index once, here: the action server and the web app then load it instead of
        # both encoding every entry at the same time (minutes on a 2-core runner).
        LiveSearch(settings).warm_up()
    sup = Supervisor(children(settings, MODEL, tmp / "logs"), tmp / "logs", env=env)
    sup.start()
    try:
        sup.wait_healthy(timeout=timeout)
        yield System(f"http://127.0.0.1:{settings.web_port}", settings, sup)
    finally:
        sup.stop()


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    tmp: Path = tmp_path_factory.mktemp("system")
    with running_system(tmp, system_env(tmp)) as running:
        yield running
