"""The 一次性告知 renderer: one entry + the citizen's situation → card, text, read-aloud, HTML."""

from __future__ import annotations

import html
from typing import Any

from knowledge.checklist import ChecklistItem, build_checklist
from knowledge.models import Entry

NOTICE = "以窗口最新告知为准"
PART_TITLES = {
    "bundled_matters": "联办事项",
    "conditions": "申请条件",
    "materials": "申请材料",
    "steps": "办理流程",
    "time_limit": "办理时限",
    "fees": "收费标准",
    "location": "办理地点",
    "phone": "咨询电话",
    "online": "网上办理",
    "legal_basis": "设定依据",
}
ALL_PARTS = list(PART_TITLES)
CN_DIGITS = "零一二三四五六七八九十"


def _days(value: float | None) -> str:
    if value is None:
        return ""
    if value == 0:
        return "即办"
    return f"{value:g}个工作日"


def _material_line(item: ChecklistItem) -> str:
    parts = [item.name, f"（{item.form}"]
    if item.copies > 1:
        parts.append(f"，{item.copies}份")
    parts.append("）")
    if item.conditional:
        parts.insert(0, f"〔如属{item.condition_text}〕")
    if item.waivable:
        parts.append("〔可免提交，通过数据共享获取〕")
    if item.notes:
        parts.append(f"——{item.notes}")
    return "".join(parts)


def section_lines(entry: Entry, part: str, answers: dict[str, str] | None = None) -> list[str]:
    """Plain lines of one part of the guide (empty when the entry has nothing for it)."""
    if part == "bundled_matters":
        return [f"{m.name}（{m.department}）" for m in entry.bundled_matters]
    if part == "conditions":
        return list(entry.conditions)
    if part == "materials":
        return [_material_line(i) for i in build_checklist(entry, answers)]
    if part == "steps":
        return [f"{s.title}：{s.description}" if s.description else s.title for s in entry.steps]
    if part == "time_limit":
        t = entry.time_limit
        lines = []
        if t.promised_days is not None:
            lines.append(f"承诺时限：{_days(t.promised_days)}")
        if t.legal_days is not None:
            lines.append(f"法定时限：{_days(t.legal_days)}")
        if t.note:
            lines.append(t.note)
        return lines
    if part == "fees":
        return [entry.fees] if entry.fees else []
    if part == "location":
        loc = entry.location
        pairs = [("窗口", loc.window), ("地址", loc.address), ("时间", loc.hours)]
        return [f"{k}：{v}" for k, v in pairs if v]
    if part == "phone":
        return [entry.phone] if entry.phone else []
    if part == "online":
        o = entry.online
        if not (o.url or o.note):
            return []
        return [f"{o.name}：{o.url}".rstrip("：")] + ([o.note] if o.note else [])
    if part == "legal_basis":
        return list(entry.legal_basis)
    raise ValueError(f"unknown part '{part}'")


def _section(entry: Entry, part: str, answers: dict[str, str] | None) -> dict[str, Any]:
    section: dict[str, Any] = {"key": part, "title": PART_TITLES[part]}
    if part == "materials":
        section["items"] = [
            {
                "name": i.name,
                "form": i.form,
                "copies": i.copies,
                "conditional": i.conditional,
                "condition": i.condition_text,
                "waivable": i.waivable,
                "notes": i.notes,
            }
            for i in build_checklist(entry, answers)
        ]
    section["lines"] = section_lines(entry, part, answers)
    if part == "location" and entry.location.map_url:
        section["map_url"] = entry.location.map_url
    if part == "phone" and entry.phone:
        section["tel"] = "".join(c for c in entry.phone if c.isdigit() or c == "+")
    if part == "online" and entry.online.url:
        section["url"] = entry.online.url
    return section


