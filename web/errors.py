"""Domain errors as HTTP answers — the one place they become status codes. The packages raise errors
that know nothing of HTTP (``knowledge.errors``, ``handoff.errors``); the routes let them through and
:func:`install` answers them.

Tickets (``handoff.errors``):

- 404 ``TicketNotFound``; 403 ``NotTicketHolder`` (held by another agent); 409 ``TicketConflict`` (not
  in a state that allows the action, e.g. claimed by someone else first); 400 any other ``HandoffError``

Knowledge entries (``knowledge.errors``):

- 404 ``EntryNotFound``
- 409 ``DraftConflict`` (someone saved since you loaded: their content and what differs from yours),
  ``InvalidTransition`` (not allowed in this state), ``EntryExists``
- 422 ``EntryInvalid`` (``errors``: field path + message, shown beside the field),
  ``ValidationFailed`` (an import: ``problems`` by sheet/row or file/line; nothing was imported)
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from handoff.errors import HandoffError, NotTicketHolder, TicketConflict, TicketNotFound
from knowledge.errors import (
    DraftConflict,
    EntryExists,
    EntryInvalid,
    EntryNotFound,
    InvalidTransition,
    Problem,
    SelfReview,
    ValidationFailed,
)

HANDOFF_STATUS: dict[type[HandoffError], int] = {
    TicketNotFound: 404,
    NotTicketHolder: 403,
    TicketConflict: 409,
}

ENTRY_ERRORS: dict[int | str, dict[str, str]] = {
    404: {"description": "no such entry"},
    409: {"description": "changed by someone else since lock_version, or not allowed in this state"},
    422: {"description": "invalid entry: errors[] name the field (e.g. materials.0.name)"},
}


def problem_dict(p: Problem) -> dict[str, str | None]:
    return {
        "source": p.source,
        "entry_id": p.entry_id,
        "field": p.field,
        "message": p.message,
        "text": f"{p.source} {p.field}: {p.message}",
    }


def handoff_status(exc: HandoffError) -> int:
    for cls in type(exc).__mro__:
        if cls in HANDOFF_STATUS:
            return HANDOFF_STATUS[cls]
    return 400


def install(app: FastAPI) -> None:
    @app.exception_handler(HandoffError)
    async def _handoff(_: Request, exc: HandoffError) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.message, "ticket_id": exc.ticket_id}, status_code=handoff_status(exc)
        )

    @app.exception_handler(EntryNotFound)
    async def _not_found(_: Request, exc: EntryNotFound) -> JSONResponse:
        return JSONResponse({"detail": f"没有条目「{exc.entry_id}」"}, status_code=404)

    @app.exception_handler(DraftConflict)
    async def _conflict(request: Request, exc: DraftConflict) -> JSONResponse:
        body = {
            "detail": (
                f"保存冲突：条目「{exc.entry_id}」在您打开之后已被 {exc.updated_by} 修改"
                f"（修改序号：您打开时为 {exc.expected}，现在为 {exc.actual}）。"
                "您的修改没有保存；请查看对方的修改，重新打开后再改。"
            ),
            "conflict": True,
            "lock_version": exc.actual,
            "updated_by": exc.updated_by,
            "current": exc.current,
            "changes": getattr(request.state, "conflict_changes", []),
        }
        return JSONResponse(jsonable_encoder(body), status_code=409)

    @app.exception_handler(SelfReview)
    async def _self_review(_: Request, exc: SelfReview) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "entry_id": exc.entry_id}, status_code=403)

    @app.exception_handler(InvalidTransition)
    async def _transition(_: Request, exc: InvalidTransition) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(EntryExists)
    async def _exists(_: Request, exc: EntryExists) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(EntryInvalid)
    async def _invalid(_: Request, exc: EntryInvalid) -> JSONResponse:
        errors = [p.to_dict() for p in exc.problems]
        detail = "；".join(f"{p.field}：{p.message}" for p in exc.problems[:5])
        return JSONResponse({"detail": f"内容有误：{detail}", "errors": errors}, status_code=422)

    @app.exception_handler(ValidationFailed)
    async def _import(_: Request, exc: ValidationFailed) -> JSONResponse:
        problems = [problem_dict(p) for p in exc.problems]
        return JSONResponse(
            {"detail": f"发现 {len(problems)} 处问题，没有导入任何内容。", "problems": problems},
            status_code=422,
        )
