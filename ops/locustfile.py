"""Locust scenario for ``make load``: citizens each asking one question in a new conversation.

Every user sends at ``LOAD_USER_RATE`` messages per second (constant throughput, so the total rate is
users × rate while the server keeps up); questions are the dev set's real-style questions. A reply
that is empty or degraded counts as a failure.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from pathlib import Path

from locust import HttpUser, constant_throughput, task

QUESTIONS = [
    json.loads(line)["q"]
    for line in (Path(__file__).resolve().parent.parent / "knowledge" / "eval" / "dev.jsonl")
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip()
]


class Citizen(HttpUser):
    wait_time = constant_throughput(float(os.environ.get("LOAD_USER_RATE", "0.5")))

    @task
    def ask(self) -> None:
        body = {"sender_id": f"load-{uuid.uuid4().hex[:12]}", "message": random.choice(QUESTIONS)}
        with self.client.post("/api/chat", json=body, name="/api/chat", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")
            elif not r.json().get("messages"):
                r.failure("empty reply")
            elif r.json().get("degraded"):
                r.failure("degraded reply")
