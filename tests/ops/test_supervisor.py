"""The supervisor with small real processes: restart with backoff, whole process groups cleaned up."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ops.supervisor import Child, Supervisor, group_alive

# A server that forks a worker (like the action server's workers) and answers /health on its port.
SERVER = r"""
import http.server, multiprocessing, os, sys, time
def worker():
    time.sleep(3600)
if __name__ == "__main__":
    w = multiprocessing.Process(target=worker)
    w.start()
    with open(sys.argv[2], "a") as f:
        f.write(f"{w.pid}\n")
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200); self.end_headers(); self.wfile.write(str(os.getpid()).encode())
        def log_message(self, *a):
            pass
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return str(r.read().decode())
    except OSError:
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _wait(predicate, timeout: float = 20) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    port = _free_port()
    workers = tmp_path / "workers.txt"
    kid = Child(
        "srv",
        [sys.executable, str(script), str(port), str(workers)],
        f"http://127.0.0.1:{port}/health",
        cwd=tmp_path,
    )
    sup = Supervisor([kid], tmp_path / "logs")
    sup.start()
    try:
        sup.wait_healthy(timeout=30)
        yield sup, kid, workers
    finally:
        sup.stop()


def test_sigkilled_child_is_restarted_and_its_workers_cleaned_up(server) -> None:  # type: ignore[no-untyped-def]
    sup, kid, workers = server
    first_pid = kid.proc.pid
    first_worker = int(workers.read_text().split()[0])
    assert _alive(first_worker)
    os.kill(first_pid, signal.SIGKILL)
    # the orphaned worker (same process group) is killed, then the child comes back by itself
    assert _wait(lambda: not _alive(first_worker)), "the dead child's worker was left running"
    assert _wait(lambda: _get(kid.health_url) not in (None, str(first_pid))), "not restarted"
    assert kid.restarts == 1
    assert any("srv exited with code -9" in e for e in sup.events)


def test_backoff_grows_while_a_child_keeps_dying(server) -> None:  # type: ignore[no-untyped-def]
    _, kid, _ = server
    for expected in (1, 2):
        pid = kid.proc.pid
        os.kill(pid, signal.SIGKILL)
        assert _wait(lambda p=pid: kid.proc.pid != p and _get(kid.health_url) is not None), expected
        assert kid.restarts == expected
    assert kid.backoff == 4.0  # 1 s, then 2 s; the next wait would be 4 s


def test_stop_ends_every_process_group(server) -> None:  # type: ignore[no-untyped-def]
    sup, kid, workers = server
    pgid = kid.proc.pid
    sup.stop()
    assert not group_alive(pgid)
    assert all(not _alive(int(p)) for p in workers.read_text().split())
    assert sup.down() == ["srv"]


def test_a_node_runs_one_rasa_child_per_rasa_process(tmp_path: Path) -> None:
    from core.settings import Settings
    from ops.supervisor import children

    settings = Settings(rasa_url="http://127.0.0.1:7005", rasa_processes=2, rasa_token="t")  # type: ignore[call-arg]
    kids = {k.name: k for k in children(settings, tmp_path / "model.tar.gz", tmp_path / "logs")}
    assert sorted(kids) == ["actions", "rasa", "rasa-2", "web"]
    for name, port in (("rasa", "7005"), ("rasa-2", "7006")):
        argv = kids[name].argv
        assert argv[argv.index("--port") + 1] == port
        assert argv[argv.index("--log-file") + 1].endswith(f"{name}.log")
        assert kids[name].health_url.startswith(f"http://127.0.0.1:{port}/status")
    single = children(settings.model_copy(update={"rasa_processes": 1}), tmp_path / "m", tmp_path / "logs")
    assert [k.name for k in single] == ["actions", "rasa", "web"]
