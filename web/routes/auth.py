"""Staff login: ``POST /api/auth/login``, ``POST /api/auth/logout``, ``GET /api/auth/me``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from core.accounts import DEMO_ACCOUNTS, Account
from core.settings import is_loopback
from web.auth import AuthDep, CurrentUser
from web.client_address import client_address
from web.schemas import LoginRequest, SessionPublic, UserPublic

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/auth", tags=["auth"])
UNAUTHORIZED: dict[int | str, dict[str, Any]] = {401: {"description": "not logged in"}}
DEMO_NAMES = frozenset(name for name, _ in DEMO_ACCOUNTS)
FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip", "x-forwarded-host")
VERIFY_WAIT_S = 10.0


def _proxied_or_remote(request: Request) -> bool:
    """The request came through a proxy or from another machine (``testclient``: the test client)."""
    peer = request.client.host if request.client else ""
    return any(h in request.headers for h in FORWARDING_HEADERS) or not (
        is_loopback(peer) or peer == "testclient"
    )


def _public(account: Account) -> UserPublic:
    return UserPublic(username=account.username, role=account.role, role_title=account.role_title)


@router.post(
    "/login",
    response_model=SessionPublic,
    responses={
        401: {"description": "wrong username or password"},
        403: {"description": "a demo account from another machine or through a proxy (local mode)"},
        429: {"description": "too many login attempts for this username or from this client"},
        503: {"description": "too many password checks at once"},
    },
)
def login(body: LoginRequest, request: Request, response: Response, auth: AuthDep) -> SessionPublic:
    """Log in; sets the session cookie (HttpOnly) and the CSRF cookie, and returns the CSRF token.

    Attempts per username (from any client) are counted before the password is checked, failures
    per client (for any username) after it; at most LOGIN_CONCURRENCY checks run at once. In local mode the demo accounts
    only log in from this machine, not through a proxy.
    """
    client = client_address(request)
    username = body.username.strip()
    key = username.lower()
    if auth.local and key in DEMO_NAMES and _proxied_or_remote(request):
        raise HTTPException(403, "演示账号只能在本机登录（本地模式）。")
    # the account's attempts are counted before the check; the client's failures after it
    for wait in (auth.client_throttle.blocked(client), auth.throttle.check(key)):
        if wait:
            minutes = max(1, round(wait / 60))
            raise HTTPException(
                429,
                f"登录失败次数过多，请{minutes}分钟后再试。如忘记密码，请联系系统管理员。",
                headers={"Retry-After": str(int(wait) + 1)},
            )
    if not auth.verifying.acquire(timeout=VERIFY_WAIT_S):
        raise HTTPException(503, "登录的人太多了，请稍后再试。", headers={"Retry-After": "5"})
    try:
        account = auth.accounts.authenticate(username, body.password)
    finally:
        auth.verifying.release()
    if account is None:
        auth.client_throttle.record(client)
        log.info("failed login for %r from %s", body.username[:80], client)
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
