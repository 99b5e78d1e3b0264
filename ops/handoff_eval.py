"""Real-data check of the handoff triggers (part of ``make eval-external``).

Every message of ``msgabench_citizen_messages.jsonl`` (labelled 咨询 / 建言 / 投诉/求助) is parsed by
the trained Rasa NLU through a real Rasa server, and the bot's first reply is derived the way the rules
in ``bot/data/rules`` choose it:

- ``complain`` / ``request_human``: the conversation is handed to a human;
- ``out_of_scope``: the assistant abstains, with a 转人工 button and the hotline;
- a service question or ``nlu_fallback``: the knowledge base is searched (``search``); when it
  abstains the reply carries the 转人工 button, otherwise it answers;
- anything else (greetings, thanks, …): no human is offered.

A 投诉/求助 message should lead to a human being offered; a 咨询 message should be kept by the bot
(not handed off).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx

from core.settings import ROOT
from ops.train import MODEL, RASA

HANDOFF_INTENTS = {"request_human", "complain"}
ABSTAIN_INTENTS = {"out_of_scope"}
SEARCH_INTENTS = {
    "ask_service", "ask_materials", "ask_conditions", "ask_steps", "ask_time_limit", "ask_fee",
    "ask_location", "ask_phone", "ask_online", "ask_legal_basis", "choose_service", "nlu_fallback",
}  # fmt: skip
MESSAGES = "msgabench_citizen_messages.jsonl"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def first_reply(intent: str, text: str, answerable: Callable[[str], bool]) -> str:
    """What the bot does first: 'handoff', 'human_offered' (abstention with 转人工), 'answered' or 'other'."""
    if intent in HANDOFF_INTENTS:
        return "handoff"
    if intent in ABSTAIN_INTENTS:
        return "human_offered"
    if intent in SEARCH_INTENTS:
        return "answered" if answerable(text) else "human_offered"
    return "other"


def evaluate_handoff(
    data: Path, answerable: Callable[[str], bool], limit: int | None = None
) -> dict[str, object]:
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
        replies: Counter[tuple[str, str]] = Counter()
        totals = Counter[str]()
        for row in rows:
            r = client.post("/model/parse", params={"token": token}, json={"text": row["message"][:500]})
            intent = r.json()["intent"]["name"]
            intents[(row["type"], intent)] += 1
            totals[row["type"]] += 1
            replies[(row["type"], first_reply(intent, row["message"][:500], answerable))] += 1
    finally:
        proc.terminate()
        proc.wait(timeout=20)

    def share(kind: str, *outcomes: str) -> float:
        return round(sum(replies[(kind, o)] for o in outcomes) / max(totals[kind], 1), 4)

    complaint = "投诉/求助"
    return {
        "messages": sum(totals.values()),
        "complaint_human_offered": share(complaint, "handoff", "human_offered"),
        "complaint_handed_off": share(complaint, "handoff"),
        "consultation_kept_by_bot": round(1 - share("咨询", "handoff"), 4),
        "consultation_answered": share("咨询", "answered"),
        "suggestion_kept_by_bot": round(1 - share("建言", "handoff"), 4),
        "first_replies": {f"{t} → {o}": n for (t, o), n in sorted(replies.items())},
        "top_intents": {t: [i for (tt, i), _ in intents.most_common() if tt == t][:5] for t in totals},
    }
