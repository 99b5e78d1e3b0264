"""The static pages and their headers, in one place: the citizens' demo page ``/`` (with the chat
widget), the hotline agent console ``/agent`` and the knowledge editor ``/editor``. Their data comes
from the role-checked APIs; the files themselves are public. ``STATIC`` is also mounted at /static.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC = Path(__file__).parent / "static"

router = APIRouter(include_in_schema=False)

_COMMON = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

# The console builds its DOM with textContent only and loads nothing from elsewhere.
AGENT_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    **_COMMON,
}

# The editor likewise; its /guide preview is a sandboxed iframe (no scripts) whose srcdoc is the
# server-rendered, escaped page.
EDITOR_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    **_COMMON,
}


@router.get("/")
async def index() -> FileResponse:
    """The demo bureau page with the citizens' chat widget (a page a bureau embeds the widget in)."""
    return FileResponse(STATIC / "index.html")


@router.get("/agent")
async def agent_console() -> FileResponse:
    return FileResponse(STATIC / "agent" / "index.html", headers=AGENT_HEADERS)


@router.get("/editor")
async def editor_page() -> FileResponse:
    return FileResponse(STATIC / "editor" / "index.html", headers=EDITOR_HEADERS)
