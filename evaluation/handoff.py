"""Real-data check of the handoff triggers (part of ``make eval-external``).

Every message of ``msgabench_citizen_messages.jsonl`` (labelled 咨询 / 建言 / 投诉/求助) is parsed by
the trained Rasa NLU through a real Rasa server, and the bot's first reply is read off the bot's own
rules (``bot/data/rules/*.yml``, with the domain's intents and initial slot values): for each intent,
the actions the rule that applies when a conversation opens with that intent runs before the bot waits
again (``first_actions``). What those actions mean for the citizen is the one thing written here
(``OUTCOMES``):

- ``action_handoff``: the conversation is handed to a human (``handoff``);
- ``action_abstain``: the assistant abstains, with a 转人工 button and the hotline (``human_offered``);
- ``action_answer_service``: the knowledge base is searched; when it abstains the reply carries the
  转人工 button (``human_offered``), otherwise it answers (``answered``);
- an intent whose rule runs none of these (greetings, thanks, …), or no rule: ``other``.

So a rule that changes what an intent does changes this figure with it. A 投诉/求助 message should lead
to a human being offered; a 咨询 message should be kept by the bot (not handed off).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import yaml

from core.settings import ROOT
from ops.supervisor import die_with_parent
from ops.train import MODEL, RASA

RULES_DIR = ROOT / "bot" / "data" / "rules"
DOMAIN_DIR = ROOT / "bot" / "domain"
MESSAGES = "msgabench_citizen_messages.jsonl"
#: what an action of the first reply means for the citizen, strongest first (a handoff after
#: recording feedback is a handoff)
OUTCOMES = {"action_handoff": "handoff", "action_abstain": "human_offered", "action_answer_service": "search"}
ACTION_LISTEN = "action_listen"


def _yaml_files(folder: Path) -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text(encoding="utf-8")) or {} for p in sorted(folder.glob("*.yml"))]


def _opening_state(domain_dir: Path) -> tuple[list[str], dict[str, Any]]:
    """The domain's intents and every slot's value when a conversation opens (its initial value)."""
    intents: list[str] = []
    slots: dict[str, Any] = {}
    for part in _yaml_files(domain_dir):
        for intent in part.get("intents", []):
            intents.append(next(iter(intent)) if isinstance(intent, dict) else str(intent))
        for name, slot in (part.get("slots") or {}).items():
            slots[name] = (slot or {}).get("initial_value")
    return intents, slots


def _holds_at_opening(condition: list[dict[str, Any]], slots: Mapping[str, Any]) -> bool:
    """Whether a rule's ``condition`` holds when a conversation opens: no form active, initial slots."""
    for item in condition:
        if "active_loop" in item:
            if item["active_loop"] is not None:
                return False
        elif "slot_was_set" in item:
            for slot in item["slot_was_set"]:  # `- name: value`, or `- name` for "has a value"
                if isinstance(slot, dict):
                    ((name, value),) = slot.items()
                    if slots.get(name) != value:
                        return False
                elif slots.get(slot) is None:
                    return False
        else:
            raise ValueError(f"rule condition not understood here: {item}")
    return True


def _opening_intents(step: dict[str, Any]) -> list[str]:
    """The intents a rule's first step matches (``intent: x`` or ``or: [intent: a, intent: b]``)."""
    if "intent" in step:
        return [str(step["intent"])]
    if "or" in step:
        return [str(s["intent"]) for s in step["or"] if "intent" in s]
    return []


def first_actions(rules_dir: Path = RULES_DIR, domain_dir: Path = DOMAIN_DIR) -> dict[str, tuple[str, ...]]:
    """For each intent (the domain's, and any a rule names, e.g. ``nlu_fallback``): the actions the bot
    runs when a conversation opens with it, as its rules predict them: the action steps that follow
    the intent in the rule that applies, up to the first step that is not an action. An empty tuple:
    no rule applies at the opening. Two applicable rules that disagree are an error."""
    intents, slots = _opening_state(domain_dir)
    found: dict[str, tuple[str, ...]] = {}
    where: dict[str, str] = {}
    for part in _yaml_files(rules_dir):
        for rule in part.get("rules") or []:
            steps: list[dict[str, Any]] = rule.get("steps") or []
            if not steps or not _holds_at_opening(rule.get("condition") or [], slots):
                continue
            actions: list[str] = []
            for step in steps[1:]:
                if "action" not in step or step["action"] == ACTION_LISTEN:
                    break
                actions.append(str(step["action"]))
            for intent in _opening_intents(steps[0]):
                if intent in found and found[intent] != tuple(actions):
                    raise ValueError(
                        f"rules {where[intent]!r} and {rule.get('rule')!r} disagree on what {intent} does "
                        f"first: {found[intent]} vs {tuple(actions)}"
                    )
                found[intent], where[intent] = tuple(actions), str(rule.get("rule"))
    return {intent: found.get(intent, ()) for intent in dict.fromkeys([*intents, *found])}


def outcome_of(actions: tuple[str, ...]) -> str:
    """``handoff``, ``human_offered``, ``search`` (answered or not: the knowledge base decides) or ``other``."""
    kinds = {OUTCOMES[a] for a in actions if a in OUTCOMES}
    return next((kind for kind in OUTCOMES.values() if kind in kinds), "other")


def reply_kinds(rules_dir: Path = RULES_DIR, domain_dir: Path = DOMAIN_DIR) -> dict[str, str]:
    """Intent → what the bot's first reply does (``outcome_of`` its first actions)."""
    return {intent: outcome_of(actions) for intent, actions in first_actions(rules_dir, domain_dir).items()}


def first_reply(intent: str, text: str, answerable: Callable[[str], bool], kinds: Mapping[str, str]) -> str:
    """What the bot does first: 'handoff', 'human_offered' (abstention with 转人工), 'answered' or 'other'."""
    kind = kinds.get(intent, "other")
    if kind == "search":
        return "answered" if answerable(text) else "human_offered"
    return kind


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def evaluate_handoff(
    data: Path, answerable: Callable[[str], bool], limit: int | None = None
) -> dict[str, object]:
    rows = [
        json.loads(line)
        for line in (data / MESSAGES).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    rows = rows[:limit] if limit else rows
    kinds = reply_kinds()
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
        preexec_fn=die_with_parent,  # a killed evaluation leaves no Rasa server behind
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
            replies[(row["type"], first_reply(intent, row["message"][:500], answerable, kinds))] += 1
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
        "reply_kinds": kinds,
    }
