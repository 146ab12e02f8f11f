"""What both frontends build from the settings, built in one place so they cannot drift."""

from __future__ import annotations

from collections.abc import Iterable

from core.api import Api
from core.auth import SharedSecretVerifier
from core.http import MAX_BODY_BYTES, Request, lower_headers
from todo_api.settings import Settings

HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
"""Every method the catch-all view accepts; the core answers 405 where a route lacks one."""

BODY_READ_LIMIT = MAX_BODY_BYTES + 1
"""Frontends read at most this much: one byte past the limit is enough for the core to say 413."""

OVERSIZED_BODY = bytes(BODY_READ_LIMIT)
"""What a frontend hands the core when its framework already refused the body as too large."""


def build_api(settings: Settings) -> Api:
    return Api(SharedSecretVerifier(settings.require_secret()), settings.cors_origins)


def core_request(
    method: str, path: str, query_string: bytes, headers: Iterable[tuple[str, str]], body: bytes = b""
) -> Request:
    return Request(method, path, query_string, lower_headers(headers), body)
