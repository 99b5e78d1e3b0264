"""The 一次性告知 renderer: one entry + the citizen's situation → card, text, read-aloud, HTML."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlencode

from knowledge.bureau import BureauProfile, current_profile, review_status, shown_review_date
from knowledge.checklist import UNSURE, ChecklistItem, build_checklist
from knowledge.models import PROVINCE_FIRST, Entry, Kind, field_titles

NOTICE = "以窗口最新告知为准"
# The parts of a guide, in the card's order, named by the entry's fields (Field(title=…)).
PART_TITLES = {
    part: field_titles(Entry)[part]
    for part in (
        "bundled_matters",
        "conditions",
        "materials",
        "steps",
        "time_limit",
        "fees",
        "location",
        "phone",
        "online",
        "legal_basis",
    )
}
ALL_PARTS = list(PART_TITLES)
CN_DIGITS = "零一二三四五六七八九十"
PILOT_BADGE = "试点（测试中）"
PILOT_LINE = "该事项正在试点测试中，暂无承诺办结时限"


# What a card opens with when the question names no part: the first of these the card shows.
LEAD_PARTS = ["materials", "conditions", "steps"]
# Parts a FAQ (a question about how things work, not a service one applies for) has only when its
# entry says something about them: no 办理时限/收费标准 "请拨打12345咨询" lines for 12345 itself.
FAQ_OWN_PARTS = {"materials", "time_limit", "fees", "location"}
SITE_PARAM = "site"


def _profile(profile: BureauProfile | None) -> BureauProfile:
    return profile if profile is not None else current_profile()


def applies(entry: Entry, part: str) -> bool:
    """Whether a part of the guide applies to the entry's kind: 联办事项 only to a bundle (一件事);
    materials, time limit, fees and location to a FAQ only when its entry fills them in."""
    if part == "bundled_matters":
        return entry.kind is Kind.bundle
    if entry.kind is Kind.faq and part in FAQ_OWN_PARTS:
        t, loc = entry.time_limit, entry.location
        return {
            "materials": bool(entry.materials),
            "time_limit": t.promised_days is not None or t.legal_days is not None or bool(t.note),
            "fees": bool(entry.fees),
            "location": bool(loc.window or loc.address),
        }[part]
    return True


def guide_parts(entry: Entry) -> list[str]:
    """Every part of the guide that applies to the entry, in the guide's order."""
    return [p for p in ALL_PARTS if applies(entry, p)]


def known_answers(entry: Entry, answers: dict[str, str] | None) -> dict[str, str]:
    """The answers that name one of the entry's situations and one of its options (or 不确定), in the
    entry's order; anything else (a link edited by hand, an old answer) is left out."""
    given = answers or {}
    out: dict[str, str] = {}
    for s in entry.situations:
        value = given.get(s.id)
        if value is not None and (value == UNSURE or value in {o.value for o in s.options}):
            out[s.id] = value
    return out


def answer_lines(entry: Entry, answers: dict[str, str] | None) -> list[str]:
    """The citizen's situation as lines (是否已婚：是), for the tailored printed guide."""
    given = known_answers(entry, answers)
    lines = []
    for s in entry.situations:
        if s.id in given:
            label = {o.value: o.label for o in s.options}.get(given[s.id], "不确定")
            lines.append(f"{s.question.rstrip('？?')}：{label}")
    return lines


