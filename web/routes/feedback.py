"""好差评: ``POST /api/feedback`` (有用 / 没用 on one answer) and ``POST /api/rating`` (1–5)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from knowledge.feedback import rate_answer, rate_conversation
from knowledge.gaps import add_gap
from web.conversation_binding import BOUND, require_binding
from web.limits import rate_limited
from web.schemas import DB_INT_MAX, SENDER_PATTERN

# A bound conversation (the widget's) needs its cookie; an API client's own sender id may rate too.
router = APIRouter(
    prefix="/api", tags=["feedback"], responses=BOUND, dependencies=[Depends(rate_limited("feedback"))]
)


class AnswerFeedback(BaseModel):
    sender_id: str = Field(min_length=1, max_length=120, pattern=SENDER_PATTERN)
    message_id: int | None = Field(None, ge=1, le=DB_INT_MAX)
    entry_id: str | None = Field(None, max_length=80)
    useful: bool


class ConversationRating(BaseModel):
    sender_id: str = Field(min_length=1, max_length=120, pattern=SENDER_PATTERN)
    score: int = Field(ge=1, le=5, description="5 非常满意 … 1 非常不满意")
    comment: str = Field("", max_length=500)


@router.post("/feedback")
def answer_feedback(body: AnswerFeedback, request: Request) -> dict[str, bool]:
    require_binding(request, body.sender_id, allow_unbound=True)
    sessions = request.app.state.conversations.sessions
    with sessions.begin() as s:
        rate_answer(
            s,
            sender_id=body.sender_id,
            entry_id=body.entry_id,
            useful=body.useful,
            message_id=body.message_id,
        )
        if not body.useful:
            question = request.app.state.conversations.last_user_text(body.sender_id)
            if question:
                add_gap(
                    s,
                    sender_id=body.sender_id,
                    question=question,
                    reason="unhelpful",
                    top_entry=body.entry_id,
                )
    return {"ok": True}


@router.post("/rating")
def rating(body: ConversationRating, request: Request) -> dict[str, bool]:
    require_binding(request, body.sender_id, allow_unbound=True)
    conversations = request.app.state.conversations
    with conversations.sessions.begin() as s:
        rate_conversation(
            s, sender_id=body.sender_id, score=body.score, comment=body.comment, keep=conversations.contacts()
        )
    return {"ok": True}
