"""Read and write entries as a directory of YAML files or as JSON Lines, validating everything first."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from knowledge.bureau import contact_problems, current_profile
from knowledge.errors import Problem, ValidationFailed
from knowledge.models import Entry
from knowledge.validation import spacing_problems


def _problems_of(source: str, raw: Any, exc: ValidationError) -> list[Problem]:
    entry_id = raw.get("id") if isinstance(raw, dict) else None
    out = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(entry)"
        out.append(Problem(source, entry_id, field, err["msg"].removeprefix("Value error, ")))
    return out


def validate_raw(items: Iterable[tuple[str, Any]]) -> list[Entry]:
    """Validate ``(source, raw dict)`` pairs; all-or-nothing: raise with every problem found.

    Sample entries must not state contacts or fees the bureau profile does not hold (see
    :func:`knowledge.bureau.contact_problems`), and Chinese text has no stray spaces (see
    :func:`knowledge.validation.spacing_problems`)."""
    profile = current_profile()
    entries: list[Entry] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for source, raw in items:
        if not isinstance(raw, dict):
            problems.append(Problem(source, None, "(entry)", "expected a mapping of fields"))
            continue
        try:
            entry = Entry.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_problems_of(source, raw, exc))
            continue
        if entry.id in seen:
            problems.append(Problem(source, entry.id, "id", f"duplicate of {seen[entry.id]}"))
            continue
        seen[entry.id] = source
        entries.append(entry)
        problems += [Problem(source, entry.id, p.field, p.message) for p in contact_problems(entry, profile)]
        problems += [Problem(source, entry.id, p.field, p.message) for p in spacing_problems(entry)]
    known = set(seen)
    for entry in entries:
        for rel in entry.related:
            if rel not in known:
                problems.append(Problem(seen[entry.id], entry.id, "related", f"unknown entry '{rel}'"))
    if problems:
        raise ValidationFailed(problems)
    return entries


def read_yaml_dir(folder: Path) -> list[Entry]:
    """Read every ``*.yml`` / ``*.yaml`` file of ``folder`` (one entry per file)."""
    items: list[tuple[str, Any]] = []
    problems: list[Problem] = []
    files = sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")])
    for path in files:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            problems.append(Problem(path.name, None, "(file)", f"not valid YAML: {exc}"))
            continue
        if isinstance(raw, dict) and raw.get("id") and raw["id"] != path.stem:
            problems.append(Problem(path.name, raw["id"], "id", f"must equal the file name '{path.stem}'"))
            continue
        items.append((path.name, raw))
    try:
        entries = validate_raw(items)
    except ValidationFailed as exc:
        problems.extend(exc.problems)
        entries = []
    if problems:
        raise ValidationFailed(problems)
    return entries


def read_jsonl(path: Path) -> list[Entry]:
    items: list[tuple[str, Any]] = []
    problems: list[Problem] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        source = f"{path.name}:{lineno}"
        try:
            items.append((source, json.loads(line)))
        except json.JSONDecodeError as exc:
            problems.append(Problem(source, None, "(line)", f"not valid JSON: {exc.msg}"))
    try:
        entries = validate_raw(items)
    except ValidationFailed as exc:
        problems.extend(exc.problems)
        entries = []
    if problems:
        raise ValidationFailed(problems)
    return entries


def read_path(path: Path) -> list[Entry]:
    return read_yaml_dir(path) if path.is_dir() else read_jsonl(path)


def entry_to_dict(entry: Entry) -> dict[str, Any]:
    return entry.model_dump(mode="json", exclude_defaults=False)


def write_yaml_dir(entries: Iterable[Entry], folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for entry in entries:
        text = yaml.safe_dump(entry_to_dict(entry), allow_unicode=True, sort_keys=False, width=100)
        (folder / f"{entry.id}.yml").write_text(text, encoding="utf-8")
        count += 1
    return count


def write_jsonl(entries: Iterable[Entry], path: Path) -> int:
    lines = [json.dumps(entry_to_dict(e), ensure_ascii=False) for e in entries]
    path.write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    return len(lines)
