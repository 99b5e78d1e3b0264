"""A readable diff between two versions of an entry: field by field, list items matched by their name.

Materials are matched by name, situations by id, steps by title and bundled matters by name, so a
changed number of copies reads as ``申请材料「结婚证」· 份数：1 → 2`` rather than as a moved block.
Lists of texts (similar questions, conditions, …) are diffed item by item. The workflow fields
``status`` and ``version`` are left out: they differ between any two versions.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

import yaml

from knowledge.models import Entry, field_titles

Op = Literal["added", "removed", "changed", "reordered"]
OP_TITLES: dict[str, str] = {"added": "新增", "removed": "删除", "changed": "修改", "reordered": "调整顺序"}
# set by the workflow, not edited: the review date is stamped when a reviewer publishes
IGNORED = frozenset({"status", "version", "reviewed_at"})
# The entry's fields by their Chinese names (Field(title=…)), in the entry's (and the editor form's) order.
FIELD_LABELS = field_titles(Entry)
# How the keys inside a record value are named when a change shows it (材料 {name, form …} → 名称：…；形式：…).
PART_LABELS = {
    "name": "名称",
    "form": "形式",
    "copies": "份数",
    "required": "必需",
    "condition": "适用条件",
    "condition_text": "条件说明",
    "waivable": "可免提交",
    "matters": "所属事项",
    "notes": "备注",
    "department": "部门",
    "question": "问题",
    "options": "选项",
    "value": "值",
    "label": "显示文字",
    "title": "标题",
    "channel": "渠道",
    "description": "说明",
    "promised_days": "承诺时限",
    "legal_days": "法定时限",
    "note": "说明",
    "window": "窗口",
    "address": "地址",
    "hours": "时间",
    "map_url": "地图链接",
    "url": "网址",
    "text": "内容",
    "document": "文件",
    "phone": "电话",
}
# Lists of records whose items are matched by this key (when it is unique in both versions).
ITEM_KEYS = {
    "materials": "name",
    "situations": "id",
    "steps": "title",
    "bundled_matters": "name",
    "options": "value",
}


@dataclass(frozen=True)
class Change:
    path: str  # machine path, e.g. materials[结婚证].copies
    label: str  # readable path, e.g. 申请材料「结婚证」· 份数
    op: Op
    before: Any = None
    after: Any = None

    @property
    def field(self) -> str:
        return self.path.split(".")[0].split("[")[0]

    def text(self) -> str:
        op = OP_TITLES[self.op]
        if self.op == "changed":
            return f"{op} {self.label}：{_show(self.before)} → {_show(self.after)}"
        return f"{op} {self.label}：{_show(self.before if self.op == 'removed' else self.after)}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "field": self.field, "text": self.text()}


def _show(value: Any) -> str:
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "、".join(value) or "（空）"
    if isinstance(value, dict):
        shown = [
            f"{PART_LABELS.get(k, k)}：{_show(v)}" for k, v in value.items() if v not in (None, "", [], {})
        ]
        return "；".join(shown) or "（空）"
    return json.dumps(value, ensure_ascii=False)


def _item_key(field: str, a: list[Any], b: list[Any]) -> str | None:
    """The key that identifies the items of both lists, if there is one."""
    key = ITEM_KEYS.get(field)
    if key is None:
        return None
    for items in (a, b):
        if not all(isinstance(i, dict) and i.get(key) for i in items):
            return None
        if len({i[key] for i in items}) != len(items):
            return None
    return key


class _Differ:
    def __init__(self) -> None:
        self.changes: list[Change] = []

    def add(self, path: str, label: str, op: Op, before: Any = None, after: Any = None) -> None:
        self.changes.append(Change(path, label, op, before, after))

    def value(self, path: str, label: str, field: str, a: Any, b: Any) -> None:
        if a == b:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for k in [*b, *(k for k in a if k not in b)]:
                if k in a and k in b:
                    self.value(f"{path}.{k}", f"{label} · {PART_LABELS.get(k, k)}", k, a[k], b[k])
                elif k in b:
                    self.add(f"{path}.{k}", f"{label} · {PART_LABELS.get(k, k)}", "added", after=b[k])
                else:
                    self.add(f"{path}.{k}", f"{label} · {PART_LABELS.get(k, k)}", "removed", before=a[k])
        elif isinstance(a, list) and isinstance(b, list):
            self.items(path, label, field, a, b)
        else:
            self.add(path, label, "changed", a, b)

    def items(self, path: str, label: str, field: str, a: list[Any], b: list[Any]) -> None:
        key = _item_key(field, a, b)
        if key:
            old = {i[key]: i for i in a}
            new = {i[key]: i for i in b}
            for name, item in old.items():
                if name not in new:
                    self.add(f"{path}[{name}]", f"{label}「{name}」", "removed", before=item)
            for name, item in new.items():
                if name not in old:
                    self.add(f"{path}[{name}]", f"{label}「{name}」", "added", after=item)
                else:
                    self.value(f"{path}[{name}]", f"{label}「{name}」", field, old[name], item)
            kept_a = [k for k in old if k in new]
            kept_b = [k for k in new if k in old]
            if kept_a != kept_b:
                self.add(path, label, "reordered", before=kept_a, after=kept_b)
            return
        if all(not isinstance(i, dict | list) for i in [*a, *b]):
            matcher = difflib.SequenceMatcher(a=[json.dumps(i) for i in a], b=[json.dumps(i) for i in b])
            for tag, i1, i2, j1, j2 in matcher.get_opcodes():
                if tag in ("delete", "replace") and (tag == "delete" or i2 - i1 != j2 - j1):
                    for i in range(i1, i2):
                        self.add(f"{path}[{i}]", f"{label}第{i + 1}项", "removed", before=a[i])
                if tag in ("insert", "replace") and (tag == "insert" or i2 - i1 != j2 - j1):
                    for j in range(j1, j2):
                        self.add(f"{path}[{j}]", f"{label}第{j + 1}项", "added", after=b[j])
                if tag == "replace" and i2 - i1 == j2 - j1:
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                        self.add(f"{path}[{j}]", f"{label}第{j + 1}项", "changed", a[i], b[j])
            return
        for n in range(max(len(a), len(b))):
            item_label = f"{label}第{n + 1}项"
            if n >= len(a):
                self.add(f"{path}[{n}]", item_label, "added", after=b[n])
            elif n >= len(b):
                self.add(f"{path}[{n}]", item_label, "removed", before=a[n])
            else:
                self.value(f"{path}[{n}]", item_label, field, a[n], b[n])


def diff_entries(a: dict[str, Any], b: dict[str, Any]) -> list[Change]:
    """What changed from ``a`` to ``b`` (two entries as JSON dicts), in the schema's field order."""
    differ = _Differ()
    fields = [*FIELD_LABELS, *(k for k in [*a, *b] if k not in FIELD_LABELS)]
    for name in dict.fromkeys(fields):
        if name in IGNORED or (name not in a and name not in b):
            continue
        label = FIELD_LABELS.get(name, name)
        if name not in a:
            differ.add(name, label, "added", after=b[name])
        elif name not in b:
            differ.add(name, label, "removed", before=a[name])
        else:
            differ.value(name, label, name, a[name], b[name])
    return differ.changes


def yaml_text(data: dict[str, Any]) -> str:
    shown = {k: v for k, v in data.items() if k not in IGNORED}
    return yaml.safe_dump(shown, allow_unicode=True, sort_keys=False, width=100)


def unified(a: dict[str, Any], b: dict[str, Any], a_name: str, b_name: str) -> list[str]:
    """A unified diff of the two versions' YAML, for those who prefer to read it that way."""
    return list(
        difflib.unified_diff(
            yaml_text(a).splitlines(), yaml_text(b).splitlines(), a_name, b_name, lineterm="", n=2
        )
    )
