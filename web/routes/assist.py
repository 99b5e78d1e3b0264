"""Phone assist: ``POST /api/assist`` — what the caller says → the top 3 entries, ready to read out."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from web.assist import suggest
from web.auth import AgentUser
from web.deps import LiveDep, SettingsDep
from web.schemas import AssistRequest, AssistResponse

router = APIRouter(prefix="/api", tags=["assist"])


@router.post(
    "/assist",
    response_model=AssistResponse,
    responses={
        401: {"description": "not logged in"},
        403: {"description": "not an agent or admin, or no X-CSRF-Token"},
        413: {"description": "text longer than MAX_MESSAGE_CHARS"},
    },
)
def assist(body: AssistRequest, agent: AgentUser, live: LiveDep, settings: SettingsDep) -> AssistResponse:
    """The top 3 entries for the text, each with its 一次性告知 text, its read-aloud version and the
    situation questions to ask the caller. Called as the agent types (debounced)."""
    if len(body.text) > settings.max_message_chars:
        raise HTTPException(413, f"内容太长了，请控制在{settings.max_message_chars}字以内。")
    return suggest(live.engine, body.text)
