"""Shared fixtures. Unit tests run with the network blocked (loopback only)."""

from __future__ import annotations

import fcntl
import functools
import socket
from collections.abc import Iterator
from pathlib import Path

import argon2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from core import accounts
from core.settings import ROOT, Settings
from embeddings.cache import CachedEncoder
from embeddings.encoders import load_encoder
from knowledge.io import read_yaml_dir
from knowledge.models import Entry
from retrieval.engine import SearchEngine
from retrieval.live import LiveSearch, engine_params, load_out_of_scope
from retrieval.text import Lexicon
from tests.staff import StubRasa, client_for
from web.app import create_app

_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: object) -> object:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and (
        host in ("localhost", "::1") or host.startswith("127.") or self.family == socket.AF_UNIX
    ):
        return _real_connect(self, address)  # type: ignore[arg-type]
    raise OSError(f"network access blocked in tests: {address!r}")


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Staff passwords are hashed with argon2id at argon2's default cost (64 MiB, 3 passes, 4 lanes:
    about 0.25 s of CPU per hash or check), and every app fixture creates the demo accounts and most
    staff tests log in. The unit tests keep argon2id at its cheapest cost; the app's own cost is
    checked in tests/core/test_password_cost.py."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(
            accounts,
            "PasswordHasher",
            functools.partial(argon2.PasswordHasher, time_cost=1, memory_cost=1024, parallelism=1),
        )
        yield


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


@pytest.fixture(scope="session")
def seed_entries() -> list[Entry]:
    return read_yaml_dir(ROOT / "knowledge" / "entries")


@pytest.fixture(scope="session")
def shared_cache_dir() -> Path:
    """The embedding cache of the unit tests, kept between runs (var/test-cache).

    It is keyed by model and text hash, so a stale entry cannot change a result, only the speed.
    """
    path = ROOT / "var" / "test-cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def engine(seed_entries: list[Entry], shared_cache_dir: Path) -> SearchEngine:
    """A real engine (e5-small-q4) over the seed entries."""
    settings = Settings(data_dir=shared_cache_dir)
    encoder = CachedEncoder(load_encoder("e5-small-q4"), shared_cache_dir / "embeddings.sqlite")
    eng = SearchEngine(encoder, Lexicon.load(settings.synonyms_file), engine_params(settings))
    # one pytest-xdist worker encodes a cold cache while the others wait, then read it: on a fresh
    # clone the two workers used to encode the same entries side by side (70 s each on 2 cores)
    with (shared_cache_dir / "engine.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            eng.set_out_of_scope(load_out_of_scope(settings.out_of_scope_file))
            eng.rebuild(seed_entries)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return eng


@pytest.fixture
def settings(tmp_path: Path, shared_cache_dir: Path) -> Iterator[Settings]:
    """Settings pointing at a fresh SQLite database in a temp folder."""
    yield Settings(database_url=f"sqlite:///{tmp_path / 'test.db'}", data_dir=tmp_path)


@pytest.fixture
def rasa() -> StubRasa:
    return StubRasa()


@pytest.fixture
def app(settings: Settings, engine: SearchEngine, rasa: StubRasa) -> Iterator[FastAPI]:
    """The real web app on a fresh SQLite database, the real engine, Rasa stubbed; lifespan running
    (migrations, demo accounts)."""
    settings = settings.model_copy(update={"reload_interval_s": 3600.0})
    live = LiveSearch(settings, engine=engine)
    live.ready = True
    application = create_app(settings=settings, live=live, rasa=rasa)  # type: ignore[arg-type]
    with TestClient(application):
        yield application


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return client_for(app)


@pytest.fixture
def live(engine: SearchEngine, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveSearch]:
    """The action server's world: a real engine and a migrated database, the actions reading ``settings``."""
    from actions import runtime
    from core.migrate import migrate

    migrate(settings.database_url)
    for where in ("actions.runtime", "actions.handoff", "actions.grounding", "actions.abstain"):
        monkeypatch.setattr(f"{where}.get_settings", lambda: settings)
    runtime.sessions.cache_clear()
    live = LiveSearch(settings, engine=engine)
    live.ready = True
    runtime.set_live_search(live)
    yield live
    runtime.set_live_search(None)
    runtime.sessions.cache_clear()
