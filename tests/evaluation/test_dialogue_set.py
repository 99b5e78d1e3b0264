"""knowledge/eval/dialogues.yml is a sound evaluation set: big and broad enough, every id and
material name real, and written for the set (no message copied from the entries or the dev set)."""

from __future__ import annotations

import json
from collections import Counter

from core.settings import ROOT
from evaluation.expectations import Dialogue, load_dialogues
from knowledge.models import Entry

DIALOGUES = ROOT / "knowledge" / "eval" / "dialogues.yml"
CATEGORIES = {
    "typed_yes_no", "typed_options", "new_service", "aspect", "cancel", "human", "no_dead_end",
    "long_message", "homophone", "follow_up", "smalltalk", "out_of_scope", "buttons",
}  # fmt: skip


def _dialogues() -> list[Dialogue]:
    return load_dialogues(DIALOGUES)


def _norm(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def test_size_and_coverage() -> None:
    dialogues = _dialogues()
    assert len(dialogues) >= 80
    assert {d.category for d in dialogues} == CATEGORIES
    assert min(Counter(d.category for d in dialogues).values()) >= 4
    services = {
        t.expect[k] for d in dialogues for t in d.turns for k in ("entry", "service") if k in t.expect
    }
    services |= {
        t.expect["asks"] for d in dialogues for t in d.turns if isinstance(t.expect.get("asks"), str)
    }
    assert len(services) >= 10


def test_ids_and_material_names_exist(seed_entries: list[Entry]) -> None:
    entries = {e.id: e for e in seed_entries}
    for d in _dialogues():
        for n, turn in enumerate(d.turns, start=1):
            where = f"{d.id} turn {n}"
            e = turn.expect
            for key in ("entry", "service"):
                assert e.get(key) is None or e[key] in entries, where
            if isinstance(e.get("asks"), str):
                assert entries[e["asks"]].situations, where
            wanted = [
                k for k in ("materials_include", "materials_exclude", "materials_conditional") if k in e
            ]
            if not wanted:
                continue
            assert "entry" in e, f"{where}: materials are checked on the card of a named entry"
            materials = entries[e["entry"]].materials
            for name in e.get("materials_include", []):
                assert any(name in m.name for m in materials), f"{where}: {name}"
            for key in ("materials_exclude", "materials_conditional"):
                for name in e.get(key, []):  # only a conditional material can be left out or labelled
                    assert any(name in m.name and m.condition for m in materials), f"{where}: {name}"


def test_messages_are_not_copied(seed_entries: list[Entry]) -> None:
    known = {_norm(q) for e in seed_entries for q in e.similar_questions}
    dev = ROOT / "knowledge" / "eval" / "dev.jsonl"
    known |= {
        _norm(json.loads(line)["q"]) for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()
    }
    typed = [t.text for d in _dialogues() for t in d.turns if not t.click]
    copied = [t for t in typed if len(_norm(t)) >= 6 and _norm(t) in known]
    assert not copied
