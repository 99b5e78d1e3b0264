"""Map the Guangdong portal's service guides (办事指南) onto :class:`Entry`, reporting rejections.

Each guide is mapped field by field; a guide that cannot become a valid entry is rejected with a
reason, and the reasons are counted so the import can be judged on real data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from knowledge.models import Entry

_DAYS = re.compile(r"(\d+(?:\.\d+)?)\s*[(（]?\s*工作日")  # 20(工作日), 20（工作日）, 20 工作日
_EMPTY = {"", "无", "None", "null", "暂无"}


@dataclass
class MappingReport:
    mapped: list[Entry] = field(default_factory=list)
    rejected: Counter[str] = field(default_factory=Counter)
    gaps: Counter[str] = field(default_factory=Counter)  # mapped, but a part of the guide is empty

    def summary(self) -> str:
        lines = [f"mapped cleanly: {len(self.mapped)}; rejected: {sum(self.rejected.values())}"]
        lines += [f"  - rejected, {reason}: {n}" for reason, n in self.rejected.most_common()]
        lines += [f"  - mapped without {part}: {n}" for part, n in self.gaps.most_common()]
        return "\n".join(lines)


def _text(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    return "" if text in _EMPTY else text


def _days(value: Any) -> float | None:
    m = _DAYS.search(_text(value))
    return float(m.group(1)) if m else None


def _slug(row: dict[str, Any]) -> str:
    code = _text(row.get("TASK_CODE")) or json.dumps(row, sort_keys=True, ensure_ascii=False)
    return "gd-" + hashlib.sha1(code.encode()).hexdigest()[:12]


def map_guide(row: dict[str, Any]) -> Entry:
    """One Guangdong guide → one entry (raises ValueError with a reason when it cannot)."""
    title = _text(row.get("TASK_NAME"))
    if not title:
        raise ValueError("no TASK_NAME")
    if len(title) > 80:
        title = title[:79] + "…"
    dept = _text(row.get("DEPT_NAME"))
    if not dept:
        raise ValueError("no DEPT_NAME")
    objects = row.get("service_object_name") or []
    audience = []
    if any("自然人" in o for o in objects):
        audience.append("个人")
    if any(("法人" in o) or ("组织" in o) or ("机关" in o) for o in objects):
        audience.append("法人")
    materials = [
        {"name": _text(m)[:200], "form": "原件"} for m in row.get("material_intro") or [] if _text(m)
    ]
    location = _text(row.get("handle_location")).removeprefix("办理地点：")
    summary = f"{title}，由{dept}办理（{_text(row.get('TASK_TYPE_TEXT')) or '政务服务事项'}）。"
    short = _text(row.get("matter_short"))
    data = {
        "id": _slug(row),
        "title": title,
        "kind": "matter",
        "category": ((row.get("theme_category") or ["其他"])[0]) or "其他",
        "audience": audience or ["个人"],
        "aliases": [a for a in {_text(row.get("CATANAME")), short} if a and a != title][:3],
        "summary": summary,
        "conditions": [c for c in [_text(row.get("accept_standard"))] if c],
        "materials": materials,
        "time_limit": {
            "promised_days": _days(row.get("handle_time_limit")),
            "legal_days": _days(row.get("handle_time")),
        },
        "fees": _text(row.get("charge")) or "",
        "location": {"address": location[:300]},
        "phone": _text(row.get("consult_phone"))[:60],
        "online": {"name": _text(row.get("bear_paltform")) or "广东政务服务网", "url": _text(row.get("URL"))},
        "source": f"广东政务服务网 {dept}",
        "sample": True,
        "reviewed_at": dt.date(2021, 5, 26),
        "status": "published",
    }
    try:
        return Entry.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ValueError(f"invalid {'.'.join(str(p) for p in err['loc'])}: {err['type']}") from exc


def map_file(path: Path) -> MappingReport:
    report = MappingReport()
    seen: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            entry = map_guide(json.loads(line))
        except (ValueError, json.JSONDecodeError) as exc:
            report.rejected[str(exc)] += 1
            continue
        if entry.id in seen:
            report.rejected["duplicate TASK_CODE"] += 1
            continue
        seen.add(entry.id)
        report.mapped.append(entry)
        for part, empty in (
            ("materials", not entry.materials),
            ("promised time limit", entry.time_limit.promised_days is None),
            ("fees", not entry.fees),
            ("phone", not entry.phone),
            ("address", not entry.location.address),
        ):
            report.gaps[part] += empty
    return report
