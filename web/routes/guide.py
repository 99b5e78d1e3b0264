"""Public pages: the demo bureau page ``/`` and each entry's printable 一次性告知单 with its QR code."""

from __future__ import annotations

import io

import qrcode
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from knowledge.render import html_page
from web.deps import LiveDep

router = APIRouter(tags=["guide"])


@router.get("/", include_in_schema=False)
async def index(request: Request) -> FileResponse:
    from web.app import STATIC

    return FileResponse(STATIC / "index.html")


@router.get("/guide/{entry_id}", response_class=HTMLResponse)
async def guide(entry_id: str, live: LiveDep) -> HTMLResponse:
    entry = live.engine.entries.get(entry_id)
    if entry is None:
        raise HTTPException(404, f"没有找到办事指南“{entry_id}”")
    return HTMLResponse(html_page(entry, qr_url=f"/guide/{entry.id}/qr.png"))


@router.get("/guide/{entry_id}/qr.png", responses={200: {"content": {"image/png": {}}}})
async def guide_qr(entry_id: str, live: LiveDep, request: Request) -> Response:
    if entry_id not in live.engine.entries:
        raise HTTPException(404, f"没有找到办事指南“{entry_id}”")
    img = qrcode.make(str(request.url_for("guide", entry_id=entry_id)))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return Response(buf.getvalue(), media_type="image/png")
