"""Start the Rasa server, the action server and the web app; restart any that exits; stop them all.

- Each child runs in its own process group (its own session), so that killing the group ends the
  child *and* every worker it forked; a child that exits has its group killed before it is restarted
  (an orphaned worker would otherwise keep the port and make every restart fail).
- A child that exits is restarted with exponential backoff (1 s, 2 s, 4 s … at most ``MAX_BACKOFF``);
  the backoff resets once the child has stayed up for ``STABLE_AFTER`` seconds.
- Each direct child gets ``PR_SET_PDEATHSIG``: if the supervisor itself dies (SIGKILL), the kernel
  sends SIGTERM to its children, and their own signal handling ends their workers.
- ``stop()`` (Ctrl-C, SIGTERM) ends every process group: SIGTERM first, SIGKILL after a grace period.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from core.settings import ROOT, Settings

MAX_BACKOFF = 30.0
STABLE_AFTER = 60.0
STOP_GRACE = 10.0
_PR_SET_PDEATHSIG = 1


@dataclass
class Child:
    name: str
    argv: list[str]
    health_url: str
    cwd: Path = ROOT
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0
    backoff: float = 1.0
    restart_at: float | None = None  # when a dead child is due to be started again
    warm_url: str = ""  # POSTed once each time the child comes up (Rasa builds its TF graphs then)
    warm_body: bytes = b""
    warmed: bool = False


def port_of(url: str) -> int:
    return urlparse(url).port or 80


def rasa_child(settings: Settings, url: str, model: Path, endpoints: Path, log_dir: Path, name: str) -> Child:
    """One Rasa server of the node, listening on ``url``'s port."""
    return Child(
        name,
        [
            # Rasa's CLI with one fix that keeps its behaviour (ops/rasa_server.py)
            str(ROOT / ".venv-rasa" / "bin" / "python"),
            "-m",
            "ops.rasa_server",
            "run",
            "--enable-api",
            "--auth-token",
            settings.rasa_token,
            "--interface",
            "127.0.0.1",
            "--port",
            str(port_of(url)),
            "--model",
            str(model),
            "--endpoints",
            str(endpoints),
            "--credentials",
            "credentials.yml",
            "--log-file",
            str(log_dir / f"{name}.log"),
        ],
        f"{url}/status?token={settings.rasa_token}",
        cwd=ROOT / "bot",
        env={
            "ACTION_SERVER_URL": settings.action_server_url,
            # one TensorFlow thread per pool: Rasa handles one message at a time, and the idle
            # pool threads cost ~10 ms of CPU per message (docs/performance.md)
            "TF_INTER_OP_PARALLELISM_THREADS": "1",
            "TF_INTRA_OP_PARALLELISM_THREADS": "1",
        },
        # a fresh Rasa builds its TensorFlow graphs on the first message: seconds of CPU that would
        # otherwise land on the first citizen after every (re)start
        warm_url=f"{url}/webhooks/rest/webhook",
        warm_body=json.dumps({"sender": "__warmup__", "message": "你好"}).encode(),
    )


