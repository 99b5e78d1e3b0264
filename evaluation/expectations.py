"""The dialogue set's format and the checks on one bot reply (pure functions, no servers).

A reply is the JSON of ``POST /api/chat``: ``{"messages": [...], "handoff": bool}`` with messages of
type ``text``, ``buttons`` (``text``, ``buttons[{title, payload}]``), ``card`` (knowledge/render.py
``card()``) and ``handoff``. The expectation vocabulary is documented at the top of
knowledge/eval/dialogues.yml.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from knowledge.models import Entry
from knowledge.render import PART_TITLES

Reply = dict[str, Any]
Message = dict[str, Any]

LIST_KEYS = ("contains", "not_contains", "materials_include", "materials_exclude", "materials_conditional")
TRUE_KEYS = ("no_card", "human_offered", "handoff")
EXPECTATIONS = ("entry", "part", "service", "asks", *TRUE_KEYS, *LIST_KEYS)
PARTS = frozenset(PART_TITLES) - {"bundled_matters"}


class DialogueFileError(ValueError):
    """The dialogue file does not follow the format (a harness error, not a failed dialogue)."""


@dataclass(frozen=True)
class Turn:
    text: str  # what is typed, or the title of the button clicked
    click: bool
    expect: dict[str, Any]


@dataclass(frozen=True)
class Dialogue:
    id: str
    category: str
    turns: tuple[Turn, ...]


@dataclass(frozen=True)
class SituationQuestion:
    entry: str
    situation: str
    question: str
    labels: tuple[str, ...]


def _turn(where: str, raw: Any) -> Turn:
    if not isinstance(raw, dict):
        raise DialogueFileError(f"{where}: a turn is a mapping")
    unknown = set(raw) - {"say", "click", *EXPECTATIONS}
    if unknown:
        raise DialogueFileError(f"{where}: unknown key(s) {sorted(unknown)}")
    if ("say" in raw) == ("click" in raw):
        raise DialogueFileError(f"{where}: exactly one of say / click")
    text = raw.get("say", raw.get("click"))
    if not isinstance(text, str) or not text.strip():
        raise DialogueFileError(f"{where}: say / click must be a non-empty string")
    expect = {k: v for k, v in raw.items() if k in EXPECTATIONS}
    for key in ("entry", "service"):
        if key in expect and not isinstance(expect[key], str):
            raise DialogueFileError(f"{where}: {key} must be an entry id")
    if "part" in expect:
        parts = expect["part"] if isinstance(expect["part"], list) else [expect["part"]]
        if not parts or any(p not in PARTS for p in parts):
            raise DialogueFileError(f"{where}: part must be one or more of {sorted(PARTS)}")
        expect["part"] = parts
    if "asks" in expect and not isinstance(expect["asks"], bool | str):
        raise DialogueFileError(f"{where}: asks is true, false or an entry id")
    for key in TRUE_KEYS:
        if key in expect and expect[key] is not True:
            raise DialogueFileError(f"{where}: {key} can only be true")
    for key in LIST_KEYS:
        if key in expect:
            value = expect[key]
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
                raise DialogueFileError(f"{where}: {key} is a non-empty list of strings")
    return Turn(text=text.strip(), click="click" in raw, expect=expect)


def parse_dialogues(data: Any) -> list[Dialogue]:
    if not isinstance(data, dict) or not isinstance(data.get("dialogues"), list):
        raise DialogueFileError("the file needs a top-level 'dialogues' list")
    out: list[Dialogue] = []
    seen: set[str] = set()
    for n, raw in enumerate(data["dialogues"], start=1):
        if not isinstance(raw, dict) or set(raw) != {"id", "category", "turns"}:
            raise DialogueFileError(f"dialogue #{n}: needs exactly id, category and turns")
        did, category, turns = raw["id"], raw["category"], raw["turns"]
        if not isinstance(did, str) or not isinstance(category, str) or did in seen:
            raise DialogueFileError(f"dialogue #{n}: id and category are strings; ids are unique")
        if not isinstance(turns, list) or not turns:
            raise DialogueFileError(f"{did}: turns is a non-empty list")
        seen.add(did)
        out.append(
            Dialogue(did, category, tuple(_turn(f"{did} turn {i}", t) for i, t in enumerate(turns, 1)))
        )
    return out


def load_dialogues(path: Path) -> list[Dialogue]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DialogueFileError(f"cannot read {path}: {exc}") from exc
    return parse_dialogues(data)


def situation_questions(entries: Iterable[Entry]) -> list[SituationQuestion]:
    return [
        SituationQuestion(e.id, s.id, s.question, tuple(o.label for o in s.options))
        for e in entries
        for s in e.situations
    ]


# ---------------------------------------------------------------- reading a reply


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "payload":
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def reply_text(reply: Reply) -> str:
    """Every piece of text shown: messages, button titles, card content (not payloads)."""
    return "\n".join(_strings(reply.get("messages") or []))


def cards(reply: Reply, entry: str | None = None) -> list[Message]:
    found = [m for m in reply.get("messages") or [] if m.get("type") == "card"]
    return [c for c in found if entry is None or c.get("entry_id") == entry]


def buttons(reply: Reply) -> list[dict[str, str]]:
    return [
        b
        for m in reply.get("messages") or []
        if m.get("type") == "buttons"
        for b in m.get("buttons") or []
        if isinstance(b, dict)
    ]


def asked(reply: Reply, questions: Iterable[SituationQuestion]) -> list[SituationQuestion]:
    """The situation questions in the reply: the question's text shown, with a buttons message whose
    buttons carry every option label."""
    text = reply_text(reply)
    button_sets = [
        [str(b.get("title", "")) for b in m.get("buttons") or []]
        for m in reply.get("messages") or []
        if m.get("type") == "buttons"
    ]
    out = []
    for q in questions:
        if q.question.rstrip("？?") not in text:
            continue
        if any(all(any(label in t for t in titles) for label in q.labels) for titles in button_sets):
            out.append(q)
    return out


def human_offered(reply: Reply) -> bool:
    if handed_off(reply):
        return True
    return any(
        "人工" in str(b.get("title", "")) or str(b.get("payload", "")).startswith("/request_human")
        for b in buttons(reply)
    )


def handed_off(reply: Reply) -> bool:
    return reply.get("handoff") is True or any(
        m.get("type") == "handoff" for m in reply.get("messages") or []
    )


def materials(reply: Reply, entry: str | None = None) -> list[dict[str, Any]] | None:
    """The checklist items of the card(s) (None when no card has a materials section)."""
    items: list[dict[str, Any]] | None = None
    for card in cards(reply, entry):
        for section in card.get("sections") or []:
            if section.get("key") == "materials":
                items = (items or []) + list(section.get("items") or [])
    return items


def summary(reply: Reply) -> str:
    """One line per message, for --verbose."""
    lines = []
    for m in reply.get("messages") or []:
        kind = m.get("type")
        if kind == "card":
            keys = [s.get("key") for s in m.get("sections") or []]
            lines.append(f"[card {m.get('entry_id')}] sections={keys}")
            for item in materials({"messages": [m]}) or []:
                flag = f" 〔如属{item.get('condition')}〕" if item.get("conditional") else ""
                lines.append(f"    - {item.get('name')}{flag}")
        elif kind == "buttons":
            titles = " | ".join(str(b.get("title")) for b in m.get("buttons") or [])
            lines.append(f"[buttons] {m.get('text', '')}  <{titles}>")
        elif kind == "handoff":
            lines.append(f"[handoff status={m.get('status')} reason={m.get('reason')}]")
        else:
            lines.append(f"[{kind}] {m.get('text', '')}")
    return "\n".join(lines) or "(no messages)"


# ---------------------------------------------------------------- the checks


def _shown(reply: Reply) -> str:
    ids = [c.get("entry_id") for c in cards(reply)]
    return f"cards shown: {ids or 'none'}"


def _check_materials(expect: dict[str, Any], reply: Reply) -> list[str]:
    if not any(k in expect for k in ("materials_include", "materials_exclude", "materials_conditional")):
        return []
    items = materials(reply, expect.get("entry"))
    if items is None:
        return [f"no checklist (materials section) in the reply; {_shown(reply)}"]
    names = [str(i.get("name", "")) for i in items]
    conditional = [str(i.get("name", "")) for i in items if i.get("conditional")]
    failures = [
        f"material missing: {w}"
        for w in expect.get("materials_include", [])
        if not any(w in n for n in names)
    ]
    failures += [
        f"material should not be listed: {w}"
        for w in expect.get("materials_exclude", [])
        if any(w in n for n in names)
    ]
    failures += [
        f"material not listed as conditional: {w}"
        for w in expect.get("materials_conditional", [])
        if not any(w in n for n in conditional)
    ]
    return failures


def check(expect: dict[str, Any], reply: Reply, questions: list[SituationQuestion]) -> list[str]:
    """Every expectation of a turn the reply does not meet (empty: the turn passes)."""
    failures: list[str] = []
    entry = expect.get("entry")
    if entry and not cards(reply, entry):
        failures.append(f"expected a card of {entry}; {_shown(reply)}")
    for part in expect.get("part", []):
        if not any(s.get("key") == part for c in cards(reply, entry) for s in c.get("sections") or []):
            failures.append(
                f"expected the part {part} in a card{f' of {entry}' if entry else ''}; {_shown(reply)}"
            )
    service = expect.get("service")
    if service and not (cards(reply, service) or any(q.entry == service for q in asked(reply, questions))):
        failures.append(f"expected {service} (its card or one of its situation questions); {_shown(reply)}")
    if expect.get("no_card") and cards(reply):
        failures.append(f"expected no card; {_shown(reply)}")
    if "asks" in expect:
        found = asked(reply, questions)
        want = expect["asks"]
        if want is True and not found:
            failures.append("expected a situation question")
        elif want is False and found:
            failures.append(f"expected no situation question, got: {found[0].question}")
        elif isinstance(want, str) and not any(q.entry == want for q in found):
            got = f"got: {found[0].entry} {found[0].question}" if found else "none asked"
            failures.append(f"expected a situation question of {want}; {got}")
    if expect.get("human_offered") and not human_offered(reply):
        failures.append("expected a 转人工 offer (button or handoff)")
    if expect.get("handoff") and not handed_off(reply):
        failures.append("expected a handoff")
    text = reply_text(reply)
    failures += [f"text missing: {w}" for w in expect.get("contains", []) if w not in text]
    failures += [f"text should not appear: {w}" for w in expect.get("not_contains", []) if w in text]
    return failures + _check_materials(expect, reply)
