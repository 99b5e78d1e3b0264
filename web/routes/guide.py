"""Public pages: the demo bureau page ``/`` and each entry's printable 一次性告知单 with its QR code."""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Annotated
from urllib.parse import quote

import qrcode
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from knowledge.errors import EntryNotFound
from knowledge.models import Entry, Status
from knowledge.render import SITE_PARAM, guide_query, html_page, known_answers
from retrieval.live import LiveSearch
from web.deps import LiveDep, SettingsDep
from web.limits import rate_limited

router = APIRouter(tags=["guide"])


def wants_guide_page(request: Request) -> bool:
    """A browser (not an API client) asking for a guide: a missing one is shown as a page."""
    path = request.url.path
    return (
        path.startswith("/guide/")
        and not path.endswith(".png")
        and "text/html" in request.headers.get("accept", "")
    )


def _answers(request: Request) -> dict[str, str]:
    """The citizen's situation answers carried in the link (``?married=yes&born_outside=no``); the
    renderer keeps only those naming the entry's own situations and options."""
    return {k: v for k, v in request.query_params.items() if k != SITE_PARAM}


def _published(live: LiveSearch, entry_id: str) -> Entry:
    """The entry as searched; one published seconds ago (the index follows the store every
    RELOAD_INTERVAL_S, and the action server may already link to it) is read from the store."""
    entry = live.engine.entries.get(entry_id)
    if entry is None:
        try:
            entry = live.store.get(entry_id)
        except EntryNotFound:
            entry = None
    if entry is None or entry.status is not Status.published:
        raise HTTPException(404, f"没有找到办事指南“{entry_id}”")
    return entry


@router.get("/guide/{entry_id}", response_class=HTMLResponse)
async def guide(
    entry_id: str,
    request: Request,
    live: LiveDep,
    site: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z][a-z0-9-]*$")] = None,
) -> HTMLResponse:
    """The printable 一次性告知单; ``site`` shows that 分站点's contacts (the city hall by default),
    other query parameters are the citizen's situation answers (the checklist is then theirs, and
    so is the QR code). An unknown id is a 404: a page for browsers (see ``wants_guide_page``)."""
    entry = await run_in_threadpool(_published, live, entry_id)
    answers = known_answers(entry, _answers(request))
    qr = f"/guide/{quote(entry.id, safe='')}/qr.png{guide_query(entry, answers, site)}"
    return HTMLResponse(html_page(entry, answers=answers, qr_url=qr, site=site))


@lru_cache(maxsize=512)
def qr_png(url: str) -> bytes:
    buf = io.BytesIO()
    qrcode.make(url).save(buf, format="PNG")
    return buf.getvalue()


@router.get(
    "/guide/{entry_id}/qr.png",
    responses={200: {"content": {"image/png": {}}}},
    dependencies=[Depends(rate_limited("search"))],
)
def guide_qr(
    entry_id: str,
    request: Request,
    live: LiveDep,
    settings: SettingsDep,
    site: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z][a-z0-9-]*$")] = None,
) -> Response:
    """The guide's QR code; it encodes PUBLIC_BASE_URL (never the request's Host header) and the
    citizen's situation answers and site, so the phone shows the same tailored checklist."""
    entry = _published(live, entry_id)
    query = guide_query(entry, known_answers(entry, _answers(request)), site)
    return Response(
        qr_png(f"{settings.base_url}/guide/{quote(entry.id, safe='')}{query}"), media_type="image/png"
    )
