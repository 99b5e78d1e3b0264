"""Two replicas behind HAProxy on a shared PostgreSQL + Redis (``python -m ops.run --replicas 2``).

One conversation's turns alternate between the replicas; one replica is SIGKILLed mid-conversation;
every turn still gets a reply through the load balancer, the context (current service, situation
answers) is kept, and no message or ticket is lost. SIGTERM to ops.run then leaves no process behind.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from sqlalchemy import create_engine, select, text

from conversations.tables import MessageRow
from core.db import session_factory
from core.settings import ROOT
from handoff.status import TicketStatus
from handoff.tables import HandoffRow
from ops.supervisor import group_members
from ops.train import MODEL
from tests.e2e.conftest import free_port, seed_embedding_cache
from tests.staff import open_console

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.timeout(2400)]
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/11"


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _port_base(replicas: int) -> int:
    for _ in range(200):
        base = random.randrange(20000, 40000, 10)
        ports = [base + 8, base + 9] + [base + 10 * (i + 1) + j for i in range(replicas) for j in range(3)]
        if all(_port_free(p) for p in ports):
            return base
    raise RuntimeError("no free port range")


@dataclass
class Cluster:
    proc: subprocess.Popen[bytes]
    lb: str
    web: list[str]
    port_base: int
    database_url: str
    password: str

    def replica_pids(self, index: int) -> list[int]:
        """Every process of replica ``index``: the process groups of whatever listens on its ports
        (each of the supervisor's children is a group: the process and its workers)."""
        ports = {self.port_base + 10 * (index + 1) + j for j in range(3)}
        pids = {
            c.pid
            for c in psutil.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port in ports and c.pid
        }
        found: set[int] = set()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                found |= set(group_members(os.getpgid(pid)))
        return sorted(found)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if not MODEL.exists():
        pytest.fail(f"no trained Rasa model at {MODEL}: run 'make train' (make test does)")
    tmp: Path = tmp_path_factory.mktemp("cluster")
    seed_embedding_cache(tmp)
    database = f"banshi_cluster_{uuid.uuid4().hex[:8]}"
    database_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"
    port_base = _port_base(2)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "DATA_DIR": str(tmp),
        "WEB_PORT": str(free_port()),
        "RASA_TOKEN": "cluster-token",
        "AGENT_HOURS": "00:00-24:00",
        "CHAT_RATE_LIMIT": "1000/60",
        "RASA_TIMEOUT_S": "120",  # 6 processes on 2 shared cores: slow is not down
    }
    log = open(tmp / "ops-run.out", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ops.run",
            "--replicas",
            "2",
            "--port-base",
            str(port_base),
            "--start-timeout",
            "1500",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    lb = f"http://127.0.0.1:{env['WEB_PORT']}"
    web = [f"http://127.0.0.1:{port_base + 10 * (i + 1)}" for i in range(2)]
    try:
        deadline = time.monotonic() + 1500  # 6 processes starting on 2 cores, maybe shared
        # every replica's own Rasa answering too: a web app is healthy through the Rasa balancer as soon
        # as one Rasa is up, and the second may still be starting (it waits 5 s and retries when both
        # create the tracker table at once) — killing replica 0 then would leave no Rasa at all
        rasa = [
            f"http://127.0.0.1:{port_base + 10 * (i + 1) + 1}/status?token=cluster-token" for i in range(2)
        ]
        while not (all(_healthy(u) for u in (lb, *web)) and all(_answers(u) for u in rasa)):
            assert proc.poll() is None, (tmp / "ops-run.out").read_text()[-3000:]
            assert time.monotonic() < deadline, "cluster not healthy after 1500 s"
            time.sleep(2)
        yield Cluster(proc, lb, web, port_base, database_url, "demo1234")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)
        log.close()
        engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        engine.dispose()


def _tracker(cluster: Cluster, replica: int, sender: str) -> dict[str, Any]:
    rasa = f"http://127.0.0.1:{cluster.port_base + 10 * (replica + 1) + 1}"
    r = httpx.get(f"{rasa}/conversations/{sender}/tracker", params={"token": "cluster-token"}, timeout=60)
    r.raise_for_status()
    return dict(r.json())


def _chat(base: str, sender: str, message: str) -> dict[str, Any]:
    r = httpx.post(f"{base}/api/chat", json={"sender_id": sender, "message": message}, timeout=300)
    assert r.status_code == 200, r.text
    body = dict(r.json())
    assert body["messages"], f"empty reply to {message!r}"
    return body


def test_a_conversation_alternating_between_replicas_survives_a_replica_killed(cluster: Cluster) -> None:
    sender = f"cluster-{uuid.uuid4().hex[:8]}"
    waiting = f"cluster-hand-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=cluster.web[0], timeout=60) as agent:
        open_console(agent, password=cluster.password)  # presence is in the database: both replicas see it
    first = _chat(cluster.web[0], sender, "办二手房过户要准备什么资料")
    second = _chat(cluster.web[1], sender, "是的")  # the answer to replica 0's question, on replica 1
    assert not second["degraded"] and any(m["type"] == "buttons" for m in second["messages"]), second
    assert _chat(cluster.web[0], waiting, "转人工")["handoff"] is True  # a ticket, from replica 0

    victims = cluster.replica_pids(0)
    assert len(victims) >= 3  # web, Rasa, action server (and its workers)
    for pid in victims:
        os.kill(pid, signal.SIGKILL)

    service = _tracker(cluster, 1, sender)["slots"]["current_service"]
    assert service
    for _ in range(4):  # the remaining situation questions, through HAProxy: replica 1 answers
        third = _chat(cluster.lb, sender, "是")
        assert not third["degraded"], third
        cards = [m for m in third["messages"] if m["type"] == "card"]
        if cards:
            break
    assert cards and cards[0]["entry_id"] == service, (first, second, third)
    # replica 1 sees replica 0's ticket: the bot stays quiet while the citizen waits for an agent
    r = httpx.post(
        f"{cluster.web[1]}/api/chat", json={"sender_id": waiting, "message": "还在吗"}, timeout=300
    )
    assert r.status_code == 200 and r.json()["handoff"] is True, r.text

    sessions = session_factory(cluster.database_url)
    with sessions() as s:
        roles = [r.role for r in s.scalars(select(MessageRow).where(MessageRow.sender_id == sender))]
        tickets = s.scalars(select(HandoffRow).where(HandoffRow.sender_id == waiting)).all()
    assert roles.count("user") >= 3 and roles[0] == "user"
    assert all(roles[i + 1] != "user" for i, r in enumerate(roles[:-1]) if r == "user")  # each turn answered
    assert [t.status for t in tickets] == [TicketStatus.WAITING]

    # the supervisor brings replica 0 back by itself
    deadline = time.monotonic() + 300
    while not _healthy(cluster.web[0]):
        assert time.monotonic() < deadline, "replica 0 not restarted"
        time.sleep(2)
    fourth = _chat(cluster.web[0], sender, "要多久")
    assert not fourth["degraded"]


def test_sigterm_stops_every_process_of_the_cluster(cluster: Cluster) -> None:
    tree = [p.pid for p in psutil.Process(cluster.proc.pid).children(recursive=True)]
    assert len(tree) >= 7  # haproxy + 2 × (web, rasa, actions), and their workers
    os.killpg(cluster.proc.pid, signal.SIGTERM)  # what a service manager sends to the process group
    cluster.proc.wait(timeout=60)
    time.sleep(1)
    alive = [pid for pid in tree if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
    assert alive == [], [psutil.Process(p).cmdline() for p in alive]
