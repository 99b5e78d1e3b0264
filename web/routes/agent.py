"""The hotline agent console page ``/agent`` (its data comes from the role-checked APIs)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

router = APIRouter(tags=["agent"])

# The console builds its DOM with textContent only and loads nothing from elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@router.get("/agent", include_in_schema=False)
async def agent_console() -> FileResponse:
    from web.app import STATIC

    return FileResponse(STATIC / "agent" / "index.html", headers=SECURITY_HEADERS)
