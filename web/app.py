"""``create_app()``: the web app factory (tests call it directly)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from conversations.store import Conversations
from core.accounts import DemoAccountsEnabled
from core.db import session_factory
from core.migrate import migrate
from core.settings import Settings, get_settings
from handoff.queue import HandoffQueue
from knowledge.gaps import GapMiner
from knowledge.render import not_found_page
from knowledge.workflow import Workflow
from ops.retention import purge
from retrieval.live import LiveSearch
from web import errors, pages
from web.auth import Auth
from web.client_address import ClientAddress
from web.contacts import BureauContacts
from web.conversation_binding import ConversationBinding
from web.deprecated import DeprecationHeader
from web.hardening import BodyLimit, SecurityHeaders
from web.limits import Limits
from web.openapi_errors import document_errors
from web.pages import STATIC
from web.rasa import RasaClient
from web.routes import (
    assist,
    audit,
    auth,
    chat,
    config,
    entries,
    entry_transfer,
    entry_workflow,
    feedback,
    gaps,
    guide,
    guides,
    handoffs,
    health,
    schema,
    search,
    stats,
)

log = logging.getLogger(__name__)
RETENTION_EVERY_S = 24 * 3600


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", []) if p != "body") or "body"
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if err.get("type") == "json_invalid":
            return "请求体不是有效的 JSON"
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


async def _purge(app: FastAPI) -> None:
    """Delete what is older than RETENTION_DAYS (ops/retention.py); a failed run must not stop the app."""
    try:
        counts = await run_in_threadpool(purge, app.state.sessions, app.state.settings.retention_days)
        if any(counts.values()):
            log.info("retention: deleted %s", counts)
    except Exception:
        log.exception("retention run failed")


async def _daily_retention(app: FastAPI) -> None:
    while True:
        await asyncio.sleep(RETENTION_EVERY_S)
        await _purge(app)


def create_app(
    settings: Settings | None = None, live: LiveSearch | None = None, rasa: RasaClient | None = None
) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            migrate(settings.database_url)
        if settings.environment == "local":
            try:
                created = app.state.auth.accounts.ensure_demo_accounts(settings.demo_password)
            except IntegrityError:  # another replica created them at the same moment: check again
                created = app.state.auth.accounts.ensure_demo_accounts(settings.demo_password)
            if created:
                log.info("demo accounts created (local mode): %s", ", ".join(created))
        elif enabled := app.state.auth.accounts.enabled_demo_accounts():
            raise DemoAccountsEnabled(enabled)
        await _purge(app)  # at start (before any request), then every day
        retention = asyncio.create_task(_daily_retention(app))
        if not app.state.live.ready:
            app.state.live.warm_up()
        app.state.live.start()
        yield
        retention.cancel()
        app.state.live.stop()
        await app.state.rasa.aclose()

    app = FastAPI(
        title="办事e点通 API",
        description="岳阳市政务服务智能咨询：市民对话、知识检索、人工转接。",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if settings.api_docs else None,
        redoc_url="/redoc" if settings.api_docs else None,
        openapi_url="/openapi.json" if settings.api_docs else None,
    )
    app.add_middleware(BodyLimit, max_body=settings.max_body_bytes, max_import=settings.max_import_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(DeprecationHeader)
    app.state.settings = settings
    app.state.live = live or LiveSearch(settings)
    app.state.rasa = rasa or RasaClient(settings.rasa_urls, settings.rasa_token, settings.rasa_timeout_s)
    sessions = session_factory(settings.database_url)
    app.state.sessions = sessions
    app.state.conversations = Conversations(sessions, BureauContacts(app.state.live, settings.hotline))
    app.state.handoffs = HandoffQueue(sessions, app.state.conversations)
    app.state.auth = Auth(settings, sessions)
    app.state.binding = ConversationBinding(
        settings.session_secret, sessions, settings.conversation_idle_s, settings.environment != "local"
    )
    app.state.client_address = ClientAddress(settings.trusted_proxies)
    app.state.limits = Limits.from_settings(settings)
    app.state.workflow = Workflow(sessions)  # the knowledge editor
    app.state.gaps = GapMiner(sessions)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # only a too-long chat message: 413, like the MAX_MESSAGE_CHARS check; anything else 422
        too_long = all(
            e.get("type") == "string_too_long" and tuple(e.get("loc", ()))[-1:] == ("message",)
            for e in exc.errors()
        )
        return JSONResponse(
            {"detail": _validation_message(exc), "errors": jsonable_encoder(exc.errors())},
            status_code=413 if too_long and exc.errors() else 422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and guide.wants_guide_page(request):
            return HTMLResponse(not_found_page(), status_code=404)  # an old QR code, a typo: a page
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    app.include_router(chat.router)
    app.include_router(search.router)
    app.include_router(health.router)
    app.include_router(feedback.router)
    app.include_router(guide.router)
    app.include_router(guides.router)
    app.include_router(config.router)
    app.include_router(schema.router)
    app.include_router(auth.router)
    app.include_router(handoffs.router)
    app.include_router(assist.router)
    app.include_router(pages.router)  # /, /agent, /editor
    # knowledge editor
    errors.install(app)  # tickets' and entries' errors as HTTP answers
    app.include_router(entry_transfer.router)
    # the deprecated /api/entries/import and /export before /api/entries/{entry_id} (web/deprecated.py)
    app.include_router(entry_transfer.legacy_router)
    app.include_router(entries.router)
    app.include_router(entry_workflow.router)
    app.include_router(gaps.router)
    app.include_router(stats.router)
    app.include_router(audit.router)
    if STATIC.exists():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")
    document_errors(app)
    return app
