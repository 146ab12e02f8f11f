"""Request ids, W3C trace context and the exchange: which request a log line or an
answer belongs to, and what the access log and the metrics say of it.

A client's `X-Request-ID` is kept when it is 1-128 safe characters (else the API makes
one); a valid `traceparent` gives the trace id. Both are held in a context variable for
the time of the request (with the rest of its `Exchange`), so every log line the
request causes can carry them (`RequestIdFilter`), whichever module logs it.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Literal

import attrs

from core.logsafe import quoted

SAFE_ID = re.compile(r"[A-Za-z0-9._~:/+=@-]{1,128}")
TRACEPARENT = re.compile(r"00-(?!0{32})([0-9a-f]{32})-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}")
"""Version 00 of https://www.w3.org/TR/trace-context/ (all-zero ids are invalid)."""


KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str) -> str:
    """The method as a log field or metric label may show it: a client's invented method
    is "_OTHER" (OpenTelemetry's rule), so labels stay few and lines stay honest."""
    return method if method in KNOWN_METHODS else "_OTHER"


@attrs.define(slots=True)
class Exchange:
    """One request as the access log and the metrics tell it, filled in as the core
    handles it. Every value is bounded or the API's own: the route's template (never the
    raw path), the method's label, the authenticated user's id."""

    request_id: str
    trace_id: str | None
    method: str
    started: float
    """The API's clock when the request reached it (seconds, any origin)."""
    route: str | None = None
    """The matched route's template, like "/api/{user_id}/tasks"; None when none matched."""
    user_id: str | None = None
    status: int = 0
    response_bytes: int = 0
    duration: float = 0.0
    token_expires_at: float | None = None
    """The verified token's `exp` (seconds since the epoch)."""
    token_cache: Literal["hit", "miss"] | None = None
    """Whether the bearer token's check was answered from the cache."""
    database_error: str | None = None
    """"unreachable", "pool_timeout" or the SQLSTATE of a statement that failed."""

    def access_fields(self) -> dict[str, object]:
        """The access log's fields beyond the time, level and ids every line has."""
        return {
            "method": self.method, "route": self.route, "status": self.status,
            "duration_ms": round(self.duration * 1000, 3), "bytes": self.response_bytes,
            "user_id": self.user_id,
        }

    def access_summary(self) -> str:
        """The message of a JSON access line (its fields say the rest)."""
        return f"{self.method} {self.route or '-'} {self.status}"

    def access_line(self) -> str:
        """The access log's fields as text for a terminal; the user id quoted (a token's
        subject may hold any character but NUL)."""
        user = f" user={quoted(self.user_id)}" if self.user_id is not None else ""
        route = self.route or "-"
        took = f"{self.duration * 1000:.1f}ms"
        return f"{self.method} {route} {self.status} {took} {self.response_bytes}B{user}"


NO_REQUEST = Exchange("-", None, "-", 0.0)
CURRENT: ContextVar[Exchange] = ContextVar("todo_api_request", default=NO_REQUEST)


def request_ids(headers: Mapping[str, str]) -> tuple[str, str | None]:
    """The request id to answer and log (the client's when safe), and the trace id if any."""
    given = headers.get("x-request-id", "")
    request_id = given if SAFE_ID.fullmatch(given) else uuid.uuid4().hex
    trace = TRACEPARENT.fullmatch(headers.get("traceparent", "").strip())
    return request_id, trace[1] if trace else None


def begin(method: str, headers: Mapping[str, str], now: float) -> Exchange:
    """The exchange of the request being handled, now current for its log lines."""
    exchange = Exchange(*request_ids(headers), method_label(method), now)
    CURRENT.set(exchange)
    return exchange


class RequestIdFilter(logging.Filter):
    """Adds `request_id` and `trace_id` ("-" outside a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        exchange = CURRENT.get()
        record.request_id = exchange.request_id
        record.trace_id = exchange.trace_id or "-"
        return True
