"""The editorial workflow: working copies, review, publishing, versions, rollback and the audit log.

The live row of an entry (``entries``, what citizens are served) and its working copy
(``entry_drafts``) are kept apart: while an editor works on a change, the published version keeps
serving citizens, and only publishing (or unpublishing, or rolling back) changes the live row and
moves the knowledge version on, which every process's search index follows within seconds.

    (new) ──create──▶ draft ──submit──▶ review ──approve──▶ published (version n+1)
                        ▲  ◀──reject (comment)──┘               │  ▲
                        └──────────── edit ─────────────────────┘  └─ rollback to n (version n+2)
    published ──unpublish──▶ unpublished ──publish──▶ published

Every write is checked against the entry's lock version (optimistic locking) when the caller says
which version it last saw, and every action appends one record to the audit log.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.db import utcnow, writing
from knowledge.diff import Change, diff_entries
from knowledge.errors import (
    DraftConflict,
    EntryExists,
    EntryInvalid,
    EntryNotFound,
    FieldProblem,
    InvalidTransition,
    Problem,
    SelfReview,
    ValidationFailed,
)
from knowledge.models import Entry, Status
from knowledge.store import EntryStore
from knowledge.tables import AuditRow, EntryDraftRow, EntryRow, EntryVersionRow
from knowledge.validation import check_entry

DRAFT, REVIEW = Status.draft.value, Status.review.value
PUBLISHED, UNPUBLISHED = Status.published.value, Status.unpublished.value
STATE_TITLES = {DRAFT: "草稿", REVIEW: "待审核", PUBLISHED: "已发布", UNPUBLISHED: "已下线"}
# What each audit record's ``action`` did, as the editor's 操作日志 names it.
ACTION_TITLES = {
    "create": "新建",
    "edit": "修改",
    "submit": "提交审核",
    "reject": "退回修改",
    "approve": "审核通过",
    "publish": "发布",
    "unpublish": "下线",
    "rollback": "回滚",
    "discard": "放弃修改",
    "delete": "删除",
    "import": "导入",
    "add_question": "添加相似问法",
    "dismiss_gaps": "忽略问题",
    "mark_out_of_scope": "标记为超出范围",
}


@dataclass(frozen=True)
class Actor:
    username: str
    role: str


@dataclass(frozen=True)
class EntryState:
    """An entry as the editor sees it: the live row and the working copy, if any."""

    id: str
    live: dict[str, Any] | None  # the live row's content (published or unpublished)
    live_status: str | None
    live_version: int | None
    working: dict[str, Any] | None  # the pending change (draft or in review)
    state: str | None  # draft | review, when there is a working copy
    comment: str  # the reviewer's last send-back comment
    lock_version: int
    base_version: int | None
    submitted_by: str | None
    updated_at: dt.datetime | None
    updated_by: str | None

    @property
    def status(self) -> str:
        return self.state or self.live_status or DRAFT

    @property
    def content(self) -> dict[str, Any]:
        """What the editor edits: the working copy, else the live content."""
        content = self.working if self.working is not None else self.live
        assert content is not None
        return content


@dataclass(frozen=True)
class VersionInfo:
    version: int
    created_at: dt.datetime
    author: str
    title: str
    live: bool  # this version is what citizens are served now
    notes: list[str]  # audit comments recorded with this version (e.g. "回滚到版本 2")


@dataclass(frozen=True)
class AuditRecord:
    id: int
    created_at: dt.datetime
    actor: str
    role: str
    action: str
    entry_id: str | None
    version: int | None
    comment: str


def _record(row: AuditRow) -> AuditRecord:
    return AuditRecord(
        row.id, row.created_at, row.actor, row.role, row.action, row.entry_id, row.version, row.comment
    )


def _state(entry_id: str, live: EntryRow | None, draft: EntryDraftRow | None) -> EntryState | None:
    working = draft.data if draft is not None else None
    state = draft.state if draft is not None else None
    live_data: dict[str, Any] | None = None
    live_status = live_version = None
    if live is not None and live.status in (PUBLISHED, UNPUBLISHED):
        live_data, live_status, live_version = live.data, live.status, live.version
    elif live is not None and working is None:  # a never-published entry loaded by the CLI
        working, state = live.data, live.status
    if working is None and live_data is None:
        return None
    return EntryState(
        id=entry_id,
        live=live_data,
        live_status=live_status,
        live_version=live_version,
        working=working,
        state=state if working is not None else None,
        comment=draft.comment if draft is not None else "",
        lock_version=draft.lock_version if draft is not None else 0,
        base_version=draft.base_version if draft is not None else None,
        submitted_by=draft.submitted_by if draft is not None else None,
        updated_at=draft.updated_at if draft is not None else (live.updated_at if live else None),
        updated_by=draft.updated_by if draft is not None else (live.updated_by if live else None),
    )


def _four_eyes(entry_id: str, state: EntryState, actor: Actor) -> None:
    if state.submitted_by is not None and state.submitted_by == actor.username:
        raise SelfReview(entry_id, actor.username)


def _unreviewed(raw: dict[str, Any]) -> dict[str, Any]:
    """An editor's change is not reviewed: its review date is set only when a reviewer publishes it."""
    return {**raw, "reviewed_at": None}