def card(
    entry: Entry, parts: list[str] | None = None, answers: dict[str, str] | None = None
) -> dict[str, Any]:
    """The chat card payload (``type: card``) for the given parts (all parts when None)."""
    wanted = parts or ALL_PARTS
    sections = [_section(entry, p, answers) for p in wanted]
    return {
        "type": "card",
        "entry_id": entry.id,
        "title": entry.title,
        "summary": entry.summary if parts is None or "summary" in wanted else "",
        "parts": wanted,
        "sections": [s for s in sections if s["lines"]],
        "missing": [PART_TITLES[s["key"]] for s in sections if not s["lines"]],
        "source": entry.source,
        "reviewed_at": entry.reviewed_at.isoformat(),
        "sample": entry.sample,
        "version": entry.version,
        "notice": NOTICE,
        "guide_url": f"/guide/{entry.id}",
    }


def plain_text(entry: Entry, answers: dict[str, str] | None = None) -> str:
    """The 一次性告知 as plain text, ready to paste into a chat or an SMS."""
    out = [f"【{entry.title}】一次性告知", entry.summary]
    for part in ALL_PARTS:
        lines = section_lines(entry, part, answers)
        if lines:
            out.append(f"{PART_TITLES[part]}：")
            out += [f"{n}. {line}" for n, line in enumerate(lines, start=1)]
    out.append(f"来源：{entry.source}；审核日期：{entry.reviewed_at.isoformat()}。{NOTICE}。")
    return "\n".join(out)


def _spoken_count(n: int) -> str:
    return CN_DIGITS[n] if 0 <= n <= 10 else str(n)


def speech(entry: Entry, answers: dict[str, str] | None = None) -> str:
    """A read-aloud version for hotline agents: short sentences, counts spoken first."""
    items = build_checklist(entry, answers)
    out = [f"您要办的是{entry.title}。"]
    if items:
        out.append(f"一共需要准备{_spoken_count(len(items))}样材料。")
        for n, item in enumerate(items, start=1):
            copies = f"{_spoken_count(item.copies)}份" if item.copies > 1 else ""
            cond = f"如果{item.condition_text}，" if item.conditional else ""
            out.append(f"第{_spoken_count(n)}，{cond}{item.name}，{item.form}{copies}。")
    t = entry.time_limit
    if t.promised_days is not None:
        out.append(f"承诺{_days(t.promised_days)}办结。")
    if entry.fees:
        out.append(f"收费：{entry.fees}。")
    if entry.location.window:
        out.append(f"办理地点：{entry.location.window}。")
    if entry.online.url:
        out.append(f"也可以在{entry.online.name}上网上办理。")
    return "".join(out)


def html_page(entry: Entry, answers: dict[str, str] | None = None, qr_url: str = "") -> str:
    """A printable 一次性告知单; every piece of entry text is escaped."""
    e = html.escape
    body = [f"<h1>{e(entry.title)}</h1>", f"<p class='summary'>{e(entry.summary)}</p>"]
    if entry.sample:
        body.append("<p class='sample'>示例数据：内容待岳阳市政务服务部门核实后使用。</p>")
    for part in ALL_PARTS:
        lines = section_lines(entry, part, answers)
        if not lines:
            continue
        items = "".join(f"<li>{e(line)}</li>" for line in lines)
        body.append(f"<section><h2>{e(PART_TITLES[part])}</h2><ol>{items}</ol></section>")
    body.append(
        f"<p class='source'>来源：{e(entry.source)}；审核日期：{e(entry.reviewed_at.isoformat())}；"
        f"版本 {entry.version}。{NOTICE}。</p>"
    )
    if qr_url:
        body.append(
            f"<figure><img src='{e(qr_url)}' alt='一事一码：扫码查看本告知单' width='160'>"
            "<figcaption>一事一码</figcaption></figure>"
        )
    return (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{e(entry.title)} 一次性告知单</title><link rel='stylesheet' href='/static/guide.css'>"
        f"</head><body><main class='guide'>{''.join(body)}</main></body></html>"
    )
