"""``GET /healthz``: each component's state; 200 only when all are up (readiness).

While a component is down the answer is 503 with ``status: degraded`` and the names in ``degraded``;
the chat then answers with the degraded message (12345 / 转人工). ``GET /healthz/live`` only says the
web process itself answers (liveness: restarting the web app does not bring Rasa back);
``GET /healthz/ready`` checks what this web process needs to serve (database, index) — while Rasa is
down a ready web app still answers with the degraded message, so it stays in the load balancer.
"""

from __future__ import annotations

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from core.db import engine_for
from retrieval.live import LiveSearch
from web.deps import LiveDep, RasaDep, SettingsDep

router = APIRouter(tags=["health"])


def _database(url: str) -> dict[str, object]:
    try:
        with engine_for(url).connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "down"
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


def _index(live: LiveSearch) -> dict[str, object]:
    return {
        "ok": live.ready and live.last_error is None,
        "entries": len(live.engine.entries),
        "knowledge_version": live.engine.knowledge_version,
    }


@router.get("/healthz", responses={503: {"description": "a component is down (components says which)"}})
async def healthz(settings: SettingsDep, live: LiveDep, rasa: RasaDep) -> JSONResponse:
    components: dict[str, dict[str, object]] = {}
    up = await rasa.health()
    components["rasa"] = {"ok": all(up), "servers": len(up), "down": up.count(False)}
    health_url = settings.action_server_url.rsplit("/", 1)[0] + "/health"
    try:
        async with httpx.AsyncClient(timeout=3) as client:
            r = await client.get(health_url)
        components["actions"] = {"ok": r.status_code == 200}
    except httpx.HTTPError as exc:
        components["actions"] = {"ok": False, "error": type(exc).__name__}
    components["database"] = _database(settings.database_url)
    components["index"] = _index(live)
    degraded = [name for name, c in components.items() if not c["ok"]]
    ok = not degraded
    body: dict[str, object] = {
        "ok": ok,
        "status": "ok" if ok else "degraded",
        "degraded": degraded,
        "components": components,
    }
    if not ok:  # the API's error shape: 503 says what is down, for people
        body["detail"] = "down: " + ", ".join(degraded)
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/healthz/ready")
async def ready(settings: SettingsDep, live: LiveDep) -> JSONResponse:
    components = {"database": _database(settings.database_url), "index": _index(live)}
    ok = all(bool(c["ok"]) for c in components.values())
    body: dict[str, object] = {"ok": ok, "components": components}
    if not ok:
        body["detail"] = "down: " + ", ".join(name for name, c in components.items() if not c["ok"])
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/healthz/live")
async def live() -> dict[str, bool]:
    return {"ok": True}
