"""``GET /api/config``: the settings the citizens' widget needs, so that it hard-codes none of them."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from web.deps import SettingsDep

router = APIRouter(tags=["config"])


class PublicConfig(BaseModel):
    hotline: str = Field(description="The hotline shown in every fallback message (HOTLINE)")
    max_message_chars: int = Field(description="Longest chat message accepted (MAX_MESSAGE_CHARS)")
    agent_hours: str = Field(description="When agents are online, HH:MM-HH:MM (AGENT_HOURS)")
    timezone: str = Field(description="The clock the agent hours are read on (TIMEZONE)")


@router.get("/api/config", response_model=PublicConfig)
async def public_config(settings: SettingsDep, response: Response) -> PublicConfig:
    """Public: nothing here is secret; cached by browsers for a minute."""
    response.headers["Cache-Control"] = "public, max-age=60"
    return PublicConfig(
        hotline=settings.hotline,
        max_message_chars=settings.max_message_chars,
        agent_hours=str(settings.agent_hours),
        timezone=settings.timezone.key,
    )
