"""Locust scenario for ``make load``: citizens each asking one question in a new conversation.

Every user sends at ``LOAD_USER_RATE`` messages per second on average, the gaps between its messages
drawn from an exponential distribution: the many users together send as independent citizens do (a
Poisson stream), not in the lock-step bursts that fixed gaps produce (users started within one second,
each waiting exactly 1/rate, fire together; a burst of n messages makes the last one wait for the n − 1
before it, whatever the node's capacity). The gap counts from the start of the previous message, so the
offered rate does not drop when the server slows down, until a reply takes longer than the gap. The
total rate is users × rate; ``LOAD_ARRIVALS=fixed`` restores Locust's ``constant_throughput`` for
comparison. Questions are the dev set's real-style questions (``LOAD_QUESTIONS``: another pool). A reply that is empty or degraded counts
as a failure.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from pathlib import Path

import gevent
from locust import HttpUser, constant_throughput, task

DEV_SET = Path(__file__).resolve().parent.parent / "knowledge" / "eval" / "dev.jsonl"


def load_questions(path: Path) -> list[str]:
    """The texts of a JSON-lines file: each line's ``q``, ``question`` or ``message``."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            text = row.get("q") or row.get("question") or row.get("message")
            if text:
                out.append(str(text))
    return out


#: ``LOAD_QUESTIONS=<file>``: another pool (e.g. real citizen messages), sent in a shuffled order with
#: no text repeated until the pool is used up — the embedding memos then never help; by default the
#: dev set's 303 questions, drawn at random (they repeat, as popular questions do)
_SOURCE = os.environ.get("LOAD_QUESTIONS")
QUESTIONS = load_questions(Path(_SOURCE) if _SOURCE else DEV_SET)
_order = list(QUESTIONS)
random.shuffle(_order)
_unique = itertools.cycle(_order)


def next_question() -> str:
    return next(_unique) if _SOURCE else random.choice(QUESTIONS)


RATE = float(os.environ.get("LOAD_USER_RATE", "0.5"))
FIXED = os.environ.get("LOAD_ARRIVALS") == "fixed"
_fixed_gap = constant_throughput(RATE)


class Citizen(HttpUser):
    next_due: float | None = None  # when this user's previous message was due

    def on_start(self) -> None:
        """Wait one exponential gap before the first message too. Locust runs a user's task before its
        first wait, so users spawned together would open with a burst (80 messages at once for 20
        msg/s), not a Poisson stream; the memoryless first gap makes the stream Poisson from the start."""
        if not FIXED:
            first = random.expovariate(RATE)
            self.next_due = time.monotonic() + first
            gevent.sleep(first)

    def wait_time(self) -> float:
        """Exponential gaps of mean 1/rate, counted from when the previous message was due."""
        if FIXED:
            return float(_fixed_gap(self))
        now = time.monotonic()
        due = (self.next_due if self.next_due is not None else now) + random.expovariate(RATE)
        self.next_due = max(due, now)  # late (a slow reply): send now, no catching up in a burst
        return self.next_due - now

    @task
    def ask(self) -> None:
        body = {"sender_id": f"load-{uuid.uuid4().hex[:12]}", "message": next_question()}
        with self.client.post("/api/chat", json=body, name="/api/chat", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")
            elif not r.json().get("messages"):
                r.failure("empty reply")
            elif r.json().get("degraded"):
                r.failure("degraded reply")
