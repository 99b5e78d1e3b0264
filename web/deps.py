"""Dependencies shared by the routes, as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from conversations.store import Conversations
from core.accounts import Account
from core.settings import Settings
from handoff.queue import HandoffQueue
from knowledge.gaps import GapMiner
from knowledge.workflow import Actor, Workflow
from retrieval.live import LiveSearch
from web.auth import CurrentUser, require_roles
from web.rasa import RasaClient


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_live(request: Request) -> LiveSearch:
    return request.app.state.live  # type: ignore[no-any-return]


def get_rasa(request: Request) -> RasaClient:
    return request.app.state.rasa  # type: ignore[no-any-return]


def get_conversations(request: Request) -> Conversations:
    return request.app.state.conversations  # type: ignore[no-any-return]


def get_handoffs(request: Request) -> HandoffQueue:
    return request.app.state.handoffs  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
LiveDep = Annotated[LiveSearch, Depends(get_live)]
RasaDep = Annotated[RasaClient, Depends(get_rasa)]
ConversationsDep = Annotated[Conversations, Depends(get_conversations)]
HandoffsDep = Annotated[HandoffQueue, Depends(get_handoffs)]


# -- knowledge editor (web/routes/entries*.py, gaps.py, stats.py) --------------------------------


def get_workflow(request: Request) -> Workflow:
    return request.app.state.workflow  # type: ignore[no-any-return]


def get_gaps(request: Request) -> GapMiner:
    return request.app.state.gaps  # type: ignore[no-any-return]


WorkflowDep = Annotated[Workflow, Depends(get_workflow)]
GapsDep = Annotated[GapMiner, Depends(get_gaps)]
StaffUser = CurrentUser  # any logged-in role (agents too) may read
EditorUser = Annotated[Account, Depends(require_roles("editor", "admin"))]
ReviewerUser = Annotated[Account, Depends(require_roles("reviewer", "admin"))]
TriageUser = Annotated[Account, Depends(require_roles("editor", "reviewer", "admin"))]


def actor(user: Account) -> Actor:
    return Actor(user.username, user.role)
