"""CPU time the Rasa server spends per chat message, for comparing models (pipeline, policies).

Runs in the Rasa environment (``.venv-rasa/bin/python``); ``scripts/rasa-cpu.sh`` starts the action
server and calls it. Each message is a new conversation (like ``make load``); the figure is process
CPU time (every thread), so unlike latency it does not depend on what else runs on the machine.
NLU alone (``parse_message``) is measured on the same questions, so core = total − NLU.

Rasa runs as the supervisor starts it (``ops/rasa_server.py``: action answers validated by a validator
built once); ``--stock`` measures Rasa without that. ``--sql-tracker FILE`` keeps the conversations in
an SQL tracker store on that SQLite file (the supervisor's store) instead of Rasa's in-memory one.
``--action-pid`` adds the action server's CPU per message (its process tree; first model only, since
the encoder then caches the questions). TensorFlow's thread settings (``TF_INTER_OP_PARALLELISM_THREADS``,
``TF_INTRA_OP_PARALLELISM_THREADS``) are read from the environment as ``rasa run`` reads them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import time
import uuid
from pathlib import Path

from rasa.core.agent import Agent
from rasa.core.tracker_store import SQLTrackerStore
from rasa.utils.common import configure_logging_and_warnings
from rasa.utils.endpoints import EndpointConfig
from rasa.utils.log_utils import configure_structlog
from rasa.utils.tensorflow.environment import setup_tf_environment

from ops.rasa_server import install_action_result_validator


def tree_cpu_s(pid: int | None) -> float:
    """CPU time (user + system) so far of process ``pid`` and its live descendants (the action
    server's Sanic workers), from /proc; 0 when no pid."""
    if not pid:
        return 0.0
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # exited meanwhile
    tree, todo = set(), [pid]
    while todo:
        tree.add(current := todo.pop())
        todo += [p for p, fields in stats.items() if int(fields[1]) == current and p not in tree]
    ticks = sum(int(stats[p][11]) + int(stats[p][12]) for p in tree if p in stats)
    return ticks / os.sysconf("SC_CLK_TCK")


async def measure(
    model: str,
    action_url: str,
    questions: list[str],
    warm: list[str],
    sql_tracker: Path | None,
    action_pid: int | None,
) -> dict[str, float]:
    agent = Agent.load(model, action_endpoint=EndpointConfig(action_url))
    if sql_tracker is not None:
        store = SQLTrackerStore(agent.domain, dialect="sqlite", db=str(sql_tracker.resolve()))
        agent.tracker_store = agent.processor.tracker_store = store  # type: ignore[union-attr]
    for q in warm:  # first predictions build TF graphs; not measured questions (the encoder caches)
        await agent.handle_text(q, sender_id=f"warm-{uuid.uuid4().hex}")
    start = time.process_time()
    for q in questions:
        await agent.parse_message(q)
    nlu = (time.process_time() - start) / len(questions)
    start, wall, actions = time.process_time(), time.perf_counter(), tree_cpu_s(action_pid)
    empty = 0
    for q in questions:
        replies = await agent.handle_text(q, sender_id=f"cpu-{uuid.uuid4().hex}")
        empty += not replies
    total = (time.process_time() - start) / len(questions)
    actions = (tree_cpu_s(action_pid) - actions) / len(questions)
    return {
        "messages": len(questions),
        "cpu_ms_per_message": total * 1000,
        "nlu_cpu_ms": nlu * 1000,
        "core_cpu_ms": (total - nlu) * 1000,
        "actions_cpu_ms_per_message": actions * 1000,
        "wall_ms_per_message": (time.perf_counter() - wall) / len(questions) * 1000,
        "empty_replies": empty,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="+")
    parser.add_argument("--action-url", required=True)
    parser.add_argument("--questions", type=Path, default=Path("knowledge/eval/dev.jsonl"))
    parser.add_argument("-n", type=int, default=100)
    parser.add_argument("--stock", action="store_true", help="without ops/rasa_server.py's validator")
    parser.add_argument("--sql-tracker", type=Path, help="SQLite file for an SQL tracker store")
    parser.add_argument("--action-pid", type=int, help="the action server's pid: its CPU is counted too")
    args = parser.parse_args()
    setup_tf_environment()
    if not args.stock:
        install_action_result_validator()
    configure_logging_and_warnings(logging.WARNING)  # as `rasa run` does: no debug output to pay for
    configure_structlog(logging.WARNING)
    lines = args.questions.read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["q"] for line in lines if line.strip()][: args.n + 5]
    questions, warm = questions[: args.n], questions[args.n :]
    for model in args.models:
        print(
            json.dumps(
                {
                    "model": model,
                    "stock": args.stock,
                    "sql_tracker": bool(args.sql_tracker),
                    **asyncio.run(
                        measure(model, args.action_url, questions, warm, args.sql_tracker, args.action_pid)
                    ),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
