"""``python -m ops.run --replicas N``: N web apps, N Rasa servers and N action servers behind HAProxy.

Every replica shares the database (PostgreSQL) and Redis: Rasa's tracker store is the database, its
lock store Redis; chat messages, tickets, agent presence and the SSE feed live in the database, so any
replica can serve any turn of any conversation. HAProxy (Debian's package, started by the supervisor
like the other children, with a configuration written here) listens on ``WEB_PORT`` and spreads
requests over the web apps. It also fronts the Rasa servers and the action servers (as Kubernetes
Services do): every web app talks to any live Rasa, every Rasa to any live action server, so one dead
process does not take its replica's other two out of service. HAProxy checks every server's health
each second and sends nothing to one that is down *or still starting* — a restarted process accepts
connections before it can answer (nginx, without active health checks, sent requests into that
window and they hung); a request whose connection fails is dispatched to another server.

Ports: HAProxy takes ``WEB_PORT`` (web apps), ``port_base + 8`` (Rasa servers) and
``port_base + 9`` (action servers); replica ``i`` (0-based) takes ``port_base + 10*(i+1)`` (web),
``+1`` (Rasa) and ``+2`` (action server), all on 127.0.0.1.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings
from ops.endpoints import write_endpoints
from ops.supervisor import Child, children


@dataclass(frozen=True)
class Replica:
    index: int
    web_port: int
    rasa_port: int
    action_port: int

    rasa_lb: int
    actions_lb: int

    def env(self, settings: Settings) -> dict[str, str]:
        """What the replica's three processes read instead of the node's settings: their peers are
        reached through the balancer."""
        return {
            "WEB_HOST": "127.0.0.1",
            "WEB_PORT": str(self.web_port),
            "RASA_URL": f"http://127.0.0.1:{self.rasa_lb}",
            "ACTION_SERVER_URL": f"http://127.0.0.1:{self.actions_lb}/webhook",
            "MIGRATE_ON_START": "false",  # ops.run migrated once, under a lock, before starting anyone
            "RASA_PROCESSES": "1",  # the balancer spreads the conversations over the replicas' Rasa servers
            "DATABASE_URL": settings.database_url,
            "REDIS_URL": settings.redis_url,
        }

    def settings(self, settings: Settings) -> Settings:
        """The replica's own ports (what its processes listen on)."""
        return settings.model_copy(
            update={
                "web_host": "127.0.0.1",
                "web_port": self.web_port,
                "rasa_url": f"http://127.0.0.1:{self.rasa_port}",
                "rasa_processes": 1,
                "action_server_url": f"http://127.0.0.1:{self.action_port}/webhook",
                "migrate_on_start": False,
            }
        )


def replicas(count: int, port_base: int) -> list[Replica]:
    return [
        Replica(
            i,
            port_base + 10 * (i + 1),
            port_base + 10 * (i + 1) + 1,
            port_base + 10 * (i + 1) + 2,
            port_base + 8,
            port_base + 9,
        )
        for i in range(count)
    ]


def check_shared_state(settings: Settings, count: int) -> None:
    """Replicas share nothing but the database and Redis: refuse a set-up where they could not."""
    if count < 2:
        return
    if not settings.database_url.startswith(("postgresql", "postgres")):
        raise SystemExit(
            "replicas need a shared PostgreSQL database: set DATABASE_URL=postgresql+psycopg://user@host/db"
        )
    if not settings.redis_url:
        raise SystemExit("replicas need Redis (Rasa's lock store): set REDIS_URL=redis://host:6379/0")


HAPROXY_CANDIDATES = ("haproxy", "/usr/sbin/haproxy")


def haproxy_binary() -> str:
    for name in HAPROXY_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("haproxy is not installed: run scripts/system-deps.sh (Debian package haproxy)")


def _backend(name: str, check: str, ports: list[int]) -> str:
    servers = "\n".join(
        f"    server {name}{i} 127.0.0.1:{p} check inter 1s fall 1 rise 1" for i, p in enumerate(ports)
    )
    return f"""
backend {name}
    option httpchk GET {check}
    http-check expect status 200
{servers}
"""


def haproxy_config(listen_host: str, listen_port: int, reps: list[Replica]) -> str:
    lb = reps[0]
    return f"""# written by ops/cluster.py
global
    maxconn 4096
    # one line per request in the balancer's log (var/logs/…/haproxy.out): which server answered,
    # the termination state and the retries
    log stdout format raw local0

defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout check 2s
    timeout client 600s
    timeout server 300s
    timeout tunnel 600s
    timeout http-request 30s
    retries 2
    option redispatch 1
    # a server killed between two health checks (inter 1s): the request sent to it gets a closed
    # connection and no response; it is sent again to another server instead of failing. A message is
    # processed twice only if the killed server had processed it but not answered (Rasa's lock store
    # serialises the two). conn-failure: a server not listening any more.
    retry-on conn-failure empty-response
    # no idle server-side connections: a connection kept open to a server that is then killed would
    # be reused for the next request and fail it (seen as 502s right after a replica was killed);
    # a fresh local connection per request costs well under a millisecond
    option http-server-close

frontend web
    bind {listen_host}:{listen_port}
    option forwardfor
    default_backend web

frontend rasa
    bind 127.0.0.1:{lb.rasa_lb}
    default_backend rasa

frontend actions
    bind 127.0.0.1:{lb.actions_lb}
    default_backend actions
{_backend("web", "/healthz/live", [r.web_port for r in reps])}{_backend("rasa", "/", [r.rasa_port for r in reps])}{_backend("actions", "/health", [r.action_port for r in reps])}"""


def cluster_children(
    settings: Settings, model: Path, count: int, port_base: int, run_dir: Path
) -> tuple[list[Child], list[Replica]]:
    """The load balancer plus every replica's three processes, each replica with its own log folder."""
    reps = replicas(count, port_base)
    kids: list[Child] = []
    for rep in reps:
        log_dir = run_dir / f"replica-{rep.index}" / "logs"
        through_lb = settings.model_copy(update={"action_server_url": rep.env(settings)["ACTION_SERVER_URL"]})
        endpoints = write_endpoints(through_lb, run_dir / f"replica-{rep.index}" / "rasa-endpoints.yml")
        for kid in children(rep.settings(settings), model, log_dir, endpoints):
            kid.name = f"{kid.name}-{rep.index}"
            kid.env = {**kid.env, **rep.env(settings)}
            kids.append(kid)
    run_dir.mkdir(parents=True, exist_ok=True)
    conf = run_dir / "haproxy.cfg"
    conf.write_text(haproxy_config(settings.web_host, settings.web_port, reps))
    health = f"http://127.0.0.1:{settings.web_port}/healthz/live"
    kids.append(Child("haproxy", [haproxy_binary(), "-db", "-f", str(conf)], health))
    return kids, reps
