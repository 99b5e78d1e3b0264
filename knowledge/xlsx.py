"""Entries as an Excel workbook, for editors who work in Excel.

Sheet ``事项``: one row per entry with every field; lists one item per line inside the cell, records
as ``a｜b｜c`` lines (联办事项 ``名称｜部门``, 情形问题 ``id｜问题｜yes=是；no=否``, 办理流程
``标题｜online/offline/either｜说明``). Sheet ``材料``: one row per material (entry id, name, form,
copies, required, condition ``情形id=值；情形id=值1/值2``, condition text, waivable, matters, notes),
in the order they are listed. Sheet ``说明`` explains the columns and is ignored on import.
Column headers read ``中文名 (key)``; the key is what counts.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from knowledge.errors import Problem
from knowledge.models import KIND_TITLES

ENTRY_SHEET, MATERIAL_SHEET, HELP_SHEET = "事项", "材料", "说明"
SEP = "｜"
KINDS = {title: kind for kind, title in KIND_TITLES.items()}  # 一件事 → bundle
YES = {"是", "true", "yes", "1", "y", "√"}
NO = {"否", "false", "no", "0", "n", ""}

# (key, Chinese name, how a cell is written) — "lines": one item per line; "records": a｜b lines.
ENTRY_COLUMNS: list[tuple[str, str, str]] = [
    ("id", "编号", "小写字母、数字和连字符，如 newborn-birth"),
    ("title", "标题", "官方名称"),
    ("kind", "类型", "bundle（一件事）/ matter（单个事项）/ faq（常见问题）"),
    ("category", "主题分类", "如 生育收养"),
    ("audience", "服务对象", "个人 / 法人，每行一个"),
    ("aliases", "别名", "每行一个"),
    ("similar_questions", "相似问法", "每行一个"),
    ("summary", "概述", "一段话"),
    ("bundled_matters", "联办事项", "每行一个：事项名称｜负责部门"),
    ("conditions", "申请条件", "每行一条"),
    ("situations", "情形问题", "每行一个：情形id｜问题｜yes=是；no=否（选项可省略，默认是/否）"),
    ("steps", "办理流程", "每行一步：标题｜online/offline/either｜说明"),
    ("promised_days", "承诺时限", "工作日，0 表示即办"),
    ("legal_days", "法定时限", "工作日"),
    ("time_note", "时限说明", ""),
    ("fees", "收费标准", ""),
    ("window", "办理窗口", ""),
    ("address", "地址", ""),
    ("hours", "办公时间", ""),
    ("map_url", "地图链接", ""),
    ("phone", "咨询电话", ""),
    ("online_name", "网上办理平台", "如 湘易办"),
    ("online_url", "网上办理网址", ""),
    ("online_note", "网上办理说明", ""),
    ("legal_basis", "设定依据", "每行一条"),
    ("related", "相关条目", "条目编号，每行一个"),
    ("source", "来源", ""),
    ("sample", "示例数据", "是 / 否"),
    ("reviewed_at", "审核日期", "YYYY-MM-DD"),
]
MATERIAL_COLUMNS: list[tuple[str, str, str]] = [
    ("entry_id", "条目编号", "所属条目的编号"),
    ("name", "材料名称", ""),
    ("form", "形式", "原件 / 复印件 / 原件及复印件 / 电子证照 / 申请表"),
    ("copies", "份数", "整数"),
    ("required", "必需", "是 / 否"),
    ("condition", "适用条件", "情形id=值；多个值用 / 分隔；空表示都需要"),
    ("condition_text", "条件说明", "有适用条件时必填，如 父母已登记结婚的"),
    ("waivable", "可免提交", "是 / 否（通过数据共享获取）"),
    ("matters", "所属事项", "每行一个联办事项名称"),
    ("notes", "备注", ""),
]
LINES = {"audience", "aliases", "similar_questions", "conditions", "legal_basis", "related"}
NESTED = {
    "promised_days": ("time_limit", "promised_days"),
    "legal_days": ("time_limit", "legal_days"),
    "time_note": ("time_limit", "note"),
    "window": ("location", "window"),
    "address": ("location", "address"),
    "hours": ("location", "hours"),
    "map_url": ("location", "map_url"),
    "online_name": ("online", "name"),
    "online_url": ("online", "url"),
    "online_note": ("online", "note"),
}
COLUMN_OF = {f"{parent}.{child}": key for key, (parent, child) in NESTED.items()}
_HEADER = re.compile(r"\(([a-z_]+)\)\s*$")


@dataclass
class SheetEntry:
    """One entry read from the workbook, with where each part of it came from."""

    raw: dict[str, Any]
    row: int
    material_rows: list[int] = field(default_factory=list)

    def where(self, path: str) -> tuple[str, str]:
        """(sheet and row, column) of a field path such as ``materials.2.copies``."""
        parts = path.split(".")
        if parts[0] == "materials" and len(parts) > 1 and parts[1].isdigit():
            n = int(parts[1])
            if n < len(self.material_rows):
                return f"sheet {MATERIAL_SHEET} row {self.material_rows[n]}", ".".join(parts[2:]) or "name"
        column = COLUMN_OF.get(".".join(parts[:2]), parts[0])
        if column != parts[0]:
            return f"sheet {ENTRY_SHEET} row {self.row}", column
        if len(parts) > 1 and parts[1].isdigit():  # item n of a one-per-line cell
            return f"sheet {ENTRY_SHEET} row {self.row}", f"{column}（第{int(parts[1]) + 1}行）"
        return f"sheet {ENTRY_SHEET} row {self.row}", column


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _lines(value: Any) -> list[str]:
    return [line.strip() for line in re.split(r"[\r\n]+", _text(value)) if line.strip()]


def _bool(value: Any) -> bool:
    text = _text(value).lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValueError("应为“是”或“否”")


def _records(value: Any, names: list[str], minimum: int) -> list[dict[str, str]]:
    out = []
    for n, line in enumerate(_lines(value), start=1):
        parts = [p.strip() for p in re.split(r"[｜|]", line)]
        if len(parts) < minimum or len(parts) > len(names):
            raise ValueError(f"第{n}行应写成 {SEP.join(names[: max(minimum, 2)])}")
        out.append(dict(zip(names, parts, strict=False)))
    return out


def _situations(value: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for record in _records(value, ["id", "question", "options"], 2):
        item: dict[str, Any] = {"id": record["id"], "question": record["question"]}
        if record.get("options"):
            pairs = [p.split("=", 1) for p in re.split(r"[；;]", record["options"]) if p.strip()]
            if any(len(p) != 2 for p in pairs):
                raise ValueError(f"情形 {record['id']} 的选项应写成 值=显示文字；值=显示文字")
            item["options"] = [{"value": v.strip(), "label": label.strip()} for v, label in pairs]
        out.append(item)
    return out


def _condition(value: Any) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for part in re.split(r"[；;\r\n]+", _text(value)):
        if not part.strip():
            continue
        key, eq, wanted = part.partition("=")
        if not eq or not key.strip() or not wanted.strip():
            raise ValueError("应写成 情形id=值（多个条件用；分隔，多个值用 / 分隔）")
        values = [v.strip() for v in wanted.split("/") if v.strip()]
        out[key.strip()] = values[0] if len(values) == 1 else values
    return out


def _header(sheet: Worksheet, known: list[tuple[str, str, str]]) -> dict[int, str]:
    by_label = {label: key for key, label, _ in known}
    keys = {key for key, _, _ in known}
    columns: dict[int, str] = {}
    for cell in next(sheet.iter_rows(min_row=1, max_row=1), ()):
        text = _text(cell.value)
        found = _HEADER.search(text)
        key = found.group(1) if found else by_label.get(text, text)
        if key in keys:
            columns[cell.column - 1] = key
    return columns


ENTRY_PARSERS: dict[str, Callable[[Any], Any]] = {
    "bundled_matters": lambda v: _records(v, ["name", "department"], 2),
    "situations": _situations,
    "steps": lambda v: _records(v, ["title", "channel", "description"], 1),
    "sample": _bool,
    "kind": lambda v: KINDS.get(_text(v), _text(v)),
    "promised_days": lambda v: _text(v) or None,
    "legal_days": lambda v: _text(v) or None,
    "reviewed_at": lambda v: _text(v) or None,  # empty: never approved by a reviewer
}
MATERIAL_PARSERS: dict[str, Callable[[Any], Any]] = {
    "required": _bool,
    "waivable": _bool,
    "condition": _condition,
    "matters": _lines,
    "copies": lambda v: _text(v) or 1,
}


def read_workbook(data: bytes, existing: dict[str, dict[str, Any]]) -> tuple[list[SheetEntry], list[Problem]]:
    """Read entries from an .xlsx file; columns left out keep the entry's current content."""
    problems: list[Problem] = []
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of errors for a broken file
        return [], [Problem("xlsx", None, "(file)", f"不是有效的 Excel (.xlsx) 文件：{type(exc).__name__}")]
    if ENTRY_SHEET not in book.sheetnames:
        return [], [Problem(f"sheet {ENTRY_SHEET}", None, "(sheet)", f"缺少工作表「{ENTRY_SHEET}」")]
    sheet = book[ENTRY_SHEET]
    columns = _header(sheet, ENTRY_COLUMNS)
    if "id" not in columns.values():
        problems.append(Problem(f"sheet {ENTRY_SHEET} row 1", None, "id", "缺少“编号 (id)”列"))
        return [], problems
    entries: dict[str, SheetEntry] = {}
    for row_no, row in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        cells = {key: row[i] if i < len(row) else None for i, key in columns.items()}
        if all(_text(v) == "" for v in cells.values()):
            continue
        entry_id = _text(cells.get("id"))
        where = f"sheet {ENTRY_SHEET} row {row_no}"
        if entry_id in entries:
            problems.append(Problem(where, entry_id, "id", f"与第 {entries[entry_id].row} 行重复"))
            continue
        raw = {k: v for k, v in existing.get(entry_id, {}).items() if k not in ("status", "version")}
        raw["id"] = entry_id
        for key, value in cells.items():
            try:
                parsed = ENTRY_PARSERS.get(key, _lines if key in LINES else _text)(value)
            except ValueError as exc:
                problems.append(Problem(where, entry_id, key, str(exc)))
                continue
            if key in NESTED:
                parent, child = NESTED[key]
                raw[parent] = {**(raw.get(parent) or {}), child: parsed}
            elif key != "id":
                raw[key] = parsed
        entries[entry_id] = SheetEntry(raw, row_no)
    if MATERIAL_SHEET in book.sheetnames:
        _read_materials(book[MATERIAL_SHEET], entries, problems)
    return list(entries.values()), problems


