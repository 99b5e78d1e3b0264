"""Gap mining for editors: the questions the assistant could not answer well, clustered by meaning.

``GET /api/gaps`` groups the open gaps (abstained, low confidence, rated 没用, ended in a handoff) with
the live engine's encoder and gives counts and last-seen dates. One action closes a cluster: add a
question to an entry as a similar question (a draft change, reviewed like any other), start a new
entry draft from it, mark it out of scope (the assistant declines such questions from then on, no
retraining), or dismiss it. Clusters of noise (only masked numbers, test typing) are left out unless
asked for, and the entry the engine leaned towards is proposed as the target only when it scored at
least ``GAP_TARGET_MIN_SCORE``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from core.db import utcnow
from knowledge.gaps import DISMISSED, OUT_OF_SCOPE, REASONS, RESOLVED
from web.deprecated import refuse_shadowed_id
from web.deps import EditorUser, GapsDep, LiveDep, SettingsDep, StaffUser, TriageUser, WorkflowDep, actor
from web.editor_schemas import (
    EntryPublic,
    GapActionPublic,
    GapAddQuestion,
    GapIds,
    GapNewEntry,
    GapsPublic,
    cluster_public,
)
from web.errors import ENTRY_ERRORS

router = APIRouter(
    prefix="/api/gaps",
    tags=["gaps"],
    responses={
        401: {"description": "not logged in"},
        403: {"description": "role not allowed, or no X-CSRF-Token"},
    },
)


@router.get("", response_model=GapsPublic)
def list_gaps(
    _: StaffUser,
    gaps: GapsDep,
    live: LiveDep,
    settings: SettingsDep,
    workflow: WorkflowDep,
    days: int = Query(90, ge=1, le=3650, description="gaps recorded in the last this many days"),
    reason: Annotated[list[str] | None, Query(description=" | ".join(REASONS))] = None,
    include_noise: bool = Query(False, description="also list noise clusters (masked numbers, test typing)"),
) -> GapsPublic:
    since = utcnow() - dt.timedelta(days=days)
    wanted = {r for r in reason or [] if r in REASONS} or None
    clusters = gaps.clusters(
        live.engine.encoder.encode_questions, settings.gap_cluster_similarity, since, wanted
    )
    titles = {s.id: str(s.content.get("title", s.id)) for s in workflow.all()}
    noise = [c for c in clusters if c.noise]
    shown = clusters if include_noise else [c for c in clusters if not c.noise]
    return GapsPublic(
        data=[cluster_public(c, titles, settings.gap_target_min_score) for c in shown],
        count=len(shown),
        open_gaps=sum(c.count for c in shown),
        noise_clusters=0 if include_noise else len(noise),
        noise_gaps=0 if include_noise else sum(c.count for c in noise),
    )


@router.post("/add-question", response_model=GapActionPublic, responses=ENTRY_ERRORS)
def add_question(
    body: GapAddQuestion, user: EditorUser, gaps: GapsDep, workflow: WorkflowDep
) -> GapActionPublic:
    """Add ``question`` to the entry's similar questions as a draft change; the cluster is closed."""
    state = workflow.add_question(body.entry_id, body.question, actor(user))
    closed = gaps.close(body.gap_ids, RESOLVED, user.username, body.entry_id)
    return GapActionPublic(closed=closed, entry=EntryPublic.of(state))


@router.post("/new-entry", response_model=GapActionPublic, status_code=201, responses=ENTRY_ERRORS)
def new_entry(body: GapNewEntry, user: EditorUser, gaps: GapsDep, workflow: WorkflowDep) -> GapActionPublic:
    """Start a new entry draft whose similar questions are the cluster's questions."""
    refuse_shadowed_id(body.entry_id)
    state = workflow.create_from_questions(
        body.entry_id, body.title, gaps.questions(body.gap_ids), actor(user)
    )
    closed = gaps.close(body.gap_ids, RESOLVED, user.username, body.entry_id)
    return GapActionPublic(closed=closed, entry=EntryPublic.of(state))


@router.post("/dismiss", response_model=GapActionPublic)
def dismiss(body: GapIds, user: TriageUser, gaps: GapsDep, workflow: WorkflowDep) -> GapActionPublic:
    """Nothing to add to the knowledge (e.g. chit-chat, out of scope): hide the cluster."""
    questions = gaps.questions(body.gap_ids)
    closed = gaps.close(body.gap_ids, DISMISSED, user.username)
    if closed:
        workflow.record(
            actor(user), "dismiss_gaps", comment=f"{closed} 条：{questions[0] if questions else ''}"
        )
    return GapActionPublic(closed=closed)


@router.post("/out-of-scope", response_model=GapActionPublic)
def mark_out_of_scope(
    body: GapIds, user: TriageUser, gaps: GapsDep, workflow: WorkflowDep
) -> GapActionPublic:
    """Not a government-service question (weather, shares, chit-chat): the questions become examples of
    the engine's out-of-scope check, so the assistant declines such questions from now on (every
    process follows within seconds, no retraining); the cluster is closed."""
    questions = gaps.questions(body.gap_ids)
    closed = gaps.close(body.gap_ids, OUT_OF_SCOPE, user.username)
    if closed:
        workflow.record(actor(user), "mark_out_of_scope", comment=f"{closed} 条：{'、'.join(questions[:5])}")
    return GapActionPublic(closed=closed)
