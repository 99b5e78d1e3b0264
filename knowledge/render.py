"""The 一次性告知 renderer: one entry + the citizen's situation → card, text, read-aloud, HTML."""

from __future__ import annotations

import html
from typing import Any

from knowledge.bureau import BureauProfile, current_profile, review_status, shown_review_date
from knowledge.checklist import ChecklistItem, build_checklist
from knowledge.models import PROVINCE_FIRST, Entry

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
PILOT_BADGE = "试点（测试中）"
PILOT_LINE = "该事项正在试点测试中，暂无承诺办结时限"


def _profile(profile: BureauProfile | None) -> BureauProfile:
    return profile if profile is not None else current_profile()


def claim_lines(entry: Entry, profile: BureauProfile | None = None) -> list[dict[str, str]]:
    """The bureau document's own claims the entry repeats, each with the document it comes from."""
    prof = _profile(profile)
    return [{"text": c.text, "source": prof.document_title(c.document)} for c in entry.claims]


def badges(entry: Entry) -> list[str]:
    """Labels shown beside the title: 全省首推 and other tags, 试点（测试中）."""
    out = [t for t in entry.tags if t]
    if entry.pilot:
        out.append(PILOT_BADGE)
    return out


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


def section_lines(
    entry: Entry,
    part: str,
    answers: dict[str, str] | None = None,
    site: str | None = None,
    profile: BureauProfile | None = None,
) -> list[str]:
    """Plain lines of one part of the guide (empty when the entry has nothing for it).

    Contacts (location, phone) come from the bureau profile for ``site`` (the city hall when none),
    overridden by the entry's ``site_overrides``; a time limit, fee or contact nobody filled in reads
    请拨打12345咨询."""
    prof = _profile(profile)
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
        if entry.pilot:
            lines.append(f"{PILOT_LINE}，{prof.ask_hotline()}")
        if t.promised_days is not None:
            lines.append(f"承诺时限：{_days(t.promised_days)}")
        if t.legal_days is not None:
            lines.append(f"法定时限：{_days(t.legal_days)}")
        if t.note:
            lines.append(t.note)
        return lines or [prof.ask_hotline()]
    if part == "fees":
        return [entry.fees] if entry.fees else [prof.ask_hotline()]
    if part == "location":
        c = contacts(entry, site, prof)
        pairs = [("窗口", c["window"]), ("地点", c["place"]), ("地址", c["address"]), ("时间", c["hours"])]
        return [f"{k}：{v or prof.ask_hotline()}" for k, v in pairs if v or k in ("地址", "时间")]
    if part == "phone":
        c = contacts(entry, site, prof)
        lines = [f"咨询电话：{c['phone']}"] if c["phone"] else []
        return [*lines, f"{prof.hotline_name or '政务服务便民热线'}：{prof.hotline}"]
    if part == "online":
        o = entry.online
        # a pilot (试点) is not announced as online yet: only what its entry says
        url = o.url or ("" if entry.pilot else prof.online.url)
        note = o.note or ("" if entry.pilot else prof.online.note)
        if not (url or note):
            return []
        return [f"{o.name}：{url}".rstrip("：")] + ([note] if note else [])
    if part == "legal_basis":
        return list(entry.legal_basis)
    raise ValueError(f"unknown part '{part}'")


def contacts(entry: Entry, site: str | None, profile: BureauProfile | None = None) -> dict[str, str]:
    """Where and whom to ask for ``entry`` at ``site``: the entry's override for the site, else the
    site's own contacts from the profile (the city hall when no site is given). An entry limited to
    other sites (a county's 特色一件事) is shown at its own first site."""
    prof = _profile(profile)
    site_id = site if site and prof.has_site(site) else None
    if entry.sites and site_id not in entry.sites:
        site_id = entry.sites[0]
    where = prof.site(site_id)
    over = entry.site_overrides.get(where.id)
    loc = entry.location

    def pick(field: str, fallback: str) -> str:
        value = getattr(over, field) if over is not None else ""
        return value or fallback

    city = where.id == prof.hall.id
    return {
        "site": where.id,
        "place": where.name,
        "window": pick("window", loc.window if city else ""),
        "address": pick("address", (loc.address if city else "") or where.address),
        "hours": pick("hours", (loc.hours if city else "") or where.hours),
        "phone": pick("phone", (entry.phone if city else "") or where.phone),
        "map_url": pick("map_url", (loc.map_url if city else "") or where.map_url),
    }


def _section(
    entry: Entry, part: str, answers: dict[str, str] | None, site: str | None, prof: BureauProfile
) -> dict[str, Any]:
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
    section["lines"] = section_lines(entry, part, answers, site, prof)
    if part in ("location", "phone"):
        c = contacts(entry, site, prof)
        section["site"] = c["site"]
        if part == "location" and c["map_url"]:
            section["map_url"] = c["map_url"]
        if part == "phone":
            section["tel"] = "".join(ch for ch in c["phone"] or prof.hotline if ch.isdigit() or ch == "+")
    if part == "online" and (entry.online.url or (prof.online.url and not entry.pilot)):
        section["url"] = entry.online.url or prof.online.url
    return section