def _read_materials(sheet: Worksheet, entries: dict[str, SheetEntry], problems: list[Problem]) -> None:
    columns = _header(sheet, MATERIAL_COLUMNS)
    if "entry_id" not in columns.values() or "name" not in columns.values():
        problems.append(
            Problem(f"sheet {MATERIAL_SHEET} row 1", None, "entry_id", "缺少“条目编号”或“材料名称”列")
        )
        return
    for item in entries.values():
        item.raw["materials"] = []
    for row_no, row in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        cells = {key: row[i] if i < len(row) else None for i, key in columns.items()}
        if all(_text(v) == "" for v in cells.values()):
            continue
        entry_id = _text(cells.pop("entry_id"))
        where = f"sheet {MATERIAL_SHEET} row {row_no}"
        if entry_id not in entries:
            problems.append(
                Problem(where, entry_id, "entry_id", f"「{ENTRY_SHEET}」表中没有条目「{entry_id}」")
            )
            continue
        material: dict[str, Any] = {}
        for key, value in cells.items():
            try:
                parsed = MATERIAL_PARSERS.get(key, _text)(value)
            except ValueError as exc:
                problems.append(Problem(where, entry_id, key, str(exc)))
                continue
            if parsed not in ("", None) or key == "name":
                material[key] = parsed
        entries[entry_id].raw["materials"].append(material)
        entries[entry_id].material_rows.append(row_no)


