"""Staff login sessions, CSRF protection and role checks, shared by every staff router.

- The session cookie (``banshi_session``, HttpOnly, SameSite=Lax, Secure outside local mode) holds the
  account id, the account's session version and a random nonce, signed with the time of signing by
  ``itsdangerous`` (``URLSafeTimedSerializer``, HMAC-SHA256, key derived from ``SESSION_SECRET`` with
  the salt ``banshi-session``); it is refused once older than ``SESSION_MAX_AGE_S``. Logging out
  bumps the account's session version in the database, so every cookie signed before dies at once.
- CSRF: signed double-submit. Login returns a token, the session nonce signed under another salt
  (``banshi-csrf``: a session cookie is never a valid CSRF token, nor the reverse), and also sets it as
  the readable cookie ``banshi_csrf``; every state-changing request (not GET/HEAD/OPTIONS) of a
  logged-in user must echo it in the ``X-CSRF-Token`` header.
- Routers use ``CurrentUser`` (401 when not logged in) or ``require_roles(...)`` (403 otherwise)::

      EditorUser = Annotated[Account, Depends(require_roles("editor", "admin"))]
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy.orm import Session, sessionmaker

from core.accounts import ROLE_TITLES, ROLES, TICKET_ROLES, Account, AccountStore
from core.ratelimit import make_limiter
from core.settings import Settings

SESSION_COOKIE = "banshi_session"
CSRF_COOKIE = "banshi_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class SessionClaims:
    user_id: int
    session_version: int  # the account's at login; a bump (logout, password change) revokes
    nonce: str  # random per login; the CSRF token is bound to it


class SessionSigner:
    """Issues and checks signed session tokens and the CSRF token bound to each session
    (``itsdangerous``; a token signed under another ``SESSION_SECRET`` or salt is refused)."""

    SESSION_SALT = "banshi-session"
    CSRF_SALT = "banshi-csrf"

    def __init__(self, secret: str, max_age_s: int) -> None:
        if not secret:
            raise ValueError("SESSION_SECRET must not be empty")
        self.max_age_s = max_age_s
        signer = {"key_derivation": "hmac", "digest_method": hashlib.sha256}
        self._sessions = URLSafeTimedSerializer(secret, salt=self.SESSION_SALT, signer_kwargs=signer)
        # no timestamp: the token lives as long as the session whose nonce it signs (and is the same
        # each time it is derived, so /api/auth/me returns the token login set as the cookie)
        self._csrf = URLSafeSerializer(secret, salt=self.CSRF_SALT, signer_kwargs=signer)

    def issue(self, account: Account) -> SessionClaims:
        return SessionClaims(account.id, account.session_version, secrets.token_urlsafe(16))

    def encode(self, claims: SessionClaims) -> str:
        return self._sessions.dumps({"u": claims.user_id, "v": claims.session_version, "n": claims.nonce})

    def decode(self, token: str) -> SessionClaims | None:
        """The claims of a genuine token signed at most ``max_age_s`` ago; None for anything else
        (whether the session version is still the account's is the caller's check)."""
        try:
            body = self._sessions.loads(token, max_age=self.max_age_s)
            return SessionClaims(int(body["u"]), int(body["v"]), str(body["n"]))
        except (BadSignature, ValueError, KeyError, TypeError):  # SignatureExpired is a BadSignature
            return None

    def csrf_token(self, claims: SessionClaims) -> str:
        return self._csrf.dumps(claims.nonce)


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
