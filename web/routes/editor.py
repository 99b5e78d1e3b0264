"""The knowledge editor page ``/editor`` (its data comes from the role-checked APIs)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

router = APIRouter(tags=["editor"])

# The editor builds its DOM with textContent only and loads nothing from elsewhere. The /guide preview
# is a sandboxed iframe (no scripts) whose srcdoc is the server-rendered, escaped page.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@router.get("/editor", include_in_schema=False)
async def editor_page() -> FileResponse:
    from web.app import STATIC

    return FileResponse(STATIC / "editor" / "index.html", headers=SECURITY_HEADERS)
