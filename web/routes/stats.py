"""``GET /api/stats``: the editors' dashboard over a period (questions per day, how they ended,
好差评, top matters asked, top gaps)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import select

from knowledge.gaps import cluster_rows
from knowledge.tables import GapRow
from web.deps import GapsDep, LiveDep, SettingsDep, StaffUser, WorkflowDep
from web.editor_schemas import StatsPublic, cluster_public
from web.stats import dashboard, utc_start

router = APIRouter(prefix="/api/stats", tags=["stats"], responses={401: {"description": "not logged in"}})
MAX_DAYS = 366


@router.get("", response_model=StatsPublic)
def stats(
    _: StaffUser,
    workflow: WorkflowDep,
    gaps: GapsDep,
    live: LiveDep,
    settings: SettingsDep,
    from_: Annotated[
        dt.date | None, Query(alias="from", description="first day (default: 29 days before to)")
    ] = None,
    to: Annotated[dt.date | None, Query(description="last day, inclusive (default: today)")] = None,
) -> StatsPublic:
    end = to or dt.date.today()
    start = from_ or end - dt.timedelta(days=29)
    if start > end:
        raise HTTPException(422, "from 不能晚于 to")
    if (end - start).days >= MAX_DAYS:
        raise HTTPException(422, f"统计区间最长 {MAX_DAYS} 天")
    titles = {s.id: str(s.content.get("title", s.id)) for s in workflow.all()}
    figures = dashboard(gaps.sessions, start, end, titles)
    with gaps.sessions() as s:
        rows = list(
            s.scalars(
                select(GapRow)
                .where(
                    GapRow.created_at >= utc_start(start),
                    GapRow.created_at < utc_start(end + dt.timedelta(days=1)),
                )
                .order_by(GapRow.id.desc())
                .limit(2000)
            )
        )
    clusters = cluster_rows(rows, live.engine.encoder.encode_questions, settings.gap_cluster_similarity)
    figures["top_gaps"] = [
        cluster_public(c, titles, max_questions=3).model_dump(mode="json", exclude={"gap_ids"})
        for c in [c for c in clusters if not c.noise][:10]  # (masked numbers, test typing: not a gap)
    ]
    return StatsPublic(**figures)