def _reviewed_today(content: dict[str, Any]) -> dict[str, Any]:
    """Content a reviewer (or admin) approves and publishes now carries today's review date."""
    return {**content, "reviewed_at": dt.date.today().isoformat()}


def _same_content(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return not diff_entries(a, b)


class Workflow:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.store = EntryStore(sessions)

    # -- reading -------------------------------------------------------------------------------
    def get(self, entry_id: str) -> EntryState:
        with self.sessions() as s:
            state = _state(entry_id, s.get(EntryRow, entry_id), s.get(EntryDraftRow, entry_id))
        if state is None:
            raise EntryNotFound(entry_id)
        return state

    def all(self) -> list[EntryState]:
        with self.sessions() as s:
            lives = {r.id: r for r in s.scalars(select(EntryRow))}
            drafts = {r.entry_id: r for r in s.scalars(select(EntryDraftRow))}
        states = (_state(i, lives.get(i), drafts.get(i)) for i in sorted({*lives, *drafts}))
        return [st for st in states if st is not None]

    def versions(self, entry_id: str) -> list[VersionInfo]:
        state = self.get(entry_id)
        with self.sessions() as s:
            rows = list(
                s.scalars(
                    select(EntryVersionRow)
                    .where(EntryVersionRow.entry_id == entry_id)
                    .order_by(EntryVersionRow.version.desc())
                )
            )
            notes: dict[int, list[str]] = {}
            for a in s.scalars(
                select(AuditRow).where(AuditRow.entry_id == entry_id, AuditRow.version.is_not(None))
            ):
                if a.comment and a.version is not None:
                    notes.setdefault(a.version, []).append(a.comment)
        return [
            VersionInfo(
                r.version,
                r.created_at,
                r.author,
                str(r.data.get("title", "")),
                state.live_status == PUBLISHED and r.version == state.live_version,
                notes.get(r.version, []),
            )
            for r in rows
        ]

    def version_data(self, entry_id: str, ref: str) -> dict[str, Any]:
        """The content of a version: a number, ``live`` or ``draft`` (the working copy)."""
        state = self.get(entry_id)
        if ref == "draft":
            if state.working is None:
                raise InvalidTransition(entry_id, "这个条目没有待发布的修改")
            return state.working
        if ref == "live":
            if state.live is None:
                raise InvalidTransition(entry_id, "这个条目还没有发布过")
            return state.live
        with self.sessions() as s:
            row = s.scalars(
                select(EntryVersionRow).where(
                    EntryVersionRow.entry_id == entry_id, EntryVersionRow.version == int(ref)
                )
            ).first()
        if row is None:
            raise EntryNotFound(f"{entry_id}@{ref}")
        return row.data

    def diff(self, entry_id: str, a: str, b: str) -> list[Change]:
        return diff_entries(self.version_data(entry_id, a), self.version_data(entry_id, b))

    def audit(self, entry_id: str | None = None, limit: int = 200) -> list[AuditRecord]:
        """The audit log, newest first (read only: nothing in the app changes or deletes it)."""
        with self.sessions() as s:
            q = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
            if entry_id is not None:
                q = q.where(AuditRow.entry_id == entry_id)
            return [_record(r) for r in s.scalars(q)]

    # -- editing -------------------------------------------------------------------------------
    def create(self, raw: dict[str, Any], actor: Actor) -> EntryState:
        entry_id = str(raw.get("id") or "")
        with writing(self.sessions, EntryDraftRow) as s:
            live, draft = s.get(EntryRow, entry_id), s.get(EntryDraftRow, entry_id)
            if _state(entry_id, live, draft) is not None:
                raise EntryExists(entry_id)
            entry = self._check(s, {**_unreviewed(raw), "status": DRAFT, "version": 1})
            self._set_working(s, entry.id, draft, entry.model_dump(mode="json"), DRAFT, actor, base=None)
            self._audit(s, actor, "create", entry.id)
        return self.get(entry.id)

    def save(self, entry_id: str, raw: dict[str, Any], expected_lock: int, actor: Actor) -> EntryState:
        """Save the working copy (a new draft, or an edit of one; an edit withdraws it from review)."""
        if raw.get("id", entry_id) != entry_id:
            raise EntryInvalid([FieldProblem("id", "编号不能修改")])
        with writing(self.sessions, EntryDraftRow) as s:
            _, draft, state = self._load(s, entry_id, expected_lock)
            base = state.live_version if state.working is None else state.base_version
            entry = self._check(
                s, {**_unreviewed(raw), "id": entry_id, "status": DRAFT, "version": base or 1}
            )
            self._set_working(s, entry_id, draft, entry.model_dump(mode="json"), DRAFT, actor, base=base)
            self._audit(s, actor, "edit", entry_id, comment="撤回审核并修改" if state.state == REVIEW else "")
        return self.get(entry_id)

    def submit(self, entry_id: str, actor: Actor, expected_lock: int | None = None) -> EntryState:
        with writing(self.sessions, EntryDraftRow) as s:
            _, draft, state = self._load(s, entry_id, expected_lock)
            if state.state != DRAFT or draft is None:
                raise InvalidTransition(entry_id, "只有草稿可以提交审核")
            draft.state, draft.submitted_by = REVIEW, actor.username
            self._touch(draft, actor)
            self._audit(s, actor, "submit", entry_id)
        return self.get(entry_id)

    def reject(
        self, entry_id: str, actor: Actor, comment: str, expected_lock: int | None = None
    ) -> EntryState:
        if not comment.strip():
            raise EntryInvalid([FieldProblem("comment", "请填写退回意见")])
        with writing(self.sessions, EntryDraftRow) as s:
            _, draft, state = self._load(s, entry_id, expected_lock)
            if state.state != REVIEW or draft is None:
                raise InvalidTransition(entry_id, "只有待审核的修改可以退回")
            draft.state, draft.comment = DRAFT, comment.strip()
            self._touch(draft, actor)
            self._audit(s, actor, "reject", entry_id, comment=comment.strip())
        return self.get(entry_id)

    def approve(
        self, entry_id: str, actor: Actor, expected_lock: int | None = None, comment: str = ""
    ) -> EntryState:
        """Approve a change in review and publish it."""
        with writing(self.sessions, EntryDraftRow) as s:
            live, draft, state = self._load(s, entry_id, expected_lock)
            if state.state != REVIEW:
                raise InvalidTransition(entry_id, "只有待审核的修改可以审核通过")
            _four_eyes(entry_id, state, actor)
            self._audit(s, actor, "approve", entry_id, comment=comment)
            self._publish_working(s, live, draft, state, actor, comment)
        return self.get(entry_id)

    def publish(
        self, entry_id: str, actor: Actor, expected_lock: int | None = None, comment: str = ""
    ) -> EntryState:
        """Publish the working copy once it was submitted for review, as its approval by someone other
        than the submitter; or put an unpublished entry back online (an approved version)."""
        with writing(self.sessions, EntryDraftRow) as s:
            live, draft, state = self._load(s, entry_id, expected_lock)
            if state.working is not None:
                if state.state != REVIEW:
                    raise InvalidTransition(entry_id, "草稿需要先提交审核，审核通过后才能发布")
                _four_eyes(entry_id, state, actor)
                self._audit(s, actor, "approve", entry_id, comment=comment)
                self._publish_working(s, live, draft, state, actor, comment)
            elif live is not None and state.live_status == UNPUBLISHED:
                entry = Entry.model_validate({**live.data, "status": PUBLISHED})
                self.store.put(s, entry, actor.username)
                self.store.bump(s)
                self._bump_lock(s, entry_id, draft, actor)
                self._audit(s, actor, "publish", entry_id, entry.version, comment or "重新上线")
            else:
                raise InvalidTransition(entry_id, "没有待发布的修改")
        return self.get(entry_id)

    def unpublish(self, entry_id: str, actor: Actor, comment: str = "") -> EntryState:
        """Take the entry offline: citizens stop getting it within seconds; every version is kept."""
        with writing(self.sessions, EntryDraftRow) as s:
            live, draft, state = self._load(s, entry_id, None)
            if live is None or state.live_status != PUBLISHED:
                raise InvalidTransition(entry_id, "只有已发布的条目可以下线")
            entry = Entry.model_validate({**live.data, "status": UNPUBLISHED})
            self.store.put(s, entry, actor.username)
            self.store.bump(s)
            self._bump_lock(s, entry_id, draft, actor)
            self._audit(s, actor, "unpublish", entry_id, entry.version, comment)
        return self.get(entry_id)

    def rollback(self, entry_id: str, version: int, actor: Actor, comment: str = "") -> EntryState:
        """Publish the content of ``version`` again, as a new version (history is never rewritten)."""
        old = self.version_data(entry_id, str(version))
        with writing(self.sessions, EntryDraftRow) as s:
            live, draft, _ = self._load(s, entry_id, None)
            new = self._publish_content(s, entry_id, old, live, actor)
            self._bump_lock(s, entry_id, draft, actor)
            note = f"回滚到版本 {version}" + (f"：{comment}" if comment else "")
            self._audit(s, actor, "rollback", entry_id, new, note)
        return self.get(entry_id)

    def discard(
        self, entry_id: str, actor: Actor, expected_lock: int | None = None, delete_live: bool = False
    ) -> EntryState | None:
        """Throw the working copy away; with ``delete_live``, delete an unpublished entry (its
        versions and audit records stay). Returns what is left, None when nothing is."""
        with writing(self.sessions, EntryDraftRow) as s:
            live, draft, state = self._load(s, entry_id, expected_lock)
            if state.working is not None:
                if live is not None and state.live is None:  # never published
                    s.delete(live)
                self._set_working(s, entry_id, draft, None, None, actor, base=None)
                self._audit(s, actor, "discard", entry_id)
            elif not delete_live:
                raise InvalidTransition(entry_id, "没有待发布的修改可以放弃")
            elif state.live_status == PUBLISHED or live is None:
                raise InvalidTransition(entry_id, "请先下线，再删除条目")
            else:
                s.delete(live)
                self.store.bump(s)
                self._bump_lock(s, entry_id, draft, actor)
                self._audit(s, actor, "delete", entry_id, state.live_version)
        try:
            return self.get(entry_id)
        except EntryNotFound:
            return None

    def add_question(self, entry_id: str, question: str, actor: Actor) -> EntryState:
        """Add a citizen's question as a similar question of the entry, as a draft change."""
        question = question.strip()
        if not question:
            raise EntryInvalid([FieldProblem("question", "问题不能为空")])
        with writing(self.sessions, EntryDraftRow) as s:
            _, draft, state = self._load(s, entry_id, None)
            content = copy.deepcopy(state.content)
            if question in content.get("similar_questions", []):
                return state
            content["similar_questions"] = [*content.get("similar_questions", []), question]
            base = state.live_version if state.working is None else state.base_version
            entry = self._check(s, {**content, "status": DRAFT, "version": base or 1})
            self._set_working(s, entry_id, draft, entry.model_dump(mode="json"), DRAFT, actor, base=base)
            self._audit(s, actor, "add_question", entry_id, comment=question)
        return self.get(entry_id)

    def create_from_questions(
        self, entry_id: str, title: str, questions: list[str], actor: Actor
    ) -> EntryState:
        """Start a new entry draft from questions the assistant could not answer."""
        raw = {
            "id": entry_id,
            "title": title,
            "kind": "faq",
            "category": "待分类",
            "audience": ["个人"],
            "similar_questions": list(dict.fromkeys(q.strip() for q in questions if q.strip())),
            "summary": "（待填写：根据市民提问新建的条目，请补全内容后提交审核）",
            "source": "待填写",
            "sample": True,
        }
        return self.create(raw, actor)

    def import_entries(
        self, items: Iterable[tuple[Entry, str]], actor: Actor, submit: bool = False
    ) -> dict[str, list[str]]:
        """Set already validated entries as drafts (``submit``: as changes awaiting review), all or
        nothing. Nothing is published by an import: as every change, an imported one is approved and
        published by someone other than the person who submitted it.

        ``items`` pairs each entry with where it came from (for error messages). An entry that has
        a pending change of someone's is not overwritten: the whole import fails instead.
        """
        result: dict[str, list[str]] = {
            "created": [],
            "updated": [],
            "unchanged": [],
            "published": [],
            "submitted": [],
        }
        problems: list[Problem] = []
        with writing(self.sessions, EntryDraftRow) as s:
            for entry, source in items:
                live, draft = s.get(EntryRow, entry.id), s.get(EntryDraftRow, entry.id)
                state = _state(entry.id, live, draft)
                data = entry.model_dump(mode="json")
                if state is not None and state.working is not None:
                    problems.append(
                        Problem(
                            source,
                            entry.id,
                            "id",
                            f"已有未发布的修改（{STATE_TITLES[state.status]}，{state.updated_by}），"
                            "请先发布或放弃后再导入",
                        )
                    )
                    continue
                if (
                    state is not None
                    and state.live_status == PUBLISHED
                    and _same_content(state.content, data)
                ):
                    result["unchanged"].append(entry.id)
                    continue
                result["created" if state is None else "updated"].append(entry.id)
                base = state.live_version if state else None
                draft_data = {**data, "status": DRAFT, "version": base or 1}
                if submit:  # four-eyes holds for imports too: someone else approves and publishes
                    self._set_working(s, entry.id, draft, draft_data, REVIEW, actor, base=base)
                    s.get_one(EntryDraftRow, entry.id).submitted_by = actor.username
                    self._audit(s, actor, "import", entry.id, comment="导入并提交审核")
                    result["submitted"].append(entry.id)
                else:
                    self._set_working(s, entry.id, draft, draft_data, DRAFT, actor, base=base)
                    self._audit(s, actor, "import", entry.id, comment="导入为草稿")
            if problems:
                raise ValidationFailed(problems)
        return result

    # -- internals -------------------------------------------------------------------------------
    def _load(
        self, s: Session, entry_id: str, expected_lock: int | None
    ) -> tuple[EntryRow | None, EntryDraftRow | None, EntryState]:
        live = s.get(EntryRow, entry_id, with_for_update=True)
        draft = s.get(EntryDraftRow, entry_id, with_for_update=True)
        state = _state(entry_id, live, draft)
        if state is None:
            raise EntryNotFound(entry_id)
        if draft is None and state.working is not None:  # a never-published entry loaded by the CLI
            draft = EntryDraftRow(entry_id=entry_id, data=state.working, state=state.state, lock_version=0)
            draft.comment, draft.updated_by = "", state.updated_by or "system"
            s.add(draft)
        if expected_lock is not None and expected_lock != state.lock_version:
            raise DraftConflict(
                entry_id, expected_lock, state.lock_version, state.content, state.updated_by or "?"
            )
        return live, draft, state

    def _check(self, s: Session, raw: dict[str, Any]) -> Entry:
        known = set(s.scalars(select(EntryRow.id))) | set(
            s.scalars(select(EntryDraftRow.entry_id).where(EntryDraftRow.data.is_not(None)))
        )
        return check_entry(raw, known)

    def _set_working(
        self,
        s: Session,
        entry_id: str,
        draft: EntryDraftRow | None,
        data: dict[str, Any] | None,
        state: str | None,
        actor: Actor,
        base: int | None,
    ) -> None:
        if draft is None:
            draft = EntryDraftRow(entry_id=entry_id, lock_version=0, comment="")
            s.add(draft)
        draft.data, draft.state, draft.base_version = data, state, base
        if data is None:
            draft.comment, draft.submitted_by = "", None
        self._touch(draft, actor)

    @staticmethod
    def _touch(draft: EntryDraftRow, actor: Actor) -> None:
        draft.lock_version = (draft.lock_version or 0) + 1
        draft.updated_at, draft.updated_by = utcnow(), actor.username

    def _bump_lock(self, s: Session, entry_id: str, draft: EntryDraftRow | None, actor: Actor) -> None:
        if draft is None:
            draft = EntryDraftRow(entry_id=entry_id, lock_version=0, comment="")
            s.add(draft)
        self._touch(draft, actor)

    def _publish_working(
        self,
        s: Session,
        live: EntryRow | None,
        draft: EntryDraftRow | None,
        state: EntryState,
        actor: Actor,
        comment: str,
    ) -> None:
        assert state.working is not None
        self._check(s, state.working)  # related entries may have gone since it was saved
        version = self._publish_content(s, state.id, _reviewed_today(state.working), live, actor)
        self._set_working(s, state.id, draft, None, None, actor, base=None)
        self._audit(s, actor, "publish", state.id, version, comment)

    def _publish_content(
        self, s: Session, entry_id: str, content: dict[str, Any], live: EntryRow | None, actor: Actor
    ) -> int:
        kept = s.scalar(select(func.max(EntryVersionRow.version)).where(EntryVersionRow.entry_id == entry_id))
        shown = live.version if live is not None and live.status in (PUBLISHED, UNPUBLISHED) else 0
        version = max(kept or 0, shown) + 1
        entry = Entry.model_validate({**content, "status": PUBLISHED, "version": version})
        self.store.put(s, entry, actor.username)
        self.store.bump(s)
        return version

    @staticmethod
    def _audit(
        s: Session,
        actor: Actor,
        action: str,
        entry_id: str | None,
        version: int | None = None,
        comment: str = "",
    ) -> None:
        s.add(
            AuditRow(
                actor=actor.username,
                role=actor.role,
                action=action,
                entry_id=entry_id,
                version=version,
                comment=comment,
            )
        )

    def record(self, actor: Actor, action: str, entry_id: str | None = None, comment: str = "") -> None:
        """Append an audit record for an action outside the entry workflow (e.g. dismissing gaps)."""
        with writing(self.sessions, EntryDraftRow) as s:
            self._audit(s, actor, action, entry_id, comment=comment)
