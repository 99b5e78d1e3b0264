"""Dependencies shared by the routes, as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from core.settings import Settings
from retrieval.live import LiveSearch
from web.conversations import Conversations
from web.rasa import RasaClient


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_live(request: Request) -> LiveSearch:
    return request.app.state.live  # type: ignore[no-any-return]


def get_rasa(request: Request) -> RasaClient:
    return request.app.state.rasa  # type: ignore[no-any-return]


def get_conversations(request: Request) -> Conversations:
    return request.app.state.conversations  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
LiveDep = Annotated[LiveSearch, Depends(get_live)]
RasaDep = Annotated[RasaClient, Depends(get_rasa)]
ConversationsDep = Annotated[Conversations, Depends(get_conversations)]
