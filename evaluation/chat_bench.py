"""``make bench-chat``: chat turn latency through the real running system (web app → Rasa → actions).

Each target — this working tree, or a git ref checked out into a temporary worktree that borrows
this checkout's ``.venv`` and ``.venv-rasa`` — is started with its own ``python -m ops.run`` (the
``make run`` path: seed, index, train the Rasa model if ``bot/`` differs from this checkout's, start)
on free ports with a scratch SQLite store. All targets run side by side and the same conversations
are sent to each in turn (the order alternates), so a busy machine slows every target alike and one
run compares them fairly. A turn is one ``POST /api/chat`` as a citizen's client sends it, timed
from request to full response.

    python -m evaluation.chat_bench                       # this working tree
    python -m evaluation.chat_bench --ref 8d5636d --ref HEAD   # before / after, one run

Writes the "Chat turns" section of docs/benchmarks.md (``make bench`` keeps it) and prints a final
``RESULT {json}`` line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from core.settings import ROOT
from evaluation.bench import CHAT_END, CHAT_START, machine, pct
from evaluation.retrieval import load_questions

SECTION_START, SECTION_END = CHAT_START, CHAT_END
FOLLOW_UPS = ["要多久", "在哪里办"]  # aspect questions after a service question
WARM_UP = ["你好", "身份证丢了怎么补办"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@dataclass
class Target:
    """One version of the system, started from its own checkout."""

    label: str
    root: Path
    worktree: bool  # a temporary worktree of ours, removed at the end
    work: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    times: dict[str, list[float]] = field(default_factory=lambda: {"first": [], "follow-up": []})
    errors: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def checkout(ref: str, work: Path) -> Target:
    """A temporary worktree of ``ref`` sharing this checkout's environments and — when its ``bot/`` is
    the same — trained Rasa model."""
    sha = git("rev-parse", "--short", f"{ref}^{{commit}}")
    root = work / f"tree-{sha}"
    git("worktree", "add", "--detach", str(root), sha)
    for venv in (".venv", ".venv-rasa"):
        (root / venv).symlink_to((ROOT / venv).resolve())
    (root / "var").mkdir(exist_ok=True)
    ours = ROOT / "var" / "models"
    theirs = bot_hash(root)
    if (ours / "bot.sha256").exists() and theirs and (ours / "bot.sha256").read_text().strip() == theirs:
        shutil.copytree(ours, root / "var" / "models")
    label = sha if sha.startswith(ref) else f"{ref} ({sha})"
    return Target(label, root, True, work / f"run-{sha}")


def bot_hash(root: Path) -> str:
    """The content hash of ``root``'s bot/, computed by its own ops.train."""
    done = subprocess.run(
        [str(root / ".venv" / "bin" / "python"), "-c", "from ops.train import bot_hash; print(bot_hash())"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() if done.returncode == 0 else ""


def start(target: Target) -> None:
    target.work.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(target.root),
        "DATABASE_URL": f"sqlite:///{target.work / 'bench.db'}",
        "DATA_DIR": str(target.work),
        "WEB_HOST": "127.0.0.1",
        "WEB_PORT": str(target.port),
        "RASA_URL": f"http://127.0.0.1:{free_port()}",
        "ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}/webhook",
        "RASA_TOKEN": "bench-token",
        "CHAT_RATE_LIMIT": "100000/60",
    }
    cache = ROOT / "var" / "embeddings.sqlite"
    if cache.exists():  # keyed by model and text, so only the start-up speed changes
        with (
            contextlib.closing(sqlite3.connect(str(cache), timeout=30)) as src,
            contextlib.closing(sqlite3.connect(str(target.work / "embeddings.sqlite"))) as dst,
        ):
            src.backup(dst)
    log = (target.work / "run.log").open("ab")
    target.proc = subprocess.Popen(
        [str(target.root / ".venv" / "bin" / "python"), "-m", "ops.run"],
        cwd=target.root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    print(f"==> {target.label}: starting on port {target.port} (log {target.work / 'run.log'})", flush=True)


def answered(r: httpx.Response) -> bool:
    """The bot answered: a 200 with messages that is not the web app's degraded reply (Rasa or the
    action server still starting or down: 请拨打12345…), which comes back in milliseconds."""
    if r.status_code != 200:
        return False
    body = r.json()
    return bool(body.get("messages")) and not body.get("degraded", False)


def wait_ready(target: Target, client: httpx.Client, timeout: float) -> None:
    """Up when a chat turn gets the bot's answer (the web app answers /healthz before Rasa is ready)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert target.proc is not None
        if target.proc.poll() is not None:
            raise RuntimeError(f"{target.label} stopped: see {target.work / 'run.log'}")
        with contextlib.suppress(httpx.HTTPError):
            r = client.post(f"{target.base}/api/chat", json={"sender_id": "bench-ready", "message": "你好"})
            if answered(r):
                for text in WARM_UP:  # first turns load lazily; not measured
                    client.post(f"{target.base}/api/chat", json={"sender_id": "bench-warm", "message": text})
                print(f"==> {target.label}: ready", flush=True)
                return
        time.sleep(2)
    raise RuntimeError(f"{target.label} not ready after {timeout:.0f}s: see {target.work / 'run.log'}")


def stop(target: Target) -> None:
    if target.proc is not None and target.proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(target.proc.pid, signal.SIGTERM)  # ops.run stops its children on SIGTERM
        try:
            target.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(target.proc.pid, signal.SIGKILL)
            target.proc.wait()
    if target.worktree:
        with contextlib.suppress(subprocess.CalledProcessError):
            git("worktree", "remove", "--force", str(target.root))


def conversations(n_single: int, n_multi: int, seed: int = 7) -> list[list[str]]:
    """Citizen messages from the dev set: ``n_single`` one-turn conversations (in and out of scope),
    then ``n_multi`` service questions each followed by aspect questions."""
    rows = load_questions(ROOT / "knowledge" / "eval" / "dev.jsonl")
    rng = random.Random(seed)
    single = [[r["q"]] for r in rng.sample(rows, n_single)]
    in_scope = [r for r in rows if r["id"] is not None]
    multi = [[r["q"], *FOLLOW_UPS] for r in rng.sample(in_scope, n_multi)]
    return single + multi


def measure(targets: list[Target], convs: list[list[str]], client: httpx.Client) -> None:
    """Every conversation on a new sender id, on each target in turn (first target alternating)."""
    for i, conv in enumerate(convs):
        order = targets if i % 2 == 0 else list(reversed(targets))
        for target in order:
            sender = f"bench-{target.port}-{i}"
            for turn, message in enumerate(conv):
                t = time.perf_counter()
                try:
                    r = client.post(f"{target.base}/api/chat", json={"sender_id": sender, "message": message})
                    ok = answered(r)
                except httpx.HTTPError:
                    ok = False
                elapsed = (time.perf_counter() - t) * 1000
                if ok:
                    target.times["first" if turn == 0 else "follow-up"].append(elapsed)
                else:
                    target.errors += 1


def summary(target: Target) -> dict[str, object]:
    every = target.times["first"] + target.times["follow-up"]
    out: dict[str, object] = {"turns": len(every), "errors": target.errors}
    for name, values in [("all", every), *target.times.items()]:
        if values:
            out[name] = {"p50_ms": round(pct(values, 0.5)), "p95_ms": round(pct(values, 0.95))}
    return out


def write_section(path: Path, text: str) -> None:
    """Replace the chat-turns section of ``path`` (append it when missing)."""
    doc = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    block = f"{SECTION_START}\n{text.strip()}\n{SECTION_END}"
    if SECTION_START in doc and SECTION_END in doc:
        head, rest = doc.split(SECTION_START, 1)
        doc = head + block + rest.split(SECTION_END, 1)[1]
    else:
        doc = doc.rstrip() + "\n\n" + block + "\n"
    path.write_text(doc, encoding="utf-8")


def report(
    targets: list[Target], results: dict[str, dict[str, object]], command: str, n: int, turns: int
) -> str:
    def cell(res: dict[str, object], name: str) -> str:
        v = res.get(name)
        return f"{v['p50_ms']} / {v['p95_ms']} ms" if isinstance(v, dict) else "-"

    rows = "\n".join(
        f"| {t.label} | {cell(results[t.label], 'all')} | {cell(results[t.label], 'first')} | "
        f"{cell(results[t.label], 'follow-up')} | {results[t.label]['turns']} | {t.errors} |"
        for t in targets
    )
    return f"""## Chat turns through the running system — `make bench-chat`

Produced by `{command}` on {time.strftime("%Y-%m-%d %H:%M")} — {machine()}.
Each version runs its own `ops.run` (web app → Rasa → action server, SQLite store) on free ports;
{n} conversations from `knowledge/eval/dev.jsonl` ({turns} turns per version: one-turn questions in and
out of scope, and service questions followed by {" / ".join(FOLLOW_UPS)}), each on a new sender id,
sent to every version in turn. A turn is one `POST /api/chat`, request to full response; an error is a
turn without a 200 answer carrying bot messages, or with the degraded reply the web app gives while
Rasa or the action server is down; a version is measured only once a turn gets a real answer. Compare
versions within one run only: other work on the machine moves every figure.

| version | all turns p50 / p95 | first turn p50 / p95 | follow-up p50 / p95 | turns | errors |
|---|---|---|---|---|---|
{rows}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ref", action="append", default=[], help="git ref to measure (repeatable)")
    parser.add_argument("--single", type=int, default=40, help="one-turn conversations")
    parser.add_argument("--multi", type=int, default=10, help="multi-turn conversations")
    parser.add_argument("--rounds", type=int, default=2, help="times the conversations are sent")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for each start")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="chat-bench-"))
    targets: list[Target] = []
    convs: list[list[str]] = []
    try:
        if args.ref:
            targets = [checkout(ref, work) for ref in args.ref]
        else:
            targets = [
                Target(f"working tree ({git('rev-parse', '--short', 'HEAD')})", ROOT, False, work / "run")
            ]
        for target in targets:
            start(target)
        with httpx.Client(timeout=120) as client:
            for target in targets:
                wait_ready(target, client, args.timeout)
            convs = conversations(args.single, args.multi) * args.rounds
            measure(targets, convs, client)
    finally:
        for target in targets:
            stop(target)
        shutil.rmtree(work, ignore_errors=True)
    results = {t.label: summary(t) for t in targets}
    command = "python -m evaluation.chat_bench" + "".join(f" --ref {r}" for r in args.ref)
    turns = sum(len(c) for c in convs)
    text = report(targets, results, command, len(convs), turns)
    write_section(Path(args.out), text)
    print(text)
    print("RESULT " + json.dumps(results, ensure_ascii=False))
    return 0 if all(t.errors == 0 for t in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
