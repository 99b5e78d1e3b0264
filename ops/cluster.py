"""``python -m ops.run --replicas N``: N web apps, N Rasa servers and N action servers behind nginx.

Every replica shares the database (PostgreSQL) and Redis: Rasa's tracker store is the database, its
lock store Redis; chat messages, tickets, agent presence and the SSE feed live in the database, so any
replica can serve any turn of any conversation. nginx (Debian's package, started by the supervisor
like the other children, with a configuration written here) listens on ``WEB_PORT`` and spreads
requests over the web apps; a request that cannot reach a replica is passed to the next one. nginx
also fronts the Rasa servers and the action servers (as Kubernetes Services do): every web app talks
to any live Rasa, every Rasa to any live action server, so one dead process does not take its
replica's other two out of service.

Ports: the load balancer takes ``WEB_PORT`` (web apps), ``port_base + 8`` (Rasa servers) and
``port_base + 9`` (action servers); replica ``i`` (0-based) takes ``port_base + 10*(i+1)`` (web),
``+1`` (Rasa) and ``+2`` (action server), all on 127.0.0.1.
"""

from __future__ import annotations

import os
import pwd
import shutil
from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings
from ops.endpoints import write_endpoints
from ops.supervisor import Child, children

NGINX_CANDIDATES = ("nginx", "/usr/sbin/nginx")


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


def nginx_binary() -> str:
    for name in NGINX_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("nginx is not installed: run scripts/system-deps.sh (Debian package nginx-light)")


def _servers(ports: list[int]) -> str:
    return "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in ports)


def _backend(name: str, port: int) -> str:
    """A loopback balancer for Rasa or the action servers (plain proxying, next server on error)."""
    return f"""
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 10m;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_connect_timeout 2s;
        proxy_read_timeout 300s;  # the web app gives up on Rasa first (RASA_TIMEOUT_S)
        proxy_next_upstream error timeout http_502 non_idempotent;
        location / {{ proxy_pass http://{name}; }}
    }}"""


def nginx_config(listen_host: str, listen_port: int, reps: list[Replica], run_dir: Path) -> str:
    servers = _servers([r.web_port for r in reps])
    user = pwd.getpwuid(os.getuid()).pw_name
    return f"""# written by ops/cluster.py
user {user};
worker_processes 1;
daemon off;
pid {run_dir}/nginx.pid;
error_log {run_dir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {run_dir}/client_body;
    proxy_temp_path {run_dir}/proxy;
    fastcgi_temp_path {run_dir}/fastcgi;
    uwsgi_temp_path {run_dir}/uwsgi;
    scgi_temp_path {run_dir}/scgi;
    upstream banshi_web {{
{servers}
        keepalive 32;
    }}
    upstream banshi_rasa {{
{_servers([r.rasa_port for r in reps])}
        keepalive 32;
    }}
    upstream banshi_actions {{
{_servers([r.action_port for r in reps])}
        keepalive 32;
    }}{_backend("banshi_rasa", reps[0].rasa_lb)}{_backend("banshi_actions", reps[0].actions_lb)}
    server {{
        listen {listen_host}:{listen_port};
        client_max_body_size 10m;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_connect_timeout 2s;
        proxy_read_timeout 300s;  # the web app gives up on Rasa first (RASA_TIMEOUT_S)
        # a replica that refuses or drops the connection: the next one answers (POST included)
        proxy_next_upstream error timeout http_502 non_idempotent;
        proxy_next_upstream_tries 3;
        location ~ ^/api/chat/[^/]+/stream$ {{
            proxy_pass http://banshi_web;
            proxy_buffering off;
            proxy_read_timeout 600s;
        }}
        location / {{
            proxy_pass http://banshi_web;
        }}
    }}
}}
"""


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
    conf = run_dir / "nginx.conf"
    conf.write_text(nginx_config(settings.web_host, settings.web_port, reps, run_dir))
    kids.append(
        Child(
            "nginx",
            [nginx_binary(), "-c", str(conf), "-p", str(run_dir), "-e", str(run_dir / "nginx-error.log")],
            f"http://127.0.0.1:{settings.web_port}/healthz/live",
        )
    )
    return kids, reps
