"""Helpers shared by the test suites: tokens and unique users."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt

SECRET = "test-secret-" + "x" * 60


def make_token(sub: Any = "user", *, secret: str = SECRET, algorithm: str = "HS256", **claims: Any) -> str:
    payload: dict[str, Any] = {"sub": sub, "exp": int(time.time()) + 600}
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, secret, algorithm=algorithm)


def new_user_id() -> str:
    """A fresh user per test: tests share one database and never see each other's rows."""
    return f"user-{uuid.uuid4().hex[:12]}"


def auth(user_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(user_id)}"}
