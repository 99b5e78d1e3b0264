"""ops/locustfile.py: the load generator's arrivals. Locust patches the standard library with gevent when
it is imported, so the checks run in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from core.settings import ROOT

CHECKS = r"""
import json, time
from ops.locustfile import Citizen

user = Citizen.__new__(Citizen)
first = user.wait_time()
dues = [user.next_due]
for _ in range(4000):
    user.wait_time()  # called back to back: each message is due one gap after the previous one
    dues.append(user.next_due)
gaps = [b - a for a, b in zip(dues, dues[1:])]
due = user.next_due
user.next_due = time.monotonic() - 100  # the previous message was due long ago (a slow reply)
late = user.wait_time()
print("RESULT " + json.dumps({"mean": sum(gaps) / len(gaps), "min": min(gaps),
      "share_short": sum(g < 0.5 for g in gaps) / len(gaps), "late": late, "first": first,
      "monotone": due >= time.monotonic() - 1}))
"""


def test_each_user_sends_with_exponential_gaps_and_never_catches_up_in_a_burst() -> None:
    env = {**os.environ, "LOAD_USER_RATE": "0.5", "PYTHONPATH": str(ROOT)}
    env.pop("LOAD_ARRIVALS", None)
    proc = subprocess.run(
        [sys.executable, "-c", CHECKS], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    out = json.loads(lines[-1].removeprefix("RESULT "))
    assert 1.85 < out["mean"] < 2.15  # mean 1/rate = 2 s
    assert 0.18 < out["share_short"] < 0.26  # P(gap < 0.5 s) = 1 − e^(−0.25) ≈ 0.22: exponential, not fixed
    assert out["min"] >= 0 and out["late"] == 0  # a late user sends at once, without a burst to catch up
    assert out["monotone"] and 0 <= out["first"] < 30


POOL_CHECKS = r"""
import json
from ops import locustfile

sent = [locustfile.next_question() for _ in range(len(locustfile.QUESTIONS) * 2)]
print("RESULT " + json.dumps({"pool": locustfile.QUESTIONS, "sent": sent}))
"""


def test_a_questions_file_is_sent_without_repeats_until_it_is_used_up(tmp_path: Path) -> None:
    pool = tmp_path / "messages.jsonl"
    texts = [f"第{i}个问题" for i in range(50)]
    pool.write_text(
        "\n".join(json.dumps({"message": t}, ensure_ascii=False) for t in texts) + "\n\n", encoding="utf-8"
    )
    env = {**os.environ, "LOAD_USER_RATE": "0.5", "PYTHONPATH": str(ROOT), "LOAD_QUESTIONS": str(pool)}
    proc = subprocess.run(
        [sys.executable, "-c", POOL_CHECKS], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    out = json.loads(lines[-1].removeprefix("RESULT "))
    assert out["pool"] == texts  # the file's messages, blank lines skipped
    first, second = out["sent"][:50], out["sent"][50:]
    assert sorted(first) == sorted(texts) and sorted(second) == sorted(texts)  # each once per round
    assert first != texts  # shuffled, not the file's order


START_CHECKS = r"""
import json, time
import gevent
from ops import locustfile

slept = []
locustfile.gevent.sleep = slept.append  # record instead of waiting
before = time.monotonic()
users = [locustfile.Citizen.__new__(locustfile.Citizen) for _ in range(4000)]
for u in users:
    u.on_start()
print("RESULT " + json.dumps({"mean": sum(slept) / len(slept), "n": len(slept),
      "share_short": sum(s < 0.5 for s in slept) / len(slept),
      "dues_after_start": all(u.next_due >= before + s - 1e-6 for u, s in zip(users, slept))}))
"""


def test_users_spawned_together_do_not_open_with_a_burst() -> None:
    """Each user waits one exponential gap before its first message (Locust would run the task first)."""
    env = {**os.environ, "LOAD_USER_RATE": "0.5", "PYTHONPATH": str(ROOT)}
    env.pop("LOAD_ARRIVALS", None)
    env.pop("LOAD_QUESTIONS", None)
    proc = subprocess.run(
        [sys.executable, "-c", START_CHECKS], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    out = json.loads(lines[-1].removeprefix("RESULT "))
    assert out["n"] == 4000 and 1.85 < out["mean"] < 2.15  # exponential, mean 1/rate = 2 s
    assert 0.17 < out["share_short"] < 0.26  # P(gap < 0.5 s) = 1 − e^(−0.25) ≈ 0.22: not all at once
    assert out["dues_after_start"]
