"""The chat's answer while the bot cannot answer (Rasa or the action server down, or no reply at all).

Never an empty reply: the citizen gets a clear message with the 12345 hotline and a 转人工 button.
Asking for a person (the button, or typing 转人工 / 人工客服) opens a handoff ticket from the web app
itself, since the bot's own handoff action cannot run: an agent online takes the conversation over as
usual; with nobody online the ticket offers 留言 (a callback number), like the bot's handoff does.
"""

from __future__ import annotations

import re
from typing import Any

from core.settings import Settings
from handoff.presence import agent_availability, why_unavailable
from handoff.queue import HandoffQueue
from handoff.status import HandoffReason, TicketStatus

HUMAN_REQUEST = re.compile(r"人工|真人|客服|坐席")
HANDOFF_BUTTON = "转人工"
REASON = HandoffReason.BOT_UNAVAILABLE


def wants_human(text: str) -> bool:
    return bool(HUMAN_REQUEST.search(text))


def degraded_messages(settings: Settings) -> list[dict[str, Any]]:
    return [
        {
            "type": "buttons",
            "text": (
                f"抱歉，智能助手暂时无法回答，正在自动恢复，请稍后再试。急需咨询可拨打{settings.hotline}"
                "政务服务便民热线，或点“转人工”由工作人员为您服务。"
            ),
            "buttons": [{"title": HANDOFF_BUTTON, "payload": HANDOFF_BUTTON}],
            "degraded": True,
        }
    ]


def handoff_messages(
    settings: Settings, queue: HandoffQueue, sender_id: str
) -> tuple[list[dict[str, Any]], bool]:
    """Open a ticket without the bot; returns the messages to show and whether an agent will take over."""
    availability = agent_availability(settings, queue.sessions)
    online = availability == "available"
    ticket = queue.open(sender_id, REASON, online=online)  # the transcript from the stored messages
    payload: dict[str, Any] = {"type": "handoff", "ticket_id": ticket.id, "reason": REASON}
    if online:
        text = "正在为您转接12345人工客服，请稍候。客服接入后会在这里直接回复您。"
        payload["status"] = TicketStatus.WAITING
    else:
        text = (
            f"{why_unavailable(availability, settings)}。您可以留下问题和回拨电话，工作人员会在下一个工作日内回电；"
            f"紧急事项请拨打{settings.hotline}热线（7×24小时）。"
        )
        payload["status"] = TicketStatus.OFFLINE
        payload["leave_message"] = True
    return [{"type": "text", "text": text}, payload], online
