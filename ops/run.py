"""``make run``: seed the store if empty, build the index, train if needed, start and supervise."""

from __future__ import annotations

import contextlib
import signal
import sys
import time
from types import FrameType

from core.accounts import DEMO_ACCOUNTS, ROLE_TITLES
from core.settings import Settings, get_settings
from knowledge.cli import main as knowledge_cli
from ops.supervisor import Supervisor, children
from ops.train import ensure_model
from retrieval.live import LiveSearch


def demo_accounts_text(settings: Settings) -> str:
    """The demo logins (local mode only; the web app creates them at start-up)."""
    if settings.environment != "local":
        return ""
    names = " · ".join(f"{name}（{ROLE_TITLES[role]}）" for name, role in DEMO_ACCOUNTS)
    return f"\n    demo accounts       {names}\n                        password: {settings.demo_password} (DEMO_PASSWORD)"


def main() -> int:
    started = time.monotonic()
    settings = get_settings()
    if knowledge_cli(["seed"]) != 0:
        return 1
    print("==> building the search index")
    LiveSearch(settings).warm_up()
    model = ensure_model()
    log_dir = settings.data_dir / "logs"
    sup = Supervisor(children(settings, model, log_dir), log_dir)

    def _stop(signum: int, _frame: FrameType | None) -> None:
        sup.stop()  # first: a closed terminal must not keep the children alive
        with contextlib.suppress(Exception):
            print(f"\n==> stopped (signal {signum})", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    print("==> starting services")
    try:
        sup.start()
        sup.wait_healthy()
    except RuntimeError as exc:
        print(f"!! {exc}", file=sys.stderr)
        sup.stop()
        return 1
    except BaseException:
        sup.stop()
        raise
    base = f"http://{settings.web_host}:{settings.web_port}"
    print(
        f"""
==> 办事e点通 is up ({time.monotonic() - started:.0f}s)
    citizen demo page   {base}/
    agent console       {base}/agent
    API docs (OpenAPI)  {base}/docs
    health              {base}/healthz
    Rasa (loopback)     {settings.rasa_url}  (token required)
    action server       {settings.action_server_url}{demo_accounts_text(settings)}
Press Ctrl-C to stop. A process that exits is restarted (log: {log_dir}).""",
        flush=True,
    )
    try:
        return sup.watch()
    finally:
        sup.stop()


if __name__ == "__main__":
    raise SystemExit(main())
