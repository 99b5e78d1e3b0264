"""Gap mining: the questions the assistant could not answer well, clustered by meaning.

The action server and the web app record a gap (masked) when the assistant abstained, answered with
low confidence, got a 没用 rating, or the conversation ended in a handoff. Editors see the open gaps
grouped by similarity (the live engine's encoder) with counts and last-seen dates, and close them by
adding a question to an entry, starting a new entry, marking them out of scope, or dismissing them.

Clusters whose questions carry nothing to learn from (only a masked phone or ID number, test typing)
are flagged ``noise`` so the editor can keep them out of the way. Questions marked out of scope become
prototypes of the engine's out-of-scope check (``out_of_scope_questions``; every process reloads them
when the knowledge version moves), so the assistant declines them from then on without retraining.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.db import utcnow
from core.pii import mask_pii
from knowledge.store import EntryStore
from knowledge.tables import GapRow

REASONS = ("abstained", "low_confidence", "unhelpful", "handoff")
REASON_TITLES = {
    "abstained": "未能回答",
    "low_confidence": "低置信度",
    "unhelpful": "被评没用",
    "handoff": "转人工",
}
OPEN, DISMISSED, RESOLVED, OUT_OF_SCOPE = "open", "dismissed", "resolved", "out_of_scope"
CLOSED_STATUSES = (DISMISSED, RESOLVED, OUT_OF_SCOPE)
_TRIM = re.compile(r"^[\s，,。.!！?？~～]+|[\s，,。.!！?？~～]+$")
# what is left of a question once masked numbers, digits, latin letters and punctuation are gone
_NOT_WORDS = re.compile(r"[\d*Xx\-+@._a-zA-Z\s\W]+")
# typing that tests the assistant rather than asks it something
_TEST_TYPING = re.compile(
    r"^(?:测试|测一下|测试一下|试试|试一下|试一试|测|试|哈+|啊+|嗯+|呃+|哦+|在吗|你好|您好|喂)+$"
)

Encode = Callable[[list[str]], np.ndarray]


GapReason = Literal["abstained", "low_confidence", "unhelpful", "handoff"]
QUESTION_CHARS = 500  # a gap keeps the first 500 characters of the question


def add_gap(
    session: Session,
    *,
    sender_id: str,
    question: str,
    reason: GapReason,
    top_entry: str | None = None,
    score: float | None = None,
) -> GapRow | None:
    """The one way a gap is recorded (the action server and the web app alike): the question masked
    and cut to ``QUESTION_CHARS``; nothing for an empty question. Added to ``session``, not committed."""
    text = mask_pii(question or "").strip()[:QUESTION_CHARS]
    if not text:
        return None
    row = GapRow(sender_id=sender_id, question=text, reason=reason, top_entry=top_entry, score=score)
    session.add(row)
    return row


def normalise(question: str) -> str:
    return _TRIM.sub("", question)


def is_noise(question: str) -> bool:
    """Nothing to learn from: only masked numbers, digits, latin letters or symbols (a phone or ID
    number sent on its own, ``test``, ``asdf``), or typing that tests the assistant (测试, 哈哈, 在吗)."""
    words = _NOT_WORDS.sub("", normalise(question))
    return not words or bool(_TEST_TYPING.match(words)) or len(set(words)) == 1


@dataclass
class GapQuestion:
    text: str
    count: int
    last_seen: dt.datetime


@dataclass
class GapCluster:
    """Similar questions, most asked first; ``gap_ids`` are the records an action closes."""

    questions: list[GapQuestion]
    gap_ids: list[int]
    count: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    reasons: dict[str, int]
    top_entries: list[tuple[str, int]] = field(default_factory=list)  # what the engine thought it was
    top_scores: dict[str, float] = field(default_factory=dict)  # the best score of each of those

    @property
    def noise(self) -> bool:
        """Every question of the cluster is noise (see ``is_noise``)."""
        return all(is_noise(q.text) for q in self.questions)

    @property
    def id(self) -> int:
        """A handle for the UI: the smallest gap id in the cluster."""
        return min(self.gap_ids)

    @property
    def label(self) -> str:
        return self.questions[0].text


def group(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """Greedy leader clustering of unit vectors (most frequent first): each item joins the most
    similar cluster leader when the cosine similarity reaches ``threshold``, else leads a new one."""
    clusters: list[list[int]] = []
    leaders: list[np.ndarray] = []
    for i, vec in enumerate(vectors):
        if leaders:
            sims = np.stack(leaders) @ vec
            best = int(np.argmax(sims))
            if float(sims[best]) >= threshold:
                clusters[best].append(i)
                continue
        leaders.append(vec)
        clusters.append([i])
    return clusters


class GapMiner:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def open_gaps(
        self, since: dt.datetime | None = None, reasons: set[str] | None = None, limit: int = 5000
    ) -> list[GapRow]:
        with self.sessions() as s:
            q = select(GapRow).where(GapRow.status == OPEN).order_by(GapRow.id.desc()).limit(limit)
            if since is not None:
                q = q.where(GapRow.created_at >= since)
            if reasons:
                q = q.where(GapRow.reason.in_(sorted(reasons)))
            return list(s.scalars(q))

    def clusters(
        self,
        encode: Encode,
        threshold: float,
        since: dt.datetime | None = None,
        reasons: set[str] | None = None,
    ) -> list[GapCluster]:
        """Open gaps clustered by similarity, the most frequent cluster first."""
        return cluster_rows(self.open_gaps(since, reasons), encode, threshold)

    def questions(self, gap_ids: list[int]) -> list[str]:
        with self.sessions() as s:
            rows = s.scalars(select(GapRow).where(GapRow.id.in_(gap_ids)).order_by(GapRow.id))
            counts = Counter(normalise(r.question) for r in rows)
        return [q for q, _ in counts.most_common() if q]

    def out_of_scope_questions(self) -> list[str]:
        """The questions editors marked out of scope, oldest first (prototypes for the engine)."""
        with self.sessions() as s:
            rows = s.scalars(select(GapRow.question).where(GapRow.status == OUT_OF_SCOPE).order_by(GapRow.id))
            return list(dict.fromkeys(q for r in rows if (q := normalise(r))))

    def close(self, gap_ids: list[int], status: str, actor: str, entry_id: str | None = None) -> int:
        """Mark open gaps as dismissed, resolved (added to ``entry_id``) or out of scope; returns how
        many. Marking out of scope moves the knowledge version on: every process reloads the
        out-of-scope prototypes."""
        if status not in CLOSED_STATUSES:
            raise ValueError(f"unknown gap status {status!r}")
        if not gap_ids:
            return 0
        with self.sessions.begin() as s:
            result = s.execute(
                update(GapRow)
                .where(GapRow.id.in_(gap_ids), GapRow.status == OPEN)
                .values(status=status, handled_by=actor, handled_at=utcnow(), resolved_entry=entry_id)
            )
            closed = int(result.rowcount or 0)  # type: ignore[attr-defined]
            if closed and status == OUT_OF_SCOPE:
                EntryStore.bump(s)
            return closed


def cluster_rows(rows: list[GapRow], encode: Encode, threshold: float) -> list[GapCluster]:
    by_text: dict[str, list[GapRow]] = {}
    for row in rows:
        text = normalise(row.question)
        if text:
            by_text.setdefault(text, []).append(row)
    if not by_text:
        return []
    texts = sorted(by_text, key=lambda t: (-len(by_text[t]), -max(r.id for r in by_text[t])))
    vectors = encode(texts)
    out = []
    for members in group(np.asarray(vectors, dtype=np.float32), threshold):
        gaps = [r for i in members for r in by_text[texts[i]]]
        questions = [
            GapQuestion(texts[i], len(by_text[texts[i]]), max(r.created_at for r in by_text[texts[i]]))
            for i in members
        ]
        questions.sort(key=lambda q: (-q.count, -q.last_seen.timestamp()))
        entries = Counter(r.top_entry for r in gaps if r.top_entry)
        scores: dict[str, float] = {}
        for r in gaps:
            if r.top_entry and r.score is not None:
                scores[r.top_entry] = max(scores.get(r.top_entry, 0.0), float(r.score))
        out.append(
            GapCluster(
                questions=questions,
                gap_ids=sorted(r.id for r in gaps),
                count=len(gaps),
                first_seen=min(r.created_at for r in gaps),
                last_seen=max(r.created_at for r in gaps),
                reasons=dict(Counter(r.reason for r in gaps)),
                top_entries=entries.most_common(3),
                top_scores=scores,
            )
        )
    out.sort(key=lambda c: (-c.count, -c.last_seen.timestamp()))
    return out
