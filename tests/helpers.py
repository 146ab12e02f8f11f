"""Helpers shared by the test suites: tokens and unique users."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt

SECRET = "test-secret-" + "x" * 60
TOKEN_LIFETIME_SECONDS = 3600
"""Longer than the whole suite takes: some modules make their tokens when they are imported."""


def make_token(sub: Any = "user", *, secret: str = SECRET, algorithm: str = "HS256", **claims: Any) -> str:
    payload: dict[str, Any] = {"sub": sub, "exp": int(time.time()) + TOKEN_LIFETIME_SECONDS}
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, secret, algorithm=algorithm)


def new_user_id() -> str:
    """A fresh user per test: tests share one database and never see each other's rows."""
    return f"user-{uuid.uuid4().hex[:12]}"


def auth(user_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(user_id)}"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_with_secret(signing_input: bytes) -> bytes:
    return hmac.new(SECRET.encode(), signing_input, hashlib.sha256).digest()


def hand_made_token(header: str, claims: str, sign: Callable[[bytes], bytes] = sign_with_secret) -> str:
    """A JWS built from raw JSON text, so a header or claim can hold what no JWT library writes."""
    signing_input = f"{b64(header.encode())}.{b64(claims.encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"
