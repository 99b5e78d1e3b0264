"""The 办事攻略 catalogue: every published guide, browsable by life event, enterprise stage and
department, with the 高效办成一件事 bundles, the 全省首推 items and each county's 特色一件事 as their own
groups. Built from the entries the assistant answers from, so publishing an entry adds it and
unpublishing removes it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from knowledge.bureau import CITY, BureauProfile, available_at
from knowledge.models import PROVINCE_FIRST, Audience, Entry, Kind, Status
from knowledge.render import badges

OTHER = "其他"
_PAREN = re.compile(r"[（(].*?[）)]")


def departments(entry: Entry) -> list[str]:
    """The departments responsible for an entry: its own list, else those of its bundled matters
    (parenthesised details dropped, joint departments split)."""
    names = list(entry.departments)
    for matter in entry.bundled_matters:
        names += [n.strip() for n in _PAREN.sub("", matter.department).split("、")]
    return [n for n in dict.fromkeys(names) if n]


def item(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "title": entry.title,
        "kind": entry.kind.value,
        "category": entry.category,
        "badges": badges(entry),
        "sites": list(entry.sites),
        "guide_url": f"/guide/{entry.id}",
        "qr_url": f"/guide/{entry.id}/qr.png",
    }


def _groups(buckets: dict[str, list[Entry]], order: list[str] | None = None) -> list[dict[str, Any]]:
    keys = order or sorted(buckets, key=lambda k: (k == OTHER, -len(buckets[k]), k))
    return [
        {"title": k, "count": len(buckets[k]), "items": [item(e) for e in buckets[k]]}
        for k in keys
        if buckets.get(k)
    ]


def build(entries: Iterable[Entry], profile: BureauProfile, site: str | None = None) -> dict[str, Any]:
    """The catalogue of the published entries available at ``site`` (every entry when None)."""
    shown = sorted(
        (e for e in entries if e.status is Status.published and available_at(e, site)),
        key=lambda e: (e.category, e.title),
    )
    life: dict[str, list[Entry]] = {}
    stages: dict[str, list[Entry]] = {}
    depts: dict[str, list[Entry]] = {}
    stage_of = {cat: stage for stage, cats in profile.enterprise_stages.items() for cat in cats}
    for e in shown:
        if Audience.person in e.audience:
            life.setdefault(e.category, []).append(e)
        if Audience.legal in e.audience:
            stages.setdefault(stage_of.get(e.category, OTHER), []).append(e)
        for d in departments(e) or [OTHER]:
            depts.setdefault(d, []).append(e)
    featured = [
        {
            "key": "yijianshi",
            "title": "高效办成一件事",
            "items": [item(e) for e in shown if e.kind is Kind.bundle],
        },
        {
            "key": "province_first",
            "title": PROVINCE_FIRST,
            "items": [item(e) for e in shown if PROVINCE_FIRST in e.tags],
        },
    ]
    for s in profile.sites:
        if s.id == CITY or (site and s.id != site):
            continue
        local = [item(e) for e in shown if s.id in e.sites]
        if local:
            featured.append({"key": f"site-{s.id}", "title": f"{s.name}特色一件事", "items": local})
    where = profile.site(site)
    return {
        "bureau": profile.name,
        "site": where.id,
        "site_name": where.name,
        "count": len(shown),
        "featured": [g for g in featured if g["items"]],
        "views": [
            {"key": "life_event", "title": "按人生事件", "groups": _groups(life)},
            {
                "key": "enterprise_stage",
                "title": "按企业阶段",
                "groups": _groups(stages, [*profile.enterprise_stages, OTHER]),
            },
            {"key": "department", "title": "按部门", "groups": _groups(depts)},
        ],
    }
