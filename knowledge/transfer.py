"""Bulk import and export for the editor: YAML, JSON Lines and Excel, validated all or nothing.

Every problem names where it is (``sheet 材料 row 12``, ``entries.jsonl:3``, ``entries.yml 第2个条目``),
the field and what is wrong; when there is any problem, nothing is imported.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from knowledge.errors import EntryInvalid, Problem, ValidationFailed
from knowledge.models import Entry
from knowledge.upload_guard import UnsafeUpload, check_xlsx, check_yaml
from knowledge.validation import check_entry
from knowledge.xlsx import read_workbook, write_workbook

Format = Literal["yaml", "jsonl", "xlsx"]
MEDIA_TYPES: dict[str, str] = {
    "yaml": "application/yaml; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SUFFIXES: dict[str, Format] = {
    ".yml": "yaml",
    ".yaml": "yaml",
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".xlsx": "xlsx",
}


@dataclass
class ImportItem:
    """One entry as read from an upload, and how to name the place of a field's problem."""

    raw: Any
    source: str
    locate: Callable[[str], tuple[str, str]] | None = None

    def where(self, field: str) -> tuple[str, str]:
        return self.locate(field) if self.locate else (self.source, field)


def format_of(filename: str) -> Format:
    for suffix, fmt in SUFFIXES.items():
        if filename.lower().endswith(suffix):
            return fmt
    raise ValidationFailed([Problem(filename, None, "(file)", "只支持 .yml/.yaml、.jsonl 和 .xlsx 文件")])


def _yaml_items(filename: str, text: str) -> tuple[list[ImportItem], list[Problem]]:
    try:
        check_yaml(text)
    except UnsafeUpload as exc:
        return [], [Problem(filename, None, "(file)", str(exc))]
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{filename} 第{mark.line + 1}行" if mark is not None else filename
        return [], [Problem(where, None, "(file)", f"不是有效的 YAML：{getattr(exc, 'problem', exc)}")]
    raws: list[Any] = []
    for doc in docs:
        if isinstance(doc, list):
            raws.extend(doc)
        elif doc is not None:
            raws.append(doc)
    return [ImportItem(raw, f"{filename} 第{n}个条目") for n, raw in enumerate(raws, start=1)], []


def _jsonl_items(filename: str, text: str) -> tuple[list[ImportItem], list[Problem]]:
    stripped = text.strip()
    if stripped.startswith("["):  # a JSON array is accepted too
        try:
            return [
                ImportItem(r, f"{filename} 第{n}个条目") for n, r in enumerate(json.loads(stripped), 1)
            ], []
        except json.JSONDecodeError as exc:
            return [], [Problem(f"{filename}:{exc.lineno}", None, "(file)", f"不是有效的 JSON：{exc.msg}")]
    items, problems = [], []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(ImportItem(json.loads(line), f"{filename}:{lineno}"))
        except json.JSONDecodeError as exc:
            problems.append(Problem(f"{filename}:{lineno}", None, "(line)", f"不是有效的 JSON：{exc.msg}"))
    return items, problems


def read_upload(
    filename: str, data: bytes, existing: dict[str, dict[str, Any]]
) -> tuple[list[ImportItem], list[Problem]]:
    """The entries of an uploaded file (not yet validated) and the problems found reading its cells.

    A file that cannot be read at all (not YAML, not JSON, not a workbook) raises ValidationFailed.
    """
    fmt = format_of(filename)
    if fmt == "xlsx":
        try:
            check_xlsx(data)
        except UnsafeUpload as exc:
            raise ValidationFailed([Problem(filename, None, "(file)", str(exc))]) from None
        sheet_entries, problems = read_workbook(data, existing)
        items = [ImportItem(e.raw, f"sheet 事项 row {e.row}", e.where) for e in sheet_entries]
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed([Problem(filename, None, "(file)", "文件不是 UTF-8 编码")]) from None
        items, problems = (_yaml_items if fmt == "yaml" else _jsonl_items)(filename, text)
        if problems:
            raise ValidationFailed(problems)
    if not items and not problems:
        raise ValidationFailed([Problem(filename, None, "(file)", "文件里没有条目")])
    return items, problems


def validate_items(
    items: list[ImportItem], known_ids: set[str], problems: list[Problem] | None = None
) -> list[tuple[Entry, str]]:
    """Validate every item (``related`` may name existing or imported entries); all or nothing:
    with any problem (including ``problems`` found while reading), raise them all."""
    ids = known_ids | {str(i.raw.get("id")) for i in items if isinstance(i.raw, dict)}
    problems = list(problems or [])
    out: list[tuple[Entry, str]] = []
    seen: dict[str, str] = {}
    for item in items:
        raw = item.raw
        entry_id = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(raw, dict):
            raw = {k: v for k, v in raw.items() if k not in ("status", "version")}
        try:
            entry = check_entry(raw, ids)
        except EntryInvalid as exc:
            for p in exc.problems:
                source, field = item.where(p.field)
                problems.append(Problem(source, entry_id, field, p.message))
            continue
        if entry.id in seen:
            source, field = item.where("id")
            problems.append(Problem(source, entry.id, field, f"与 {seen[entry.id]} 重复"))
            continue
        seen[entry.id] = item.source
        out.append((entry, item.source))
    if problems:
        raise ValidationFailed(problems)
    return out


def export_bytes(entries: list[dict[str, Any]], fmt: Format) -> bytes:
    if fmt == "xlsx":
        return write_workbook(entries)
    if fmt == "jsonl":
        return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries).encode("utf-8")
    return yaml.safe_dump_all(entries, allow_unicode=True, sort_keys=False, width=100).encode("utf-8")
