"""The app hashes staff passwords with argon2id at argon2's default cost (the unit tests use less)."""

from __future__ import annotations

import argon2
import pytest
from sqlalchemy.orm import sessionmaker

from core import accounts


def test_the_app_hashes_at_argon2s_default_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "PasswordHasher", argon2.PasswordHasher)  # undo the tests' cheap cost
    store = accounts.AccountStore(sessionmaker())
    default = argon2.PasswordHasher()
    assert store.hasher.memory_cost == default.memory_cost >= 65536  # KiB: 64 MiB
    assert store.hasher.time_cost == default.time_cost >= 3
    assert store.hasher.type == argon2.Type.ID
