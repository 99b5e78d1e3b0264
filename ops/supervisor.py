"""Start the Rasa server, the action server and the web app; stop them all on Ctrl-C / SIGTERM.

Each child runs in its own process group so that stopping kills its whole tree (no orphans).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from core.settings import ROOT, Settings


@dataclass
class Child:
    name: str
    argv: list[str]
    health_url: str
    cwd: Path = ROOT
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None


def port_of(url: str) -> int:
    return urlparse(url).port or 80


def children(settings: Settings, model: Path, log_dir: Path) -> list[Child]:
    rasa_port = port_of(settings.rasa_url)
    action_port = port_of(settings.action_server_url)
    py = str(ROOT / ".venv" / "bin" / "python")
    return [
        Child(
            "actions",
            [py, "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port)],
            f"http://127.0.0.1:{action_port}/health",
            env={"SANIC_HOST": "127.0.0.1", "BANSHI_WARM": "1"},
        ),
        Child(
            "rasa",
            [
                str(ROOT / ".venv-rasa" / "bin" / "rasa"),
                "run",
                "--enable-api",
                "--auth-token",
                settings.rasa_token,
                "--interface",
                "127.0.0.1",
                "--port",
                str(rasa_port),
                "--model",
                str(model),
                "--endpoints",
                "endpoints.yml",
                "--credentials",
                "credentials.yml",
                "--log-file",
                str(log_dir / "rasa.log"),
            ],
            f"{settings.rasa_url}/status?token={settings.rasa_token}",
            cwd=ROOT / "bot",
            env={"ACTION_SERVER_URL": settings.action_server_url},
        ),
        Child(
            "web",
            [
                py,
                "-m",
                "uvicorn",
                "web.main:app",
                "--host",
                settings.web_host,
                "--port",
                str(settings.web_port),
                "--log-level",
                "warning",
            ],
            f"http://127.0.0.1:{settings.web_port}/healthz",
        ),
    ]


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return bool(r.status == 200)
    except Exception:
        return False


class Supervisor:
    def __init__(self, kids: list[Child], log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.kids, self.log_dir, self.env = kids, log_dir, env or {}
        self._stopping = False

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env_base = {**os.environ, **self.env, "PYTHONPATH": str(ROOT)}
        for kid in self.kids:
            out = open(self.log_dir / f"{kid.name}.out", "ab")  # noqa: SIM115 - lives with the child
            kid.proc = subprocess.Popen(
                kid.argv,
                cwd=kid.cwd,
                env={**env_base, **kid.env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            print(f"    started {kid.name} (pid {kid.proc.pid}), log {self.log_dir / (kid.name + '.out')}")

    def wait_healthy(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        pending = list(self.kids)
        while pending:
            for kid in list(pending):
                assert kid.proc is not None
                if kid.proc.poll() is not None:
                    raise RuntimeError(
                        f"{kid.name} exited with code {kid.proc.returncode}; see "
                        f"{self.log_dir / (kid.name + '.out')}"
                    )
                if _up(kid.health_url):
                    print(f"    {kid.name} is up")
                    pending.remove(kid)
            if time.monotonic() > deadline:
                names = ", ".join(k.name for k in pending)
                raise RuntimeError(f"not healthy after {timeout:.0f}s: {names}")
            time.sleep(0.5)

    def stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        for kid in reversed(self.kids):
            if kid.proc and kid.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(kid.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for kid in self.kids:
            if kid.proc is None:
                continue
            try:
                kid.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(kid.proc.pid, signal.SIGKILL)
                kid.proc.wait()

    def watch(self) -> int:
        """Block until a child dies or we are signalled; then stop everything."""
        while True:
            for kid in self.kids:
                assert kid.proc is not None
                if kid.proc.poll() is not None:
                    print(f"!! {kid.name} exited with code {kid.proc.returncode}; stopping", file=sys.stderr)
                    self.stop()
                    return 1
            time.sleep(1)
