"""The JSON crossing the web app's HTTP boundary."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

SENDER_PATTERN = r"^[A-Za-z0-9_.:@-]+$"


class ChatRequest(BaseModel):
    sender_id: str = Field(min_length=1, max_length=120, pattern=SENDER_PATTERN)
    message: str = Field(min_length=1)

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("message must not be empty")
        return value.strip()


class ChatResponse(BaseModel):
    messages: list[dict[str, Any]]
    handoff: bool
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
