"""The review workflow of an entry: submit, approve, reject, publish, unpublish, versions, diff, rollback.

Editors (and admins) submit drafts for review; reviewers (and admins) approve — which publishes —,
send back with a comment, publish, unpublish and roll back. Publishing, unpublishing and rolling back
reach every process's search index and the assistant's answers within seconds. Every action is
recorded in the append-only audit log (``GET /api/audit``).
"""

from __future__ import annotations

from fastapi import APIRouter, Query

from knowledge.diff import unified
from web.deps import EditorUser, ReviewerUser, StaffUser, WorkflowDep, actor
from web.editor_schemas import (
    ChangePublic,
    DiffPublic,
    EntryPublic,
    RejectRequest,
    RollbackRequest,
    VersionPublic,
    VersionsPublic,
    WorkflowRequest,
)
from web.errors import ENTRY_ERRORS

router = APIRouter(
    prefix="/api/entries/{entry_id}",
    tags=["entry workflow"],
    responses={
        401: {"description": "not logged in"},
        403: {"description": "role not allowed, or no X-CSRF-Token"},
        **ENTRY_ERRORS,
    },
)
VERSION_REF = r"^(\d+|live|draft)$"


@router.post("/submit", response_model=EntryPublic)
def submit(
    entry_id: str, user: EditorUser, workflow: WorkflowDep, body: WorkflowRequest | None = None
) -> EntryPublic:
    """Send the draft to review (editor, admin)."""
    body = body or WorkflowRequest()
    return EntryPublic.of(workflow.submit(entry_id, actor(user), body.lock_version))


@router.post("/approve", response_model=EntryPublic)
def approve(
    entry_id: str, user: ReviewerUser, workflow: WorkflowDep, body: WorkflowRequest | None = None
) -> EntryPublic:
    """Approve the change in review and publish it as a new version (reviewer, admin)."""
    body = body or WorkflowRequest()
    return EntryPublic.of(workflow.approve(entry_id, actor(user), body.lock_version, body.comment))


@router.post("/reject", response_model=EntryPublic)
def reject(entry_id: str, body: RejectRequest, user: ReviewerUser, workflow: WorkflowDep) -> EntryPublic:
    """Send the change back to the editors as a draft, with a comment (reviewer, admin)."""
    return EntryPublic.of(workflow.reject(entry_id, actor(user), body.comment, body.lock_version))


@router.post("/publish", response_model=EntryPublic)
def publish(
    entry_id: str, user: ReviewerUser, workflow: WorkflowDep, body: WorkflowRequest | None = None
) -> EntryPublic:
    """Publish the pending change (draft or in review) as a new version, or put an unpublished entry
    back online (reviewer, admin)."""
    body = body or WorkflowRequest()
    return EntryPublic.of(workflow.publish(entry_id, actor(user), body.lock_version, body.comment))


@router.post("/unpublish", response_model=EntryPublic)
def unpublish(
    entry_id: str, user: ReviewerUser, workflow: WorkflowDep, body: WorkflowRequest | None = None
) -> EntryPublic:
    """Take the entry offline: the assistant stops using it within seconds (reviewer, admin)."""
    body = body or WorkflowRequest()
    return EntryPublic.of(workflow.unpublish(entry_id, actor(user), body.comment))


@router.post("/rollback", response_model=EntryPublic)
def rollback(entry_id: str, body: RollbackRequest, user: ReviewerUser, workflow: WorkflowDep) -> EntryPublic:
    """Publish the content of an earlier version again, as a new version (reviewer, admin)."""
    return EntryPublic.of(workflow.rollback(entry_id, body.version, actor(user), body.comment))


@router.get("/versions", response_model=VersionsPublic)
def versions(entry_id: str, _: StaffUser, workflow: WorkflowDep) -> VersionsPublic:
    """Every published version, newest first."""
    state = workflow.get(entry_id)
    items = [VersionPublic(**v.__dict__) for v in workflow.versions(entry_id)]
    return VersionsPublic(
        data=items,
        count=len(items),
        live_version=state.live_version,
        live_status=state.live_status,
        has_draft=state.working is not None,
    )


@router.get("/diff", response_model=DiffPublic)
def diff(
    entry_id: str,
    _: StaffUser,
    workflow: WorkflowDep,
    a: str = Query("live", pattern=VERSION_REF, description="a version number, live or draft"),
    b: str = Query("draft", pattern=VERSION_REF, description="a version number, live or draft"),
) -> DiffPublic:
    """What changed from version ``a`` to version ``b``, field by field (list items one by one)."""
    old, new = workflow.version_data(entry_id, a), workflow.version_data(entry_id, b)
    changes = [ChangePublic(**c.to_dict()) for c in workflow.diff(entry_id, a, b)]
    names = {"live": "线上版本", "draft": "待发布修改"}
    return DiffPublic(
        entry_id=entry_id,
        a=a,
        b=b,
        changes=changes,
        unified=unified(old, new, names.get(a, f"版本 {a}"), names.get(b, f"版本 {b}")),
    )