def guide_query(entry: Entry, answers: dict[str, str] | None = None, site: str | None = None) -> str:
    """The query string (with its ``?``, or empty) that carries the citizen's situation answers and
    site into the guide link and its QR code."""
    params = list(known_answers(entry, answers).items())
    if site:
        params.append((SITE_PARAM, site))
    return f"?{urlencode(params)}" if params else ""


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
    focus: list[str] | None = None,
) -> dict[str, Any]:
    """The chat card payload (``type: card``) for the given parts (all parts when None), with the
    contacts of ``site`` (the city hall when None).

    ``focus`` names the parts the question asked for: the widget shows them and folds the rest of
    the card behind one tap. By default the parts asked for (one or two), else the card's first of
    materials / conditions / steps. ``speech`` is the card's read-aloud text (朗读)."""
    prof = _profile(profile)
    # parts that do not apply to the entry's kind are left out (a single matter has no 联办事项),
    # unless they are all the question asked about (then the caller says the guide has nothing on it)
    wanted = [p for p in (parts or ALL_PARTS) if applies(entry, p)] or list(parts or ALL_PARTS)
    sections = [_section(entry, p, answers, site, prof) for p in wanted]
    shown = [s for s in sections if s["lines"]]
    asked = bool(parts) and len(wanted) <= 2
    keys = [s["key"] for s in shown]
    if focus is None:
        focus = parts if parts and len(parts) <= 2 else [next((p for p in LEAD_PARTS if p in keys), "")]
    focus = [p for p in focus if p in keys] or keys[:1]
    return {
        "type": "card",
        "entry_id": entry.id,
        "kind": entry.kind.value,
        "title": entry.title,
        "summary": entry.summary if parts is None or "summary" in wanted else "",
        "parts": wanted,
        "focus": focus,
        "sections": shown,
        # said only of the parts a question asked for: a whole guide just leaves out an empty part
        "missing": [PART_TITLES[s["key"]] for s in sections if not s["lines"] and asked],
        "speech": card_speech(entry, focus, answers, site, prof),
        "source": entry.source,
        "reviewed_at": shown_review_date(entry),
        "review_status": review_status(entry),
        "sample": entry.sample,
        "version": entry.version,
        "notice": NOTICE,
        "guide_url": f"/guide/{entry.id}{guide_query(entry, answers, site)}",
        "answers": answer_lines(entry, answers),
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
    for part in guide_parts(entry):
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


URL = re.compile(r"https?://\S+|www\.\S+")


def card_speech(
    entry: Entry,
    focus: list[str],
    answers: dict[str, str] | None = None,
    site: str | None = None,
    profile: BureauProfile | None = None,
) -> str:
    """What the card's 朗读 button reads: the checklist read-aloud when the card leads with the
    materials, else the parts it shows first, in short sentences (web addresses are not read)."""
    prof = _profile(profile)
    if not focus or "materials" in focus:
        return speech(entry, answers, site, prof)
    out = [f"您问的是{entry.title}。"]
    for part in focus:
        lines = [URL.sub("", line).strip("：: ") for line in section_lines(entry, part, answers, site, prof)]
        lines = [line for line in lines if line]
        if lines:
            out.append(f"{PART_TITLES[part]}：" + "；".join(lines) + "。")
    if entry.sample:
        out.append(f"请注意，以上内容为{review_status(entry)}。")
    return "".join(out)


def _page(title: str, body: list[str]) -> str:
    e = html.escape
    return (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{e(title)}</title><link rel='stylesheet' href='/static/guide.css'>"
        "<script src='/static/guide.js' defer></script>"
        f"</head><body><main class='guide'>{''.join(body)}</main></body></html>"
    )


def html_page(
    entry: Entry,
    answers: dict[str, str] | None = None,
    qr_url: str = "",
    site: str | None = None,
    profile: BureauProfile | None = None,
) -> str:
    """A printable 一次性告知单; every piece of entry text is escaped.

    With the citizen's situation ``answers`` (carried by the widget's link and QR code) the page is
    their tailored checklist: it says which situation it was made for and links to the general one."""
    prof = _profile(profile)
    e = html.escape
    marks = "".join(f"<span class='badge'>{e(b)}</span>" for b in badges(entry))
    given = known_answers(entry, answers)
    body = [
        "<nav class='guide-tools' aria-label='告知单操作'>"
        "<button type='button' class='guide-print' hidden>打印告知单</button></nav>",
        f"<p class='bureau'>{e(prof.name)} · 一次性告知单</p>",
        f"<h1>{e(entry.title)}{marks}</h1>",
        f"<p class='summary'>{e(entry.summary)}</p>",
    ]
    if entry.sample:
        body.append(f"<p class='sample'>{e(review_status(entry))}：内容待{e(prof.name)}核实后使用。</p>")
    if given:
        items = "".join(f"<li>{e(line)}</li>" for line in answer_lines(entry, given))
        general = f"/guide/{entry.id}{guide_query(entry, None, site)}"
        body.append(
            "<section class='situation'><h2>按您的情况生成</h2>"
            f"<ul>{items}</ul><p class='no-print'>情况有变？"
            f"<a href='{e(general)}'>查看包含全部情形的告知单</a></p></section>"
        )
    claims = claim_lines(entry, prof)
    if claims:
        items = "".join(f"<li>{e(c['text'])}<br><small>来源：{e(c['source'])}</small></li>" for c in claims)
        body.append(f"<section class='claims'><h2>方案承诺</h2><ul>{items}</ul></section>")
    for part in guide_parts(entry):
        lines = section_lines(entry, part, given, site, prof)
        if not lines:
            continue
        items = "".join(f"<li>{e(line)}</li>" for line in lines)
        body.append(f"<section data-part='{part}'><h2>{e(PART_TITLES[part])}</h2><ol>{items}</ol></section>")
    body.append(
        f"<p class='source'>来源：{e(entry.source)}；{e(review_status(entry))}；"
        f"版本 {entry.version}。{NOTICE}。</p>"
    )
    if qr_url:
        body.append(
            f"<figure><img src='{e(qr_url)}' alt='一事一码：扫码在手机上查看本告知单' width='160'>"
            "<figcaption>一事一码</figcaption></figure>"
        )
    return _page(f"{entry.title} 一次性告知单", body)


def not_found_page(profile: BureauProfile | None = None) -> str:
    """The page a citizen sees for a guide link that leads nowhere (an old QR code, a typo)."""
    prof = _profile(profile)
    e = html.escape
    return _page(
        "没有找到这份办事指南",
        [
            f"<p class='bureau'>{e(prof.name)} · 一次性告知单</p>",
            "<h1>没有找到这份办事指南</h1>",
            "<p class='summary'>这个链接或二维码对应的办事指南可能已经调整或下线。您可以：</p>",
            "<ul class='next-steps'>",
            "<li><a href='/guides'>查看全部办事攻略和一事一码</a></li>",
            "<li><a href='/#chat'>问问智能助手「办事e点通」</a></li>",
            f"<li>拨打<a href='tel:{e(prof.hotline)}'>{e(prof.hotline_name or prof.hotline)}</a>咨询</li>",
            "</ul>",
        ],
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
        url = str(payload.get("guide_url") or f"/guide/{entry.id}")
        if f"{SITE_PARAM}=" not in url:
            out["guide_url"] = url + ("&" if "?" in url else "?") + urlencode({SITE_PARAM: known})
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
