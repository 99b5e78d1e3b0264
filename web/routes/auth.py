"""Staff login: ``POST /api/auth/login``, ``POST /api/auth/logout``, ``GET /api/auth/me``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from core.accounts import Account
from web.auth import AuthDep, CurrentUser
from web.schemas import LoginRequest, SessionPublic, UserPublic

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/auth", tags=["auth"])
UNAUTHORIZED: dict[int | str, dict[str, Any]] = {401: {"description": "not logged in"}}


def _public(account: Account) -> UserPublic:
    return UserPublic(username=account.username, role=account.role, role_title=account.role_title)


@router.post(
    "/login",
    response_model=SessionPublic,
    responses={
        401: {"description": "wrong username or password"},
        429: {"description": "too many failed logins for this username from this client"},
    },
)
async def login(body: LoginRequest, request: Request, response: Response, auth: AuthDep) -> SessionPublic:
    """Log in; sets the session cookie (HttpOnly) and the CSRF cookie, and returns the CSRF token."""
    client = request.client.host if request.client else "unknown"
    key = f"{body.username.strip().lower()}|{client}"
    wait = auth.throttle.blocked(key)
    if wait:
        minutes = max(1, round(wait / 60))
        raise HTTPException(
            429,
            f"登录失败次数过多，请{minutes}分钟后再试。如忘记密码，请联系系统管理员。",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    account = await run_in_threadpool(auth.accounts.authenticate, body.username.strip(), body.password)
    if account is None:
        auth.throttle.record(key)
        log.info("failed login for %r from %s", body.username, client)
        raise HTTPException(401, "用户名或密码错误。")
    auth.throttle.reset(key)
    csrf = auth.start_session(response, account)
    log.info("login: %s (%s)", account.username, account.role)
    return SessionPublic(user=_public(account), csrf_token=csrf)


@router.post("/logout", responses={**UNAUTHORIZED, 403: {"description": "missing or wrong X-CSRF-Token"}})
def logout(user: CurrentUser, response: Response, auth: AuthDep) -> dict[str, bool]:
    """End every session of the account (the agent also stops counting as online)."""
    auth.accounts.end_sessions(user.id)
    auth.end_session(response)
    return {"ok": True}


@router.get("/me", response_model=SessionPublic, responses=UNAUTHORIZED)
def me(user: CurrentUser, request: Request) -> SessionPublic:
    """The logged-in account and the CSRF token of this session."""
    return SessionPublic(user=_public(user), csrf_token=request.state.csrf_token)
