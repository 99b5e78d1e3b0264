"""Compare the intents written in conversation tests with the trained model's reading of each message.

Run with the Rasa environment after ``make train``::

    .venv-rasa/bin/python scripts/test_intents.py bot/tests/test_typed_dialogue.yml [--write]

Prints every user turn whose written intent differs from the model's. ``--write`` rewrites those
labels in place (only for turns inside the situation questions' stories, where the form reads every
message by its words whatever the intent); review the diff before committing.
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bot"))  # the model's own components (bot/nlu_components), as Rasa runs in bot/
USER = re.compile(r"^(\s*)- user: \|\n\s+(.+)\n(\s+)intent: (\S+)$", re.M)


async def _main(path: Path, write: bool) -> int:
    from rasa.core.agent import Agent

    agent = Agent.load(str(ROOT / "var" / "models" / "banshi.tar.gz"))
    text = path.read_text(encoding="utf-8")
    changes: list[tuple[int, int, str]] = []
    for m in USER.finditer(text):
        message, written = m.group(2).strip(), m.group(4)
        if message.startswith("/"):
            continue  # a button payload: no NLU
        parsed = await agent.parse_message(message)
        predicted = parsed["intent"]["name"]
        if predicted != written:
            print(f"{written:>18} → {predicted:<18} {message}")
            changes.append((m.start(4), m.end(4), predicted))
    if write and changes:
        for start, end, predicted in reversed(changes):
            text = text[:start] + predicted + text[end:]
        path.write_text(text, encoding="utf-8")
    return len(changes)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = asyncio.run(_main(Path(args[0]), "--write" in sys.argv))
    print(f"{n} labels differ")
