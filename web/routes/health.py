"""``GET /healthz``: each component's state; 200 only when all are up."""

from __future__ import annotations

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from core.db import engine_for
from web.deps import LiveDep, RasaDep, SettingsDep

router = APIRouter(tags=["health"])


@router.get("/healthz", responses={503: {"description": "a component is down (components says which)"}})
async def healthz(settings: SettingsDep, live: LiveDep, rasa: RasaDep) -> JSONResponse:
    components: dict[str, dict[str, object]] = {}
    components["rasa"] = {"ok": await rasa.healthy()}
    health_url = settings.action_server_url.rsplit("/", 1)[0] + "/health"
    try:
        async with httpx.AsyncClient(timeout=3) as client:
            r = await client.get(health_url)
        components["actions"] = {"ok": r.status_code == 200}
    except httpx.HTTPError as exc:
        components["actions"] = {"ok": False, "error": type(exc).__name__}
    try:
        with engine_for(settings.database_url).connect() as conn:
            conn.execute(text("SELECT 1"))
        components["database"] = {"ok": True}
    except Exception as exc:  # any driver error means "down"
        components["database"] = {"ok": False, "error": type(exc).__name__}
    components["index"] = {
        "ok": live.ready and live.last_error is None,
        "entries": len(live.engine.entries),
        "knowledge_version": live.engine.knowledge_version,
    }
    ok = all(bool(c["ok"]) for c in components.values())
    body: dict[str, object] = {"ok": ok, "components": components}
    if not ok:
        body["detail"] = "down: " + ", ".join(name for name, c in components.items() if not c["ok"])
    return JSONResponse(body, status_code=200 if ok else 503)
