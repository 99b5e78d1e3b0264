"""``GET /api/audit``: the append-only audit log of the knowledge editor (read only — the app has no
way to change or delete a record, and the database refuses it too)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from web.deps import StaffUser, WorkflowDep
from web.editor_schemas import AuditPublic, AuditsPublic

router = APIRouter(prefix="/api/audit", tags=["audit"], responses={401: {"description": "not logged in"}})


@router.get("", response_model=AuditsPublic)
def audit_log(
    _: StaffUser,
    workflow: WorkflowDep,
    entry_id: str | None = Query(None, max_length=80),
    limit: int = Query(200, ge=1, le=2000),
) -> AuditsPublic:
    """Who did what to which entry and when, newest first."""
    records = [AuditPublic(**r.__dict__) for r in workflow.audit(entry_id, limit)]
    return AuditsPublic(data=records, count=len(records))
