"""``make run``: seed the store if empty, build the index, train if needed, start and supervise.

``python -m ops.run --replicas N`` (``make run-cluster``) starts N replicas behind HAProxy instead; they
share the PostgreSQL database and Redis (see ``ops/cluster.py``), and the schema is migrated once,
here, before any of them starts.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from types import FrameType

from core.accounts import DEMO_ACCOUNTS, ROLE_TITLES
from core.migrate import ensure_database, migrate
from core.settings import Settings, get_settings
from knowledge.cli import main as knowledge_cli
from ops.cluster import check_shared_state, cluster_children
from ops.supervisor import Supervisor, children
from ops.train import ensure_model
from retrieval.live import LiveSearch


def demo_accounts_text(settings: Settings) -> str:
    """The demo logins (local mode only; the web app creates them at start-up)."""
    if settings.environment != "local":
        return ""
    names = " · ".join(f"{name}（{ROLE_TITLES[role]}）" for name, role in DEMO_ACCOUNTS)
    return f"\n    demo accounts       {names}\n                        password: {settings.demo_password} (DEMO_PASSWORD)"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ops.run", description=__doc__)
    parser.add_argument(
        "--replicas", type=int, default=0, help="start N replicas behind HAProxy (0 = one node, no balancer)"
    )
    parser.add_argument(
        "--port-base",
        type=int,
        default=18000,
        help="replica i listens on port-base+10(i+1) (web), +1 (Rasa), +2 (actions); HAProxy on WEB_PORT",
    )
    parser.add_argument(
        "--start-timeout", type=float, default=600, help="seconds for every process to become healthy"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    settings = get_settings()
    check_shared_state(settings, args.replicas)
    if args.replicas:
        print("==> migrating the database (once, under a lock)")
        ensure_database(settings.database_url)
        migrate(settings.database_url)
    if knowledge_cli(["seed"]) != 0:
        return 1
    model = ensure_model()  # first: it also exports the encoder the index is built with
    print("==> building the search index")
    LiveSearch(settings).warm_up()
    log_dir = settings.data_dir / "logs"
    if args.replicas:
        run_dir = settings.data_dir / "cluster"
        kids, reps = cluster_children(settings, model, args.replicas, args.port_base, run_dir)
        sup = Supervisor(kids, run_dir / "logs", env={"MIGRATE_ON_START": "false"})
        log_dir = run_dir / "logs"
    else:
        sup = Supervisor(children(settings, model, log_dir), log_dir)

    def _stop(signum: int, _frame: FrameType | None) -> None:
        sup.stop()  # first: a closed terminal must not keep the children alive
        with contextlib.suppress(Exception):
            print(f"\n==> stopped (signal {signum})", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGHUP, _stop)
    print("==> starting services")
    try:
        sup.start()
        sup.wait_healthy(timeout=args.start_timeout)
    except RuntimeError as exc:
        print(f"!! {exc}", file=sys.stderr)
        sup.stop()
        return 1
    except BaseException:
        sup.stop()
        raise
    base = f"http://{settings.web_host}:{settings.web_port}"
    if args.replicas:
        where = "\n".join(
            f"    replica {r.index}           web :{r.web_port} · Rasa :{r.rasa_port} · actions :{r.action_port}"
            for r in reps
        )
        backend = f"    load balancer       HAProxy on {base} ({run_dir / 'haproxy.cfg'})\n{where}"
    else:
        backend = (
            f"    Rasa (loopback)     {' · '.join(settings.rasa_urls)}  (token required)\n"
            f"    action server       {settings.action_server_url}"
        )
    print(
        f"""
==> 办事e点通 is up ({time.monotonic() - started:.0f}s)
    citizen demo page   {base}/
    agent console       {base}/agent
    API docs (OpenAPI)  {base}/docs
    health              {base}/healthz
{backend}{demo_accounts_text(settings)}
Press Ctrl-C to stop. A process that exits is restarted (logs: {log_dir}).""",
        flush=True,
    )
    try:
        return sup.watch()
    finally:
        sup.stop()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
