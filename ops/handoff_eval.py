"""Real-data check of the handoff triggers (part of ``make eval-external``).

Every message of ``msgabench_citizen_messages.jsonl`` (labelled 咨询 / 建言 / 投诉/求助) is parsed by
the trained Rasa NLU through a real Rasa server; a 投诉/求助 message should lead to a human being
offered (intents that trigger the handoff), a 咨询 message should be kept by the bot.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path

import httpx

from core.settings import ROOT
from ops.train import MODEL, RASA

HANDOFF_INTENTS = {"request_human", "complain"}
MESSAGES = "msgabench_citizen_messages.jsonl"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def evaluate_handoff(data: Path, limit: int | None = None) -> dict[str, object]:
    rows = [
        json.loads(line)
        for line in (data / MESSAGES).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    rows = rows[:limit] if limit else rows
    if not MODEL.exists():
        raise RuntimeError(f"no trained Rasa model at {MODEL}: run 'make train' first")
    port, token = _free_port(), "eval-token"
    proc = subprocess.Popen(
        [
            str(RASA),
            "run",
            "--enable-api",
            "--auth-token",
            token,
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
            "--model",
            str(MODEL),
        ],
        cwd=ROOT / "bot",
        # only /model/parse is used: no action server is needed, but endpoints.yml names one
        env={**os.environ, "ACTION_SERVER_URL": "http://127.0.0.1:9/webhook"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        deadline = time.monotonic() + 180
        while True:
            try:
                if client.get("/status", params={"token": token}).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the Rasa server did not start for the handoff evaluation")
            time.sleep(1)
        intents: Counter[tuple[str, str]] = Counter()
        handed = Counter[str]()
        totals = Counter[str]()
        for row in rows:
            r = client.post("/model/parse", params={"token": token}, json={"text": row["message"][:500]})
            intent = r.json()["intent"]["name"]
            intents[(row["type"], intent)] += 1
            totals[row["type"]] += 1
            handed[row["type"]] += intent in HANDOFF_INTENTS
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    complaint = "投诉/求助"
    return {
        "messages": sum(totals.values()),
        "complaint_human_offered": round(handed[complaint] / max(totals[complaint], 1), 4),
        "consultation_kept_by_bot": round(1 - handed["咨询"] / max(totals["咨询"], 1), 4),
        "suggestion_kept_by_bot": round(1 - handed["建言"] / max(totals["建言"], 1), 4),
        "top_intents": {t: [i for (tt, i), _ in intents.most_common() if tt == t][:5] for t in totals},
    }
