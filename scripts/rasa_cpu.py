"""CPU time the Rasa server spends per chat message, for comparing models (pipeline, policies).

Runs in the Rasa environment (``.venv-rasa/bin/python``); ``scripts/rasa-cpu.sh`` starts the action
server and calls it. Each message is a new conversation (like ``make load``); the figure is process
CPU time (every thread), so unlike latency it does not depend on what else runs on the machine.
NLU alone (``parse_message``) is measured on the same questions, so core = total − NLU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
import uuid
from pathlib import Path

from rasa.core.agent import Agent
from rasa.utils.common import configure_logging_and_warnings
from rasa.utils.endpoints import EndpointConfig
from rasa.utils.log_utils import configure_structlog


async def measure(model: str, action_url: str, questions: list[str]) -> dict[str, float]:
    agent = Agent.load(model, action_endpoint=EndpointConfig(action_url))
    for q in questions[:5]:  # warm: first predictions build TF graphs
        await agent.handle_text(q, sender_id=f"warm-{uuid.uuid4().hex}")
    start = time.process_time()
    for q in questions:
        await agent.parse_message(q)
    nlu = (time.process_time() - start) / len(questions)
    start, wall = time.process_time(), time.perf_counter()
    empty = 0
    for q in questions:
        replies = await agent.handle_text(q, sender_id=f"cpu-{uuid.uuid4().hex}")
        empty += not replies
    total = (time.process_time() - start) / len(questions)
    return {
        "messages": len(questions),
        "cpu_ms_per_message": total * 1000,
        "nlu_cpu_ms": nlu * 1000,
        "core_cpu_ms": (total - nlu) * 1000,
        "wall_ms_per_message": (time.perf_counter() - wall) / len(questions) * 1000,
        "empty_replies": empty,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="+")
    parser.add_argument("--action-url", required=True)
    parser.add_argument("--questions", type=Path, default=Path("knowledge/eval/dev.jsonl"))
    parser.add_argument("-n", type=int, default=100)
    args = parser.parse_args()
    configure_logging_and_warnings(logging.WARNING)  # as `rasa run` does: no debug output to pay for
    configure_structlog(logging.WARNING)
    lines = args.questions.read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["q"] for line in lines if line.strip()][: args.n]
    for model in args.models:
        print(
            json.dumps({"model": model, **asyncio.run(measure(model, args.action_url, questions))}),
            flush=True,
        )


if __name__ == "__main__":
    main()
