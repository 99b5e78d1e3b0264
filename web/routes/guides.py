"""The 办事攻略 catalogue and the bureau profile: ``GET /api/bureau``, ``GET /api/guides``,
``GET /api/guides/{entry_id}/contact`` and the public page ``/guides`` (every guide with its 一事一码).

Everything is read from the published entries the assistant answers from and from the bureau
profile (``BUREAU_FILE``): publishing an entry adds it to the catalogue, unpublishing removes it."""

from __future__ import annotations

import html
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from knowledge import catalogue
from knowledge.bureau import current_profile
from knowledge.models import Status
from knowledge.render import localize, site_question
from retrieval.live import LiveSearch
from web.deps import LiveDep

router = APIRouter(tags=["guides"])
SiteQuery = Annotated[
    str | None,
    Query(max_length=40, pattern=r"^[a-z][a-z0-9-]*$", description="a site id of the bureau profile"),
]


def _site(site: str | None) -> str | None:
    if site and not current_profile().has_site(site):
        raise HTTPException(404, f"没有分站点“{site}”")
    return site


def _catalogue(live: LiveSearch, site: str | None) -> dict[str, Any]:
    return catalogue.build(live.engine.entries.values(), current_profile(), site)


@router.get("/api/bureau")
async def bureau() -> dict[str, Any]:
    """The bureau's public profile: name, hotline, online entry and sites (contacts empty until filled)."""
    p = current_profile()
    return {
        "name": p.name,
        "service_name": p.service_name,
        "hotline": p.hotline,
        "hotline_name": p.hotline_name,
        "website": p.website,
        "online": p.online.model_dump(),
        "sites": [s.model_dump() for s in p.sites],
        "site_question": site_question(p),
    }


@router.get("/api/guides")
async def guides(live: LiveDep, site: SiteQuery = None) -> dict[str, Any]:
    """The 办事攻略 catalogue for a site (every published guide when no site is given)."""
    return await run_in_threadpool(_catalogue, live, _site(site))


@router.get("/api/guides/{entry_id}/contact")
async def contact(entry_id: str, live: LiveDep, site: SiteQuery = None) -> dict[str, Any]:
    """Where and whom to ask about one guide at a site: its location and phone sections."""
    entry = live.engine.entries.get(entry_id)
    if entry is None or entry.status is not Status.published:
        raise HTTPException(404, f"没有找到办事指南“{entry_id}”")
    from knowledge.render import card

    payload = localize(card(entry, ["location", "phone"]), entry, _site(site))
    keep = ("entry_id", "title", "sections", "site", "site_name", "site_note", "ask_site")
    return {k: payload[k] for k in keep if k in payload}


def _page(data: dict[str, Any]) -> str:
    e = html.escape
    parts = [
        f"<p class='bureau'>{e(data['bureau'])} · 办事攻略</p>",
        f"<h1>办事攻略（{e(data['site_name'])}，共{data['count']}项）</h1>",
        "<p class='hint'>每项攻略附“一事一码”：扫码即可在手机上查看一次性告知单。</p>",
    ]
    seen: set[str] = set()
    groups = [(g["title"], g["items"]) for g in data["featured"]]
    life = next(v for v in data["views"] if v["key"] == "life_event")
    stage = next(v for v in data["views"] if v["key"] == "enterprise_stage")
    groups += [(f"{life['title']} · {g['title']}", g["items"]) for g in life["groups"]]
    groups += [(f"{stage['title']} · {g['title']}", g["items"]) for g in stage["groups"]]
    for title, items in groups:
        cards = []
        for it in items:
            marks = "".join(f"<span class='badge'>{e(b)}</span>" for b in it["badges"])
            first = it["id"] not in seen
            seen.add(it["id"])
            qr = (
                f"<img src='{e(it['qr_url'])}' alt='一事一码：{e(it['title'])}' width='96' height='96' "
                "loading='lazy'>"
            )
            cards.append(
                f"<li class='guide-item' data-entry-id='{e(it['id'])}'>"
                f"<a href='{e(it['guide_url'])}'>{e(it['title'])}</a>{marks}"
                f"{qr if first else ''}</li>"
            )
        parts.append(f"<section><h2>{e(title)}</h2><ul class='guides'>{''.join(cards)}</ul></section>")
    return (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>办事攻略 · {e(data['bureau'])}</title><link rel='stylesheet' href='/static/guide.css'>"
        f"</head><body><main class='guide guide-list'>{''.join(parts)}</main></body></html>"
    )


@router.get("/guides", response_class=HTMLResponse)
async def guides_page(live: LiveDep, site: SiteQuery = None) -> HTMLResponse:
    """Every published guide, grouped as in the widget's 办事攻略 tab, each with its 一事一码 QR."""
    data = await run_in_threadpool(_catalogue, live, _site(site))
    return HTMLResponse(_page(data))
