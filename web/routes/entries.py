"""Knowledge entries for editors: list and search, create, read, save the working copy, discard,
and preview the chat card and the /guide page.

Reading needs any staff login (agents too); writing needs an editor or admin (POST/PUT/DELETE also
need the X-CSRF-Token header). Saving is optimistic: send the ``lock_version`` you loaded; when
someone saved in between, the answer is 409 with their content and how it differs from yours.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response

from knowledge.diff import diff_entries
from knowledge.errors import DraftConflict
from knowledge.models import Status
from knowledge.render import card, html_page
from knowledge.validation import check_entry
from knowledge.workflow import EntryState
from web.deprecated import refuse_shadowed_id
from web.deps import EditorUser, LiveDep, StaffUser, TriageUser, WorkflowDep, actor
from web.editor_schemas import (
    EntriesPublic,
    EntryCreate,
    EntryPublic,
    EntrySummary,
    EntryUpdate,
    PreviewPublic,
    PreviewRequest,
    TrialPublic,
    TrialRequest,
)
from web.errors import ENTRY_ERRORS
from web.schemas import DB_INT_MAX
from web.trial import trial

router = APIRouter(
    prefix="/api/entries",
    tags=["entries"],
    responses={
        401: {"description": "not logged in"},
        403: {"description": "role not allowed, or no X-CSRF-Token"},
    },
)


def _matches(
    state: EntryState,
    q: str,
    kind: str | None,
    category: str | None,
    status: str | None,
    reviewed_before: dt.date | None,
) -> bool:
    content = state.content
    if kind and content.get("kind") != kind:
        return False
    if category and content.get("category") != category:
        return False
    if status and status not in (state.status, state.live_status):
        return False
    # never reviewed (no date) counts as due for review
    if reviewed_before and str(content.get("reviewed_at") or "") >= reviewed_before.isoformat():
        return False
    if q:
        hay = [state.id, content.get("title", ""), content.get("category", ""), content.get("summary", "")]
        hay += content.get("aliases", []) + content.get("similar_questions", [])
        hay += [m.get("name", "") for m in content.get("materials", [])]
        needle = q.strip().lower()
        return any(needle in str(h).lower() for h in hay)
    return True


@router.get("", response_model=EntriesPublic)
def list_entries(
    _: StaffUser,
    workflow: WorkflowDep,
    q: str = Query(
        "", max_length=200, description="text in the id, title, aliases, questions, summary, materials"
    ),
    kind: str | None = Query(None, pattern="^(bundle|matter|faq)$"),
    category: str | None = Query(None, max_length=80),
    status: Annotated[
        Status | None, Query(description="draft / review (pending change), published, unpublished")
    ] = None,
    reviewed_before_days: int | None = Query(
        None, ge=0, le=36500, description="only entries last reviewed more than this many days ago"
    ),
) -> EntriesPublic:
    before = (
        dt.date.today() - dt.timedelta(days=reviewed_before_days)
        if reviewed_before_days is not None
        else None
    )
    states = [
        s for s in workflow.all() if _matches(s, q, kind, category, status.value if status else None, before)
    ]
    return EntriesPublic(data=[EntrySummary.of(s) for s in states], count=len(states))


@router.post("", response_model=EntryPublic, status_code=201, responses=ENTRY_ERRORS)
def create_entry(body: EntryCreate, user: EditorUser, workflow: WorkflowDep) -> EntryPublic:
    """Create a new entry as a draft."""
    refuse_shadowed_id(body.entry.get("id"))
    return EntryPublic.of(workflow.create(body.entry, actor(user)))


@router.post("/preview", response_model=PreviewPublic, responses={422: ENTRY_ERRORS[422]})
def preview(body: PreviewRequest, _: TriageUser) -> PreviewPublic:
    """The chat card and the /guide page of an entry as sent (not saved), to check before publishing."""
    raw: dict[str, Any] = {**body.entry, "status": "draft", "version": body.entry.get("version") or 1}
    entry = check_entry(raw, frozenset(body.entry.get("related") or []) - {body.entry.get("id")})
    try:
        payload = card(entry, body.parts, body.answers)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return PreviewPublic(card=payload, guide_html=html_page(entry, body.answers))


@router.post("/try", response_model=TrialPublic, responses={422: ENTRY_ERRORS[422]})
def try_question(body: TrialRequest, _: TriageUser, live: LiveDep) -> TrialPublic:
    """试一试: which entry the assistant would answer ``question`` with, which part, and the score, with
    the entry as sent (a draft, not saved or published) in place of its live version."""
    raw: dict[str, Any] = {**body.entry, "status": "draft", "version": body.entry.get("version") or 1}
    entry = check_entry(raw, frozenset(body.entry.get("related") or []) - {body.entry.get("id")})
    return trial(live.engine, entry, body.question.strip())


@router.get("/{entry_id}", response_model=EntryPublic, responses=ENTRY_ERRORS)
def get_entry(entry_id: str, _: StaffUser, workflow: WorkflowDep, response: Response) -> EntryPublic:
    """The entry's working copy (when a change is pending) or its live content, with its lock_version."""
    response.headers["Cache-Control"] = "no-store"
    return EntryPublic.of(workflow.get(entry_id))


@router.put("/{entry_id}", response_model=EntryPublic, responses=ENTRY_ERRORS)
def save_entry(
    entry_id: str, body: EntryUpdate, user: EditorUser, workflow: WorkflowDep, request: Request
) -> EntryPublic:
    """Save the working copy as a draft (an edit of a change in review withdraws it from review)."""
    try:
        state = workflow.save(entry_id, body.entry, body.lock_version, actor(user))
    except DraftConflict as exc:  # show what the saved version has that yours has not
        if exc.current is not None:
            request.state.conflict_changes = [c.to_dict() for c in diff_entries(body.entry, exc.current)]
        raise
    return EntryPublic.of(state)


@router.delete("/{entry_id}", responses=ENTRY_ERRORS)
def delete_entry(
    entry_id: str,
    user: EditorUser,
    workflow: WorkflowDep,
    lock_version: int | None = Query(None, ge=0, le=DB_INT_MAX),
) -> dict[str, Any]:
    """Discard the pending change (a never-published entry disappears). Without a pending change an
    admin may delete an unpublished entry; its versions and audit records are kept."""
    state = workflow.get(entry_id)
    if state.working is None and user.role != "admin":
        raise HTTPException(403, "只有管理员可以删除已发布过的条目（请先下线）。")
    left = workflow.discard(entry_id, actor(user), lock_version, delete_live=user.role == "admin")
    return {"ok": True, "entry": EntryPublic.of(left).model_dump(mode="json") if left else None}
