"""make eval-dialogue: drive the real system (web app → Rasa → actions) through multi-turn dialogues.

    python -m evaluation.dialogue [--url http://host:port] [--dialogues FILE] [--only TEXT] [--verbose]

Without --url the whole system is started on free ports (evaluation/system.py) and stopped afterwards.
Each dialogue gets a new sender id; each turn is sent with ``POST /api/chat`` and its reply checked
(evaluation/expectations.py). Prints a table by category and a last line
``RESULT {"passed": n, "total": m, "rate": r, ...}``. The exit code is 0 whatever the pass rate; it is
2 only when the harness cannot do its job (bad dialogue file, system not started, server unreachable).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from core.settings import ROOT
from evaluation.expectations import (
    Dialogue,
    DialogueFileError,
    Reply,
    SituationQuestion,
    buttons,
    check,
    load_dialogues,
    situation_questions,
    summary,
)
from knowledge.io import read_yaml_dir

DEFAULT_DIALOGUES = ROOT / "knowledge" / "eval" / "dialogues.yml"
Send = Callable[[str, str], Reply]


class HarnessError(RuntimeError):
    """The evaluation could not run (not a failed dialogue)."""


@dataclass
class TurnResult:
    sent: str
    failures: list[str]
    reply: Reply


@dataclass
class DialogueResult:
    dialogue: Dialogue
    turns: list[TurnResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return len(self.turns) == len(self.dialogue.turns) and not any(t.failures for t in self.turns)


def run_dialogue(
    dialogue: Dialogue, send: Send, questions: list[SituationQuestion], sender: str
) -> DialogueResult:
    """Play one dialogue; a click on a button the bot did not offer fails the turn and ends the dialogue."""
    result = DialogueResult(dialogue)
    previous: Reply = {"messages": []}
    for turn in dialogue.turns:
        message = turn.text
        if turn.click:
            match = next((b for b in buttons(previous) if b.get("title") == turn.text), None)
            if match is None:
                titles = [b.get("title") for b in buttons(previous)]
                result.turns.append(
                    TurnResult(
                        f"(click) {turn.text}", [f"no button titled {turn.text!r}; offered: {titles}"], {}
                    )
                )
                return result
            message = str(match.get("payload") or turn.text)
        reply = send(sender, message)
        failures = check(turn.expect, reply, questions)
        if "http_status" in reply:
            failures.insert(0, f"HTTP {reply['http_status']}: {reply.get('error', '')}")
        if reply.get("degraded"):
            failures.insert(0, "degraded reply: the web app got no answer from Rasa in time")
        result.turns.append(TurnResult(message, failures, reply))
        previous = reply
    return result


def http_sender(client: httpx.Client) -> Send:
    def send(sender: str, message: str) -> Reply:
        for _ in range(30):
            try:
                r = client.post("/api/chat", json={"sender_id": sender, "message": message})
            except httpx.HTTPError as exc:
                raise HarnessError(f"POST /api/chat failed: {exc!r}") from exc
            if r.status_code == 429:
                time.sleep(float(r.headers.get("Retry-After", "1")))
                continue
            if r.status_code != 200:
                return {"messages": [], "handoff": False, "http_status": r.status_code, "error": r.text[:300]}
            data = r.json()
            return data if isinstance(data, dict) else {"messages": []}
        raise HarnessError("rate limited for too long (set CHAT_RATE_LIMIT higher on the server)")

    return send


def evaluate(
    dialogues: list[Dialogue], send: Send, questions: list[SituationQuestion], progress: bool = True
) -> list[DialogueResult]:
    run = uuid.uuid4().hex[:8]
    results = []
    for n, d in enumerate(dialogues, start=1):
        results.append(run_dialogue(d, send, questions, f"eval-{run}-{n}"))
        if progress:
            mark = "✓" if results[-1].passed else "✗"
            print(f"{mark} [{n}/{len(dialogues)}] {d.id}", file=sys.stderr, flush=True)
    return results


def report(results: list[DialogueResult], seconds: float, verbose: bool) -> dict[str, Any]:
    by_category: dict[str, dict[str, int]] = {}
    for r in results:
        row = by_category.setdefault(r.dialogue.category, {"passed": 0, "total": 0})
        row["total"] += 1
        row["passed"] += int(r.passed)
    if verbose:
        for r in results:
            if r.passed:
                continue
            print(f"\n✗ {r.dialogue.id} ({r.dialogue.category})")
            for n, t in enumerate(r.turns, start=1):
                mark = "✗" if t.failures else "✓"
                print(f"  {mark} turn {n}: {t.sent}")
                if t.failures:
                    for f in t.failures:
                        print(f"      - {f}")
                    print(
                        "      reply:\n"
                        + "\n".join("        " + line for line in summary(t.reply).splitlines())
                    )
    print(f"\n{'category':<16}{'dialogues':>10}{'passed':>8}{'rate':>8}")
    for name, row in sorted(by_category.items()):
        print(f"{name:<16}{row['total']:>10}{row['passed']:>8}{row['passed'] / row['total']:>8.2f}")
    passed, total = sum(r.passed for r in results), len(results)
    turns_total = sum(len(r.dialogue.turns) for r in results)
    turns_passed = sum(1 for r in results for t in r.turns if not t.failures)
    print(f"{'all':<16}{total:>10}{passed:>8}{(passed / total if total else 0):>8.2f}")
    summary_row = {
        "passed": passed,
        "total": total,
        "rate": round(passed / total, 4) if total else 0.0,
        "turns_passed": turns_passed,
        "turns_total": turns_total,
        "by_category": by_category,
        "failed": [r.dialogue.id for r in results if not r.passed],
        # turns the web app answered without Rasa (timeout, e.g. on an overloaded machine)
        "degraded_turns": sum(1 for r in results for t in r.turns if t.reply.get("degraded")),
        "seconds": round(seconds, 1),
    }
    print("RESULT " + json.dumps(summary_row, ensure_ascii=False))
    return summary_row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--url", default="", help="a running web app (default: start the whole system)")
    ap.add_argument("--dialogues", type=Path, default=DEFAULT_DIALOGUES)
    ap.add_argument("--only", default="", help="run only dialogues whose id or category contains this")
    ap.add_argument("--verbose", action="store_true", help="print failed turns with the replies")
    args = ap.parse_args(argv)
    try:
        dialogues = [
            d for d in load_dialogues(args.dialogues) if args.only in d.id or args.only in d.category
        ]
        questions = situation_questions(read_yaml_dir(ROOT / "knowledge" / "entries"))
        started = time.monotonic()
        if args.url:
            with httpx.Client(base_url=args.url.rstrip("/"), timeout=120) as client:
                results = evaluate(dialogues, http_sender(client), questions)
        else:
            from evaluation.system import SystemStartError, running_system

            try:
                with running_system() as base, httpx.Client(base_url=base, timeout=120) as client:
                    results = evaluate(dialogues, http_sender(client), questions)
            except SystemStartError as exc:
                raise HarnessError(str(exc)) from exc
    except (DialogueFileError, HarnessError) as exc:
        print(f"eval-dialogue: {exc}", file=sys.stderr)
        return 2
    report(results, time.monotonic() - started, args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