# -- writing -----------------------------------------------------------------------------------


def _cell(key: str, entry: dict[str, Any]) -> Any:
    if key in NESTED:
        parent, child = NESTED[key]
        return (entry.get(parent) or {}).get(child)
    value = entry.get(key)
    if key in LINES:
        return "\n".join(value or [])
    if key == "bundled_matters":
        return "\n".join(f"{m['name']}{SEP}{m['department']}" for m in value or [])
    if key == "steps":
        return "\n".join(SEP.join([s["title"], s["channel"], s.get("description", "")]) for s in value or [])
    if key == "situations":
        lines = []
        for s in value or []:
            options = "；".join(f"{o['value']}={o['label']}" for o in s.get("options", []))
            lines.append(SEP.join([s["id"], s["question"], options]))
        return "\n".join(lines)
    if key == "sample":
        return "是" if value else "否"
    return value


def _material_cell(key: str, material: dict[str, Any]) -> Any:
    value = material.get(key)
    if key in ("required", "waivable"):
        return "是" if value else "否"
    if key == "condition":
        return "；".join(f"{k}={v if isinstance(v, str) else '/'.join(v)}" for k, v in (value or {}).items())
    if key == "matters":
        return "\n".join(value or [])
    return value


def _sheet(book: Workbook, title: str, columns: list[tuple[str, str, str]], rows: list[list[Any]]) -> None:
    sheet = book.create_sheet(title)
    sheet.append([f"{label} ({key})" for key, label, _ in columns])
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "B2"
    for n, (key, _, _) in enumerate(columns, start=1):
        letter = sheet.cell(row=1, column=n).column_letter
        sheet.column_dimensions[letter].width = 40 if key in ("summary", "similar_questions", "steps") else 18
    for row_cells in sheet.iter_rows(min_row=2):
        for cell in row_cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def write_workbook(entries: list[dict[str, Any]]) -> bytes:
    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    _sheet(book, ENTRY_SHEET, ENTRY_COLUMNS, [[_cell(k, e) for k, _, _ in ENTRY_COLUMNS] for e in entries])
    materials = [
        [e["id"], *(_material_cell(k, m) for k, _, _ in MATERIAL_COLUMNS[1:])]
        for e in entries
        for m in e.get("materials", [])
    ]
    _sheet(book, MATERIAL_SHEET, MATERIAL_COLUMNS, materials)
    help_sheet = book.create_sheet(HELP_SHEET)
    help_sheet.append(["工作表", "列", "填写说明"])
    for sheet_name, columns in ((ENTRY_SHEET, ENTRY_COLUMNS), (MATERIAL_SHEET, MATERIAL_COLUMNS)):
        for key, label, note in columns:
            help_sheet.append([sheet_name, f"{label} ({key})", note])
    help_sheet.append(["", "", "导入时全部校验：任何一行有错误，整个文件都不会导入。"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
