"""``create_app()``: the web app factory (tests call it directly)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.db import session_factory
from core.migrate import migrate
from core.settings import Settings, get_settings
from knowledge.gaps import GapMiner
from knowledge.workflow import Workflow
from retrieval.live import LiveSearch
from web import editor_errors
from web.auth import Auth
from web.conversations import Conversations
from web.handoffs import HandoffError, HandoffQueue
from web.rasa import RasaClient
from web.ratelimit import RateLimiter
from web.routes import (
    agent,
    assist,
    audit,
    auth,
    chat,
    editor,
    entries,
    entry_transfer,
    entry_workflow,
    feedback,
    gaps,
    guide,
    handoffs,
    health,
    search,
    stats,
)

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", []) if p != "body") or "body"
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if err.get("type") == "json_invalid":
            return "请求体不是有效的 JSON"
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


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
        if not app.state.live.ready:
            app.state.live.warm_up()
        app.state.live.start()
        yield
        app.state.live.stop()
        await app.state.rasa.aclose()

    app = FastAPI(
        title="办事e点通 API",
        description="岳阳市政务服务智能咨询：市民对话、知识检索、人工转接。",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.live = live or LiveSearch(settings)
    app.state.rasa = rasa or RasaClient(settings.rasa_url, settings.rasa_token, settings.rasa_timeout_s)
    sessions = session_factory(settings.database_url)
    app.state.conversations = Conversations(sessions)
    app.state.handoffs = HandoffQueue(sessions, app.state.conversations)
    app.state.auth = Auth(settings, sessions)
    app.state.limiter = RateLimiter(settings.chat_rate_limit)
    app.state.workflow = Workflow(sessions)  # the knowledge editor
    app.state.gaps = GapMiner(sessions)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            {"detail": _validation_message(exc), "errors": jsonable_encoder(exc.errors())},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(HandoffError)
    async def _handoff(_: Request, exc: HandoffError) -> JSONResponse:
        return JSONResponse({"detail": exc.message, "ticket_id": exc.ticket_id}, status_code=exc.status_code)

    app.include_router(chat.router)
    app.include_router(search.router)
    app.include_router(health.router)
    app.include_router(feedback.router)
    app.include_router(guide.router)
    app.include_router(auth.router)
    app.include_router(handoffs.router)
    app.include_router(assist.router)
    app.include_router(agent.router)
    # knowledge editor; import/export before entries so that /api/entries/export is not an entry id
    editor_errors.install(app)
    app.include_router(entry_transfer.router)
    app.include_router(entries.router)
    app.include_router(entry_workflow.router)
    app.include_router(gaps.router)
    app.include_router(stats.router)
    app.include_router(audit.router)
    app.include_router(editor.router)
    if STATIC.exists():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
