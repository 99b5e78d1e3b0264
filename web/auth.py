"""Staff login sessions, CSRF protection and role checks, shared by every staff router.

- The session cookie (``banshi_session``, HttpOnly, SameSite=Lax, Secure outside local mode) holds the
  account id, the account's session version, a random nonce and an expiry, signed with HMAC-SHA256
  under ``SESSION_SECRET``. Logging out bumps the session version, so the cookie dies everywhere.
- CSRF: signed double-submit. Login returns a token derived from the session nonce and also sets it
  as the readable cookie ``banshi_csrf``; every state-changing request (not GET/HEAD/OPTIONS) of a
  logged-in user must echo it in the ``X-CSRF-Token`` header.
- Routers use ``CurrentUser`` (401 when not logged in) or ``require_roles(...)`` (403 otherwise)::

      EditorUser = Annotated[Account, Depends(require_roles("editor", "admin"))]
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response
from sqlalchemy.orm import Session, sessionmaker

from core.accounts import ROLE_TITLES, ROLES, TICKET_ROLES, Account, AccountStore
from core.ratelimit import make_limiter
from core.settings import Settings

SESSION_COOKIE = "banshi_session"
CSRF_COOKIE = "banshi_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class SessionClaims:
    user_id: int
    session_version: int
    nonce: str
    expires: int


class SessionSigner:
    """Issues and checks signed session tokens and the CSRF token bound to each session."""

    def __init__(self, secret: str, max_age_s: int) -> None:
        if not secret:
            raise ValueError("SESSION_SECRET must not be empty")
        self.max_age_s = max_age_s
        self._session_key = hmac.new(secret.encode(), b"banshi-session", hashlib.sha256).digest()
        self._csrf_key = hmac.new(secret.encode(), b"banshi-csrf", hashlib.sha256).digest()

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._session_key, payload.encode(), hashlib.sha256).digest())

    def issue(self, account: Account) -> SessionClaims:
        return SessionClaims(
            account.id, account.session_version, secrets.token_urlsafe(16), int(time.time()) + self.max_age_s
        )

    def encode(self, claims: SessionClaims) -> str:
        body = {"u": claims.user_id, "v": claims.session_version, "n": claims.nonce, "e": claims.expires}
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def decode(self, token: str) -> SessionClaims | None:
        """The claims of a genuine, unexpired token; None for anything else."""
        payload, _, signature = token.partition(".")
        if not payload or not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            return None
        try:
            body = json.loads(_unb64(payload))
            claims = SessionClaims(int(body["u"]), int(body["v"]), str(body["n"]), int(body["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        return claims if claims.expires > time.time() else None

    def csrf_token(self, claims: SessionClaims) -> str:
        return _b64(hmac.new(self._csrf_key, claims.nonce.encode(), hashlib.sha256).digest())


class Auth:
    """The web app's authentication services (``app.state.auth``)."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self.accounts = AccountStore(sessions)
        self.signer = SessionSigner(settings.session_secret, settings.session_max_age_s)
        # counted before the password is checked: parallel guesses cannot slip through
        self.throttle = make_limiter(settings.login_throttle, "login-user", settings)
        self.client_throttle = make_limiter(settings.login_client_throttle, "login-client", settings)
        # argon2 needs 64 MiB per check: bound how many run at once
        self.verifying = threading.BoundedSemaphore(settings.login_concurrency)
        self.secure_cookies = settings.environment != "local"
        self.local = settings.environment == "local"

    def start_session(self, response: Response, account: Account) -> str:
        """Set the session and CSRF cookies; returns the CSRF token."""
        claims = self.signer.issue(account)
        csrf = self.signer.csrf_token(claims)
        for name, value, httponly in (
            (SESSION_COOKIE, self.signer.encode(claims), True),
            (CSRF_COOKIE, csrf, False),  # read by the console's script, echoed as X-CSRF-Token
        ):
            response.set_cookie(
                name,
                value,
                max_age=self.signer.max_age_s,
                path="/",
                httponly=httponly,
                samesite="lax",
                secure=self.secure_cookies,
            )
        return csrf

    def end_session(self, response: Response) -> None:
        for name in (SESSION_COOKIE, CSRF_COOKIE):
            response.delete_cookie(name, path="/", samesite="lax", secure=self.secure_cookies)


def get_auth(request: Request) -> Auth:
    return request.app.state.auth  # type: ignore[no-any-return]


AuthDep = Annotated[Auth, Depends(get_auth)]


def current_user(request: Request, auth: AuthDep) -> Account:
    """The logged-in account; 401 without a valid session, 403 on a state change without CSRF token."""
    claims = auth.signer.decode(request.cookies.get(SESSION_COOKIE, ""))
    if claims is None:
        raise HTTPException(401, "请先登录。")
    account = auth.accounts.get(claims.user_id)
    if account is None or account.session_version != claims.session_version:
        raise HTTPException(401, "登录已失效，请重新登录。")
    expected = auth.signer.csrf_token(claims)
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            raise HTTPException(403, "安全校验失败（CSRF 令牌缺失或不匹配），请刷新页面后重试。")
    request.state.csrf_token = expected
    return account


CurrentUser = Annotated[Account, Depends(current_user)]


def require_roles(*roles: str) -> Callable[[Account], Account]:
    """A dependency: the logged-in account when its role is one of ``roles``, else 403."""
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"require_roles: unknown roles {sorted(unknown)}; one of {ROLES}")
    allowed = "、".join(ROLE_TITLES[r] for r in roles)

    def check_role(user: CurrentUser) -> Account:
        if user.role not in roles:
            raise HTTPException(
                403,
                f"没有权限：此功能仅限{allowed}使用（当前账号 {user.username} 的角色是{user.role_title}）。",
            )
        return user

    return check_role


AgentUser = Annotated[Account, Depends(require_roles(*TICKET_ROLES))]
