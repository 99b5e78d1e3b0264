"""The JSON of the knowledge editor's API (entries, workflow, versions, import/export, gaps, stats)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from knowledge.gaps import GapCluster
from knowledge.workflow import STATE_TITLES, EntryState
from web.schemas import DB_INT_MAX, UtcDateTime

ENTRY_DOC = "the entry's fields as in docs/knowledge-schema.md (status and version are set by the workflow)"


class EntryCreate(BaseModel):
    entry: dict[str, Any] = Field(description=ENTRY_DOC)


class EntryUpdate(BaseModel):
    entry: dict[str, Any] = Field(description=ENTRY_DOC)
    lock_version: int = Field(
        ge=0, le=DB_INT_MAX, description="the lock_version you loaded; 409 when someone saved since"
    )


class WorkflowRequest(BaseModel):
    lock_version: int | None = Field(
        None,
        ge=0,
        le=DB_INT_MAX,
        description="optional: refuse (409) when the entry changed since you looked at it",
    )
    comment: str = Field("", max_length=2000)


class RejectRequest(BaseModel):
    comment: str = Field(min_length=1, max_length=2000, description="why it goes back to the editor")
    lock_version: int | None = Field(None, ge=0, le=DB_INT_MAX)


class RollbackRequest(BaseModel):
    version: int = Field(
        ge=1, le=DB_INT_MAX, description="the published version whose content is published again"
    )
    comment: str = Field("", max_length=2000)


class PreviewRequest(BaseModel):
    entry: dict[str, Any] = Field(description=ENTRY_DOC)
    answers: dict[str, str] = Field(
        default_factory=dict, description="situation answers, e.g. {married: yes}"
    )
    parts: list[str] | None = Field(None, description="parts of the card (all when omitted)")


class PreviewPublic(BaseModel):
    card: dict[str, Any] = Field(description="the chat card payload exactly as the widget receives it")
    guide_html: str = Field(description="the /guide page, every piece of entry text escaped")


class TrialRequest(BaseModel):
    entry: dict[str, Any] = Field(description=ENTRY_DOC + " (the form as it is, saved or not)")
    question: str = Field(min_length=1, max_length=500, description="a question a citizen might ask")


class TrialHit(BaseModel):
    id: str
    title: str
    score: float
    this: bool = Field(description="the entry being tried")


class TrialPublic(BaseModel):
    question: str
    entry_id: str
    rank: int | None = Field(description="the tried entry's place (1 = answers), null when not in the top 5")
    score: float | None = Field(description="the tried entry's score, null when not in the top 5")
    answerable: bool = Field(description="the assistant would answer (else it declines, offering a person)")
    ambiguous: bool = Field(description="the first two are too close: the assistant asks which one")
    part: str | None = Field(description="the part of the guide the question asks for (null: all of it)")
    part_title: str
    verdict: str = Field(description="what the citizen would get, in one sentence")
    results: list[TrialHit]


class FieldError(BaseModel):
    field: str = Field(description="dotted path into the entry, e.g. materials.0.name")
    message: str


class EntrySummary(BaseModel):
    id: str
    title: str
    kind: str
    category: str
    status: str = Field(description="draft | review (a pending change) or published | unpublished")
    status_title: str
    live_status: str | None = Field(description="published | unpublished; null when never published")
    live_version: int | None
    has_draft: bool = Field(description="a change is pending (draft or in review)")
    lock_version: int
    reviewed_at: str
    comment: str = Field(description="the reviewer's last send-back comment")
    submitted_by: str | None
    updated_at: UtcDateTime | None
    updated_by: str | None

    @classmethod
    def of(cls, state: EntryState) -> EntrySummary:
        content = state.content
        return cls(
            id=state.id,
            title=str(content.get("title", "")),
            kind=str(content.get("kind", "")),
            category=str(content.get("category", "")),
            status=state.status,
            status_title=STATE_TITLES.get(state.status, state.status),
            live_status=state.live_status,
            live_version=state.live_version,
            has_draft=state.working is not None,
            lock_version=state.lock_version,
            reviewed_at=str(content.get("reviewed_at") or ""),
            comment=state.comment,
            submitted_by=state.submitted_by,
            updated_at=state.updated_at,
            updated_by=state.updated_by,
        )


class EntryPublic(EntrySummary):
    entry: dict[str, Any] = Field(description="the working copy when there is one, else the live content")

    @classmethod
    def of(cls, state: EntryState) -> EntryPublic:
        return cls(**EntrySummary.of(state).model_dump(), entry=state.content)


class EntriesPublic(BaseModel):
    data: list[EntrySummary]
    count: int


class VersionPublic(BaseModel):
    version: int
    created_at: UtcDateTime
    author: str
    title: str
    live: bool = Field(description="the version citizens are served now")
    notes: list[str]


class VersionsPublic(BaseModel):
    data: list[VersionPublic]
    count: int
    live_version: int | None
    live_status: str | None
    has_draft: bool


class ChangePublic(BaseModel):
    path: str
    label: str = Field(description="readable path, e.g. 申请材料「结婚证」 · 份数")
    field: str
    op: str = Field(description="added | removed | changed | reordered")
    before: Any = None
    after: Any = None
    text: str = Field(description="one readable line, e.g. 修改 申请材料「结婚证」 · 份数：1 → 2")


class DiffPublic(BaseModel):
    entry_id: str
    a: str
    b: str
    changes: list[ChangePublic]
    unified: list[str] = Field(description="the same as a unified diff of the two versions' YAML")


class ProblemPublic(BaseModel):
    source: str = Field(description="where: sheet 材料 row 12, entries.jsonl:3, entries.yml 第2个条目")
    entry_id: str | None
    field: str
    message: str
    text: str


class ImportPublic(BaseModel):
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    published: list[str] = Field(description="always empty: an import never publishes (kept for clients)")
    submitted: list[str] = Field(default=[], description="entries submitted for review (submit=true)")
    count: int = Field(description="entries created or updated")


class AuditPublic(BaseModel):
    id: int
    created_at: UtcDateTime
    actor: str
    role: str
    action: str
    entry_id: str | None
    version: int | None
    comment: str


class AuditsPublic(BaseModel):
    data: list[AuditPublic]
    count: int


# -- gaps ---------------------------------------------------------------------------------------


class GapQuestionPublic(BaseModel):
    text: str
    count: int
    last_seen: UtcDateTime


class GapClusterPublic(BaseModel):
    id: int
    label: str = Field(description="the most asked question of the cluster")
    count: int
    first_seen: UtcDateTime
    last_seen: UtcDateTime
    reasons: dict[str, int] = Field(description="abstained | low_confidence | unhelpful | handoff → count")
    questions: list[GapQuestionPublic]
    gap_ids: list[int]
    top_entries: list[dict[str, Any]] = Field(
        description="entries the engine leaned towards, with titles, counts and best scores"
    )
    noise: bool = Field(
        False, description="only masked numbers or test typing: nothing to add to the knowledge"
    )
    suggested_entry: str | None = Field(
        None, description="the target entry proposed for 加为相似问法 (only from GAP_TARGET_MIN_SCORE on)"
    )


class GapsPublic(BaseModel):
    data: list[GapClusterPublic]
    count: int
    open_gaps: int
    noise_clusters: int = Field(0, description="noise clusters left out (include_noise=false)")
    noise_gaps: int = Field(0, description="gap records in the noise clusters left out")


class GapIds(BaseModel):
    gap_ids: list[Annotated[int, Field(ge=1, le=DB_INT_MAX)]] = Field(min_length=1, max_length=5000)


class GapAddQuestion(GapIds):
    entry_id: str = Field(min_length=1, max_length=80)
    question: str = Field(min_length=1, max_length=500)


class GapNewEntry(GapIds):
    entry_id: str = Field(min_length=1, max_length=80, description="the new entry's id (slug)")
    title: str = Field(min_length=2, max_length=80)


class GapActionPublic(BaseModel):
    closed: int = Field(description="gap records closed by this action")
    entry: EntryPublic | None = None


# -- stats --------------------------------------------------------------------------------------


class StatsPublic(BaseModel):
    from_: str = Field(alias="from")
    to: str
    days: list[dict[str, Any]] = Field(
        description="per day: questions, answered, abstained, handed_off, other"
    )
    totals: dict[str, int]
    shares: dict[str, float] = Field(
        description="answered / abstained / handed_off / other shares of questions"
    )
    conversations: int
    feedback: dict[str, Any] = Field(description="好差评: 有用/没用 on answers and 1–5 conversation ratings")
    top_matters: list[dict[str, Any]]
    top_gaps: list[dict[str, Any]]
    gap_reasons: dict[str, int]


def cluster_public(
    c: GapCluster, titles: dict[str, str], min_score: float = 0.0, max_questions: int = 20
) -> GapClusterPublic:
    best = c.top_entries[0][0] if c.top_entries else None
    confident = best is not None and best in titles and c.top_scores.get(best, 0.0) >= min_score
    return GapClusterPublic(
        id=c.id,
        label=c.label,
        count=c.count,
        first_seen=c.first_seen,
        last_seen=c.last_seen,
        reasons=c.reasons,
        questions=[GapQuestionPublic(**q.__dict__) for q in c.questions[:max_questions]],
        gap_ids=c.gap_ids,
        top_entries=[
            {"entry_id": e, "title": titles.get(e, e), "count": n, "score": c.top_scores.get(e)}
            for e, n in c.top_entries
        ],
        noise=c.noise,
        suggested_entry=best if confident and not c.noise else None,
    )
