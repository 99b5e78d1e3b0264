"""A ticket's states and the ways it ends: the one place their stored strings are written.

The values are what the ``handoffs.status`` column holds and what the API and the agent console show
(``status=left-message``); they never change.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal


class TicketStatus(StrEnum):
    WAITING = "waiting"  # for an agent to claim it
    ACTIVE = "active"  # held by an agent talking to the citizen
    LEFT_MESSAGE = "left-message"  # nobody was online; the citizen left a callback number
    OFFLINE = "offline"  # nobody was online; no number left (yet)
    CLOSED = "closed"  # ended by an agent, or withdrawn by the citizen (resolution ``cancelled``)


#: what the agent console calls each state
STATUS_TITLES: dict[TicketStatus, str] = {
    TicketStatus.WAITING: "排队中",
    TicketStatus.ACTIVE: "处理中",
    TicketStatus.LEFT_MESSAGE: "留言待回电",
    TicketStatus.OFFLINE: "无人在线",
    TicketStatus.CLOSED: "已结束",
}

#: what the console lists by default
QUEUE: tuple[TicketStatus, ...] = (TicketStatus.WAITING, TicketStatus.ACTIVE, TicketStatus.LEFT_MESSAGE)
#: what an agent may take
CLAIMABLE: tuple[TicketStatus, ...] = (TicketStatus.WAITING, TicketStatus.LEFT_MESSAGE)
#: handed to a person (waiting for or talking to one): the bot is silent, the conversation never idles out
HANDED_OFF: tuple[TicketStatus, ...] = (TicketStatus.WAITING, TicketStatus.ACTIVE)
#: a citizen is still owed an answer or a call: retention keeps these whatever their age
OPEN: tuple[TicketStatus, ...] = tuple(s for s in TicketStatus if s is not TicketStatus.CLOSED)


def title_of(status: str) -> str:
    """The title of a stored status (an unknown string as it is)."""
    try:
        return STATUS_TITLES[TicketStatus(status)]
    except ValueError:
        return status


class HandoffReason(StrEnum):
    """Why a conversation was handed to a person (the ticket's ``reason``)."""

    EXPLICIT = "explicit"  # the citizen asked for a person (转人工)
    COMPLAINT = "complaint"
    NEGATIVE_FEEDBACK = "negative_feedback"  # 没用 on an answer
    NOT_UNDERSTOOD = "not_understood"  # the assistant could not place the question, twice
    BOT_UNAVAILABLE = "bot_unavailable"  # the assistant was down: the web app handed over itself


#: what the agent console calls each reason
REASON_TITLES: dict[HandoffReason, str] = {
    HandoffReason.EXPLICIT: "市民要求人工",
    HandoffReason.COMPLAINT: "投诉",
    HandoffReason.NEGATIVE_FEEDBACK: "回答没帮到",
    HandoffReason.NOT_UNDERSTOOD: "未能理解问题",
    HandoffReason.BOT_UNAVAILABLE: "助手暂不可用",
}
#: reasons whose last citizen message asked for the person, about no service (转人工, 没用)
ASKED_FOR_A_PERSON: tuple[HandoffReason, ...] = (HandoffReason.EXPLICIT, HandoffReason.NEGATIVE_FEEDBACK)


Resolution = Literal["answered", "referred", "complaint_filed", "called_back", "no_response", "other"]
RESOLUTIONS: dict[Resolution, str] = {
    "answered": "已解答",
    "referred": "已转交相关部门",
    "complaint_filed": "已登记投诉",
    "called_back": "已回电",
    "no_response": "群众无回应",
    "other": "其他",
}
#: the resolution of a ticket the citizen withdrew before any agent took it (and its notice's status)
CANCELLED = "cancelled"