def children(settings: Settings, model: Path, log_dir: Path, endpoints: Path | None = None) -> list[Child]:
    """The three processes of one node. ``endpoints`` is the Rasa endpoints file (tracker and lock
    store); by default the one ``ops.endpoints`` writes from the settings."""
    from ops.endpoints import write_endpoints  # (ops.endpoints imports nothing from here)

    action_port = port_of(settings.action_server_url)
    log_dir = log_dir.resolve()  # Rasa runs in bot/
    log_dir.mkdir(parents=True, exist_ok=True)  # Rasa's --log-file does not create it
    endpoints = endpoints or write_endpoints(settings, log_dir.parent / "rasa-endpoints.yml")
    py = str(ROOT / ".venv" / "bin" / "python")
    return [
        Child(
            "actions",
            [py, "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port)],
            f"http://127.0.0.1:{action_port}/health",
            # one OpenMP thread per process for the query encoder: requests run side by side, and a
            # second spinning thread per request cost 3-5x the CPU per message (docs/performance.md)
            env={"SANIC_HOST": "127.0.0.1", "BANSHI_WARM": "1", "OMP_NUM_THREADS": "1"},
        ),
        *(
            rasa_child(settings, url, model, endpoints, log_dir, "rasa" if i == 0 else f"rasa-{i + 1}")
            for i, url in enumerate(settings.rasa_urls)
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


def _warm(kid: Child) -> None:
    with contextlib.suppress(Exception):
        request = urllib.request.Request(
            kid.warm_url, data=kid.warm_body, headers={"Content-Type": "application/json"}
        )
        urllib.request.urlopen(request, timeout=600).close()


def die_with_parent() -> None:  # runs in the child between fork and exec (preexec_fn)
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of process group ``pgid``, read from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def group_alive(pgid: int) -> bool:
    """True while any process of the group still runs (zombies waiting to be reaped do not count)."""
    return bool(group_members(pgid))


def kill_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _say(text: str) -> None:
    """Print, but never fail: a closed stdout must not stop the supervisor from cleaning up."""
    with contextlib.suppress(Exception):
        print(text, file=sys.stderr if text.startswith("!!") else sys.stdout, flush=True)


class Supervisor:
    """Runs ``kids`` and keeps them running until ``stop()``.

    ``start()`` starts the children and a monitor thread that restarts any that exits; ``watch()``
    blocks the caller until ``stop()``. ``restart=False`` gives the old behaviour (no restarts).
    """

    def __init__(
        self,
        kids: list[Child],
        log_dir: Path,
        env: dict[str, str] | None = None,
        restart: bool = True,
    ) -> None:
        self.kids, self.log_dir, self.env = kids, log_dir, env or {}
        self.restart = restart
        self._stopping = threading.Event()
        self._lock = threading.RLock()
        self._monitor: threading.Thread | None = None
        self.events: list[str] = []  # what happened, for the operator and the tests

    # -- starting ------------------------------------------------------------------------------
    def _spawn(self, kid: Child) -> int:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env, "PYTHONPATH": str(ROOT), **kid.env}
        with open(self.log_dir / f"{kid.name}.out", "ab") as out:
            kid.proc = subprocess.Popen(
                kid.argv,
                cwd=kid.cwd,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        kid.started_at = time.monotonic()
        kid.restart_at = None
        kid.warmed = False
        return kid.proc.pid

    def start(self) -> None:
        for kid in self.kids:
            self._spawn(kid)
            assert kid.proc is not None
            _say(f"    started {kid.name} (pid {kid.proc.pid}), log {self.log_dir / (kid.name + '.out')}")
        if self.restart:
            self._monitor = threading.Thread(target=self._monitor_loop, name="supervisor", daemon=True)
            self._monitor.start()

    def wait_healthy(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        pending = list(self.kids)
        while pending:
            for kid in list(pending):
                assert kid.proc is not None
                if kid.restarts or kid.proc.poll() is not None:
                    raise RuntimeError(
                        f"{kid.name} exited while starting (code {kid.proc.returncode}); see "
                        f"{self.log_dir / (kid.name + '.out')}"
                    )
                if _up(kid.health_url):
                    _say(f"    {kid.name} is up")
                    pending.remove(kid)
                    if kid.warm_url:
                        kid.warmed = True
                        _warm(kid)
            if time.monotonic() > deadline:
                names = ", ".join(k.name for k in pending)
                raise RuntimeError(f"not healthy after {timeout:.0f}s: {names}")
            time.sleep(0.5)

    # -- supervising ---------------------------------------------------------------------------
    def _note(self, text: str) -> None:
        self.events.append(text)
        _say(text)

    def check_once(self) -> None:
        """One round: reap children that exited (killing their groups) and restart those that are due."""
        now = time.monotonic()
        with self._lock:
            if self._stopping.is_set():
                return
            for kid in self.kids:
                proc = kid.proc
                if proc is None:
                    continue
                if kid.restart_at is None and proc.poll() is not None:
                    kill_group(proc.pid)  # its workers, if any, go with it
                    if now - kid.started_at >= STABLE_AFTER:
                        kid.backoff = 1.0
                    kid.restart_at = now + kid.backoff
                    self._note(
                        f"!! {kid.name} exited with code {proc.returncode}; restarting in {kid.backoff:.0f}s"
                    )
                    kid.backoff = min(kid.backoff * 2, MAX_BACKOFF)
                elif kid.restart_at is not None and now >= kid.restart_at:
                    if group_alive(proc.pid):  # a worker ignored SIGKILL's delivery so far: wait
                        kill_group(proc.pid)
                        continue
                    kid.restarts += 1
                    pid = self._spawn(kid)
                    self._note(f"==> restarted {kid.name} (pid {pid}, restart {kid.restarts})")
                elif kid.warm_url and not kid.warmed and kid.restarts and _up(kid.health_url):
                    kid.warmed = True
                    threading.Thread(target=_warm, args=(kid,), daemon=True).start()

    def _monitor_loop(self) -> None:
        while not self._stopping.wait(0.5):
            try:
                self.check_once()
            except Exception as exc:  # keep supervising whatever one round hit
                _say(f"!! supervisor: {exc!r}")

    def down(self) -> list[str]:
        """Names of the children not running right now."""
        return [k.name for k in self.kids if k.proc is None or k.proc.poll() is not None]

    # -- stopping ------------------------------------------------------------------------------
    def stop(self) -> None:
        """End every child and its whole process group (idempotent, safe from a signal handler)."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        with self._lock:
            groups = [k.proc.pid for k in reversed(self.kids) if k.proc is not None]
            for pgid in groups:
                kill_group(pgid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_GRACE
            for kid in self.kids:
                if kid.proc is None:
                    continue
                with contextlib.suppress(subprocess.TimeoutExpired):
                    kid.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            for pgid in groups:  # workers that outlived their parent, and parents that ignored SIGTERM
                kill_group(pgid)
            for kid in self.kids:
                if kid.proc is not None:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        kid.proc.wait(timeout=5)
            # a SIGKILLed worker is not gone the moment the signal is sent: its exit (freeing its
            # memory, closing its sockets) takes a while on a loaded machine, and a port it held
            # stays taken until then. Return only once every group is empty.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                alive = [g for g in groups if group_alive(g)]
                if not alive:
                    break
                for pgid in alive:
                    kill_group(pgid)
                time.sleep(0.05)

    def watch(self) -> int:
        """Block until ``stop()`` (from a signal handler); children that exit meanwhile are restarted."""
        if not self.restart:
            while not self._stopping.wait(1):
                for kid in self.kids:
                    assert kid.proc is not None
                    if kid.proc.poll() is not None:
                        self._note(f"!! {kid.name} exited with code {kid.proc.returncode}; stopping")
                        self.stop()
                        return 1
            return 0
        while not self._stopping.wait(1):
            pass
        return 0
