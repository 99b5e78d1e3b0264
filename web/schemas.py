"""The JSON crossing the web app's HTTP boundary."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from handoff.status import RESOLUTIONS, HandoffReason, Resolution, TicketStatus

SENDER_PATTERN = r"^[A-Za-z0-9_.:@-]+$"


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


# Times are stored as naive UTC; on the wire they carry their zone (RFC 3339, as OpenAPI's date-time says)
UtcDateTime = Annotated[dt.datetime, AfterValidator(_utc)]
DB_INT_MAX = 2**31 - 1  # ids and cursors are 32-bit integer columns (PostgreSQL INTEGER)
MESSAGE_MAX_CHARS = 4000  # schema bound; MAX_MESSAGE_CHARS (<= this) is checked after parsing


def _strip_non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or only spaces")
    return value.strip()


NonBlank = Annotated[str, AfterValidator(_strip_non_blank)]


class ChatRequest(BaseModel):
    sender_id: str = Field(
        min_length=1,
        max_length=120,
        pattern=SENDER_PATTERN,
        description="from POST /api/chat/conversations (widget), or an API client's own id (not readable back)",
    )
    message: NonBlank = Field(min_length=1, max_length=MESSAGE_MAX_CHARS)
    site: str | None = Field(
        None,
        max_length=40,
        pattern=r"^[a-z][a-z0-9-]*$",
        description="the citizen's 分站点 (a site id of the bureau profile, e.g. pingjiang); "
        "location and phone answers are for that site, the city hall when absent or unknown",
    )


class ConversationPublic(BaseModel):
    sender_id: str = Field(description="the new conversation's id, bound to this browser by a cookie")
    idle_seconds: int = Field(description="the conversation ends after this long without activity")


class ChatResponse(BaseModel):
    messages: list[dict[str, Any]]
    handoff: bool = Field(
        description="the conversation waits for or is with a human agent; false when no agent is online "
        "and the bot keeps answering (the handoff message then offers 留言)"
    )
    degraded: bool = False


class SearchHit(BaseModel):
    id: str
    title: str
    score: float


class SearchResponse(BaseModel):
    query: str
    answerable: bool
    ambiguous: bool
    results: list[SearchHit]


class MessagesResponse(BaseModel):
    messages: list[dict[str, Any]]
    cursor: int
    handoff: bool


# -- staff accounts (web/routes/auth.py) --------------------------------------------------------


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)


class UserPublic(BaseModel):
    username: str
    role: str = Field(description="agent | editor | reviewer | admin")
    role_title: str


class SessionPublic(BaseModel):
    user: UserPublic
    csrf_token: str = Field(description="send it back as the X-CSRF-Token header on every POST")


# -- handoff tickets (web/routes/handoffs.py) ---------------------------------------------------


class FilledItem(BaseModel):
    label: str = Field(description="the situation question as the citizen saw it, or 想了解")
    value: str = Field(description="the option's label the citizen chose (是 / 否 / 不确定 …)")


class TicketPublic(BaseModel):
    id: int
    sender_id: str
    status: str = Field(description=" | ".join(TicketStatus))
    status_title: str
    reason: str = Field(description=" | ".join(HandoffReason))
    current_service: str | None
    current_service_title: str | None
    slots: dict[str, Any]
    candidates: list[Any]
    transcript: list[dict[str, Any]] = Field(description="the conversation handed over (masked)")
    waiting_seconds: int = Field(description="how long the citizen waited (until claimed)")
    over_sla: bool = Field(description="still waiting longer than HANDOFF_SLA_S")
    claimed_by: str | None
    callback_phone: str | None = Field(description="callback number left by the citizen, masked")
    left_message: str | None = Field(
        None, description="the message the citizen left with the number (masked)"
    )
    filled: list[FilledItem] = Field(
        default_factory=list,
        description="what the citizen told the assistant as they saw it: each situation question with the "
        "option chosen, and the part of the guide asked about",
    )
    resolution: str | None
    created_at: UtcDateTime
    claimed_at: UtcDateTime | None
    closed_at: UtcDateTime | None


class TicketsPublic(BaseModel):
    data: list[TicketPublic]
    count: int
    sla_seconds: int = Field(description="HANDOFF_SLA_S: waiting time after which a ticket is highlighted")


class HistoryItem(BaseModel):
    id: int | None = Field(description="chat message id (cursor); null for the transcript handed over")
    role: str = Field(description="user | bot | agent | system")
    text: str
    at: UtcDateTime | None
    agent: str | None = None


class TicketDetail(TicketPublic):
    history: list[HistoryItem]
    callback_phone_full: str | None = Field(
        None, description="the full callback number, only for the agent holding the ticket"
    )


class ClosedTicket(TicketPublic):
    bot_resumed: bool = Field(
        description="false when Rasa could not be reached (the ticket is closed anyway)"
    )


class ReplyRequest(BaseModel):
    text: NonBlank = Field(min_length=1, max_length=4000)


class CloseRequest(BaseModel):
    resolution: Resolution = Field(
        description="resolution category: " + " · ".join(f"{k} {v}" for k, v in RESOLUTIONS.items())
    )


class SentMessage(BaseModel):
    message: dict[str, Any] = Field(description="the stored agent message, with its cursor id")


# -- suggested answers and phone assist (web/routes/assist.py) ----------------------------------


class AssistRequest(BaseModel):
    text: NonBlank = Field(min_length=1, description="what the caller (or citizen) said")


class SituationQuestion(BaseModel):
    id: str
    question: str = Field(description="ask the caller; the answer decides which materials apply")
    options: list[str]


class Suggestion(BaseModel):
    id: str
    title: str
    score: float
    text: str = Field(description="the 一次性告知 as plain text, ready to send")
    speech: str = Field(description="the read-aloud version for the phone")
    situations: list[SituationQuestion]
    guide_url: str
    current: bool = Field(False, description="the service the assistant was on in this conversation")
    basis: str = Field("", description="why it is suggested, for the agent (e.g. the citizen's words)")


class AssistResponse(BaseModel):
    query: str
    answerable: bool = Field(description="the engine is confident in the first result")
    results: list[Suggestion]
