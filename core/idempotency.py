"""Idempotent creates: the `Idempotency-Key` request header
(draft-ietf-httpapi-idempotency-key-header-07). The same key with the same body gets the
first answer again and creates nothing; with another body, a 422."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from core.errors import ApiError, FieldProblem, ValidationFailed

MAX_KEY_LENGTH = 255
KEY_TOKEN = f"[!#-~]{{1,{MAX_KEY_LENGTH}}}"
KEY_PATTERN = f'"{KEY_TOKEN}"|{KEY_TOKEN}'
"""1-255 visible ASCII characters but the quote, bare or as a quoted string: what the
core accepts and what the OpenAPI document publishes."""
KEY = re.compile(KEY_PATTERN)
UNIQUE_VIOLATION = "23505"


def idempotency_key(headers: Mapping[str, str]) -> str | None:
    header = headers.get("idempotency-key")
    if header is None:
        return None
    value = header.strip()
    if KEY.fullmatch(value) is None:
        raise ApiError(400, f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters, "
                       "bare or quoted")
    return value.strip('"')


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def reused_with_another_body() -> ValidationFailed:
    problem = FieldProblem(("header", "Idempotency-Key"), "This key was used with another body", "key_reused")
    return ValidationFailed([problem])