def card(
    entry: Entry,
    parts: list[str] | None = None,
    answers: dict[str, str] | None = None,
    site: str | None = None,
    profile: BureauProfile | None = None,
) -> dict[str, Any]:
    """The chat card payload (``type: card``) for the given parts (all parts when None), with the
    contacts of ``site`` (the city hall when None)."""
    prof = _profile(profile)
    wanted = parts or ALL_PARTS
    sections = [_section(entry, p, answers, site, prof) for p in wanted]
    return {
        "type": "card",
        "entry_id": entry.id,
        "title": entry.title,
        "summary": entry.summary if parts is None or "summary" in wanted else "",
        "parts": wanted,
        "sections": [s for s in sections if s["lines"]],
        "missing": [PART_TITLES[s["key"]] for s in sections if not s["lines"]],
        "source": entry.source,
        "reviewed_at": shown_review_date(entry),
        "review_status": review_status(entry),
        "sample": entry.sample,
        "version": entry.version,
        "notice": NOTICE,
        "guide_url": f"/guide/{entry.id}",
        "badges": badges(entry),
        "province_first": PROVINCE_FIRST in entry.tags,
        "pilot": entry.pilot,
        "claims": claim_lines(entry, prof),
        "site": contacts(entry, site, prof)["site"],
        "sites": list(entry.sites),
        "bureau": prof.name,
    }


def plain_text(
    entry: Entry,
    answers: dict[str, str] | None = None,
    site: str | None = None,
    profile: BureauProfile | None = None,
) -> str:
    """The 一次性告知 as plain text, ready to paste into a chat or an SMS."""
    prof = _profile(profile)
    title = "".join(f"〔{b}〕" for b in badges(entry))
    out = [f"【{entry.title}】{title}一次性告知", entry.summary]
    out += [f"※ {c['text']}（来源：{c['source']}）" for c in claim_lines(entry, prof)]
    for part in ALL_PARTS:
        lines = section_lines(entry, part, answers, site, prof)
        if lines:
            out.append(f"{PART_TITLES[part]}：")
            out += [f"{n}. {line}" for n, line in enumerate(lines, start=1)]
    out.append(f"来源：{entry.source}；{review_status(entry)}。{NOTICE}。")
    return "\n".join(out)


def _spoken_count(n: int) -> str:
    return CN_DIGITS[n] if 0 <= n <= 10 else str(n)


def speech(
    entry: Entry,
    answers: dict[str, str] | None = None,
    site: str | None = None,
    profile: BureauProfile | None = None,
) -> str:
    """A read-aloud version for hotline agents: short sentences, counts spoken first."""
    prof = _profile(profile)
    items = build_checklist(entry, answers)
    out = [f"您要办的是{entry.title}。"]
    if entry.pilot:
        out.append(f"{PILOT_LINE}。")
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
    where = contacts(entry, site, prof)
    out.append(f"办理地点：{where['window'] or where['place']}。")
    if entry.online.url or (prof.online.url and not entry.pilot):
        out.append(f"也可以在{entry.online.name}上网上办理。")
    if entry.sample:
        out.append(f"请注意，以上内容为{review_status(entry)}。")
    return "".join(out)


def html_page(
    entry: Entry,
    answers: dict[str, str] | None = None,
    qr_url: str = "",
    site: str | None = None,
    profile: BureauProfile | None = None,
) -> str:
    """A printable 一次性告知单; every piece of entry text is escaped."""
    prof = _profile(profile)
    e = html.escape
    marks = "".join(f"<span class='badge'>{e(b)}</span>" for b in badges(entry))
    body = [
        f"<p class='bureau'>{e(prof.name)} · 一次性告知单</p>",
        f"<h1>{e(entry.title)}{marks}</h1>",
        f"<p class='summary'>{e(entry.summary)}</p>",
    ]
    if entry.sample:
        body.append(f"<p class='sample'>{e(review_status(entry))}：内容待{e(prof.name)}核实后使用。</p>")
    claims = claim_lines(entry, prof)
    if claims:
        items = "".join(f"<li>{e(c['text'])}<br><small>来源：{e(c['source'])}</small></li>" for c in claims)
        body.append(f"<section class='claims'><h2>方案承诺</h2><ul>{items}</ul></section>")
    for part in ALL_PARTS:
        lines = section_lines(entry, part, answers, site, prof)
        if not lines:
            continue
        items = "".join(f"<li>{e(line)}</li>" for line in lines)
        body.append(f"<section><h2>{e(PART_TITLES[part])}</h2><ol>{items}</ol></section>")
    body.append(
        f"<p class='source'>来源：{e(entry.source)}；{e(review_status(entry))}；"
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


def site_question(profile: BureauProfile | None = None) -> dict[str, Any]:
    """Asked once when a citizen asks where to go and the widget does not know their site."""
    prof = _profile(profile)
    return {
        "question": "您在哪个区县（市）办理？选择后显示当地分站点的办理地点和电话。",
        "options": [{"id": s.id, "name": s.name} for s in prof.sites],
    }


def localize(
    payload: dict[str, Any], entry: Entry, site: str | None, profile: BureauProfile | None = None
) -> dict[str, Any]:
    """A card rendered for the city, with its location and phone sections for ``site`` instead.

    With no (known) site and a location section, the card carries ``ask_site`` so the widget can
    ask once. An entry limited to other sites says where it is offered (``site_note``)."""
    prof = _profile(profile)
    known = site if site and prof.has_site(site) else None
    out = dict(payload)
    sections = list(payload.get("sections") or [])
    if known:
        out["sections"] = [
            _section(entry, s["key"], None, known, prof) if s.get("key") in ("location", "phone") else s
            for s in sections
        ]
    elif any(s.get("key") == "location" for s in sections):
        out["ask_site"] = site_question(prof)
    out["site"] = contacts(entry, known, prof)["site"]
    out["site_name"] = prof.site(out["site"]).name
    if entry.sites and known not in entry.sites:
        names = "、".join(prof.site(s).name for s in entry.sites)
        out["site_note"] = f"本事项是{names}的特色事项，只在当地办理。"
    return out
