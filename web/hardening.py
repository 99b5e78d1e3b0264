"""HTTP hardening of every response and request: security headers and a body-size limit.

- ``SecurityHeaders``: Content-Security-Policy, X-Frame-Options, Referrer-Policy, nosniff on every
  response (pages, API, files). Scripts only from this origin; the OpenAPI pages (``/docs``,
  ``/redoc``), which FastAPI builds from a CDN, get a policy allowing that CDN.
- ``BodyLimit``: a request body larger than ``MAX_BODY_BYTES`` (``MAX_IMPORT_BYTES`` for imports) is
  refused with 413 before anything parses it: at once when ``Content-Length`` says so, else as soon as
  the streamed body passes the limit.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
IMPORT_PATHS = ("/api/entry-transfer/import", "/api/entries/import")  # the second: deprecated alias


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        csp = DOCS_CSP if path.startswith(DOCS_PATHS) else CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [
                    (name, value)
                    for name, value in (
                        (b"content-security-policy", csp.encode()),
                        (b"x-frame-options", b"DENY"),
                        (b"referrer-policy", b"strict-origin-when-cross-origin"),
                        (b"x-content-type-options", b"nosniff"),
                    )
                    if name not in present  # a page with a stricter policy of its own keeps it
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` while a route reads the body; FastAPI re-raises HTTP exceptions from body
    parsing, so the client gets 413 (the app's handler), not 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"请求太大了（最多 {limit} 字节）。")


class BodyLimit:
    def __init__(self, app: ASGIApp, max_body: int, max_import: int) -> None:
        self.app, self.max_body, self.max_import = app, max_body, max_import

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_import if scope.get("path", "").startswith(IMPORT_PATHS) else self.max_body
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > limit:
                    await _refuse(send, limit)
                    return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _refuse(send, limit)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"请求太大了（最多 {limit} 字节）。"}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
