"""Idempotent creates: the `Idempotency-Key` request header
(draft-ietf-httpapi-idempotency-key-header-07). The same key with the same body gets the
first answer again and creates nothing; with another body, a 422."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from core.errors import ApiError, FieldProblem, ValidationFailed

KEY = re.compile(r'"?([\x21\x23-\x7e]{1,255})"?')
"""1-255 visible ASCII characters, bare or as a quoted string (no quote inside)."""
UNIQUE_VIOLATION = "23505"


def idempotency_key(headers: Mapping[str, str]) -> str | None:
    header = headers.get("idempotency-key")
    if header is None:
        return None
    match = KEY.fullmatch(header.strip())
    if match is None or header.strip().count('"') not in (0, 2):
        raise ApiError(400, "Idempotency-Key must be 1 to 255 visible ASCII characters, bare or quoted")
    return match[1]


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def reused_with_another_body() -> ValidationFailed:
    problem = FieldProblem(("header", "Idempotency-Key"), "This key was used with another body", "key_reused")
    return ValidationFailed([problem])
