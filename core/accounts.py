"""Staff accounts: argon2 password hashes, roles, demo accounts, and when an agent's console last
polled the queue (``touch``; whether that makes anyone available is ``handoff/presence.py``).

Used by the web app (login, role checks) and by the action server (are agents online?). Citizens never
have an account.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, DateTime, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from core.db import Base, utcnow

Role = Literal["agent", "editor", "reviewer", "admin"]
ROLES: tuple[Role, ...] = ("agent", "editor", "reviewer", "admin")
ROLE_TITLES: dict[str, str] = {"agent": "坐席", "editor": "编辑", "reviewer": "审核员", "admin": "管理员"}
TICKET_ROLES: tuple[Role, ...] = ("agent", "admin")  # who takes over handed-off conversations
DEMO_ACCOUNTS: tuple[tuple[str, Role], ...] = (
    ("agent1", "agent"),
    ("editor1", "editor"),
    ("reviewer1", "reviewer"),
    ("admin", "admin"),
)
USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{2,40}$"
TOUCH_EVERY_S = 15.0  # write last_seen at most this often per account (the console polls every 2 s)


class UserRow(Base):
    """A staff account (agent, editor, reviewer, admin); citizens never log in."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))  # agent | editor | reviewer | admin
    # Bumped on logout and password change: every session cookie issued before stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # When the agent console last polled the queue (UTC); agents count as online for a while after.
    last_seen: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # ``python -m ops.accounts disable NAME``: cannot log in; production refuses enabled demo accounts.
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class AccountError(ValueError):
    """An account cannot be created or changed as asked."""


class DemoAccountsEnabled(RuntimeError):
    """Production start-up with demo accounts (known names, maybe known passwords) still enabled."""

    def __init__(self, names: list[str]) -> None:
        commands = "; ".join(f"python -m ops.accounts disable {n}" for n in names)
        super().__init__(
            f"production refuses to start: demo account(s) {', '.join(names)} enabled. Disable them: {commands}"
        )
        self.names = names


@dataclass(frozen=True)
class Account:
    """A logged-in staff member, as the routes see it (never the password hash)."""

    id: int
    username: str
    role: Role
    session_version: int

    @property
    def role_title(self) -> str:
        return ROLE_TITLES[self.role]


def _account(row: UserRow) -> Account:
    return Account(row.id, row.username, row.role, row.session_version)  # type: ignore[arg-type]


class AccountStore:
    def __init__(self, sessions: sessionmaker[Session], hasher: PasswordHasher | None = None) -> None:
        self.sessions = sessions
        self.hasher = hasher or PasswordHasher()
        self._dummy_hash = ""  # verified against for unknown usernames: same time as a real check
        self._touched: dict[int, float] = {}
        self._lock = threading.Lock()

    # -- accounts ------------------------------------------------------------------------------
    def create(self, username: str, password: str, role: Role) -> Account:
        if role not in ROLES:
            raise AccountError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        if len(password) < 8:
            raise AccountError("password must have at least 8 characters")
        with self.sessions.begin() as s:
            if s.scalars(select(UserRow).where(UserRow.username == username)).first():
                raise AccountError(f"account {username!r} exists")
            row = UserRow(username=username, password_hash=self.hasher.hash(password), role=role)
            s.add(row)
            s.flush()
            return _account(row)

    def get(self, user_id: int) -> Account | None:
        """An enabled account (a disabled one is as good as gone: its sessions stop working)."""
        with self.sessions() as s:
            row = s.get(UserRow, user_id)
            return _account(row) if row and not row.disabled else None

    def by_username(self, username: str) -> Account | None:
        with self.sessions() as s:
            row = s.scalars(select(UserRow).where(UserRow.username == username)).first()
            return _account(row) if row else None

    def authenticate(self, username: str, password: str) -> Account | None:
        """The account when the password is right and the account enabled, else None (unknown names
        take as long)."""
        with self.sessions() as s:
            row = s.scalars(select(UserRow).where(UserRow.username == username)).first()
            stored = row.password_hash if row else self._dummy()
        try:
            self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or row.disabled:
            return None
        if self.hasher.check_needs_rehash(stored):
            with self.sessions.begin() as s:
                s.execute(
                    update(UserRow)
                    .where(UserRow.id == row.id)
                    .values(password_hash=self.hasher.hash(password))
                )
        return _account(row)

    def _dummy(self) -> str:
        if not self._dummy_hash:
            self._dummy_hash = self.hasher.hash("not-a-real-password")
        return self._dummy_hash

    def set_password(self, username: str, password: str) -> None:
        """Change a password; every session of the account ends."""
        if len(password) < 8:
            raise AccountError("password must have at least 8 characters")
        with self.sessions.begin() as s:
            result = s.execute(
                update(UserRow)
                .where(UserRow.username == username)
                .values(password_hash=self.hasher.hash(password), session_version=UserRow.session_version + 1)
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise AccountError(f"no account {username!r}")

    def end_sessions(self, user_id: int) -> None:
        """Log out everywhere: session cookies issued so far stop working; the agent goes offline."""
        with self.sessions.begin() as s:
            s.execute(
                update(UserRow)
                .where(UserRow.id == user_id)
                .values(session_version=UserRow.session_version + 1, last_seen=None)
            )
        with self._lock:
            self._touched.pop(user_id, None)

    def set_disabled(self, username: str, disabled: bool = True) -> None:
        """Disable (or enable again) an account; disabling ends its sessions at once."""
        values: dict[str, object] = {"disabled": disabled}
        if disabled:
            values.update(session_version=UserRow.session_version + 1, last_seen=None)
        with self.sessions.begin() as s:
            result = s.execute(update(UserRow).where(UserRow.username == username).values(**values))
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise AccountError(f"no account {username!r}")

    def ensure_demo_accounts(self, password: str) -> list[str]:
        """Create the demo accounts that are missing (local mode); returns the names created.

        An existing account is left as it is: a password or role an operator changed, or an account
        disabled, stays so across restarts.
        """
        created: list[str] = []
        shared_hash = ""
        with self.sessions.begin() as s:
            for username, role in DEMO_ACCOUNTS:
                if s.scalars(select(UserRow.id).where(UserRow.username == username)).first() is None:
                    shared_hash = shared_hash or self.hasher.hash(password)
                    s.add(UserRow(username=username, password_hash=shared_hash, role=role))
                    created.append(username)
        return created

    def enabled_demo_accounts(self) -> list[str]:
        """Demo accounts that exist and are not disabled (production refuses to start with any)."""
        names = [name for name, _ in DEMO_ACCOUNTS]
        with self.sessions() as s:
            return sorted(
                s.scalars(
                    select(UserRow.username).where(UserRow.username.in_(names), UserRow.disabled.is_(False))
                )
            )

    # -- presence ------------------------------------------------------------------------------
    def touch(self, user_id: int) -> None:
        """Record that the account's console is open (called by the queue's polling)."""
        now = time.monotonic()
        with self._lock:
            if now - self._touched.get(user_id, -TOUCH_EVERY_S) < TOUCH_EVERY_S:
                return
            self._touched[user_id] = now
        with self.sessions.begin() as s:
            s.execute(update(UserRow).where(UserRow.id == user_id).values(last_seen=utcnow()))
