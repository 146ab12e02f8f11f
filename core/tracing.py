"""Request ids and W3C trace context: which request a log line or an answer belongs to.

A client's `X-Request-ID` is kept when it is 1-128 safe characters (else the API makes
one); a valid `traceparent` gives the trace id. Both are held in a context variable for
the time of the request, so every log line the request causes can carry them
(`RequestIdFilter`), whichever module logs it.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from contextvars import ContextVar

import attrs

SAFE_ID = re.compile(r"[A-Za-z0-9._~:/+=@-]{1,128}")
TRACEPARENT = re.compile(r"00-(?!0{32})([0-9a-f]{32})-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}")
"""Version 00 of https://www.w3.org/TR/trace-context/ (all-zero ids are invalid)."""


@attrs.frozen(slots=True)
class RequestIds:
    request_id: str
    trace_id: str | None = None


NO_REQUEST = RequestIds("-")
CURRENT: ContextVar[RequestIds] = ContextVar("todo_api_request", default=NO_REQUEST)


def request_ids(headers: Mapping[str, str]) -> RequestIds:
    given = headers.get("x-request-id", "")
    request_id = given if SAFE_ID.fullmatch(given) else uuid.uuid4().hex
    trace = TRACEPARENT.fullmatch(headers.get("traceparent", "").strip())
    return RequestIds(request_id, trace[1] if trace else None)


def begin(headers: Mapping[str, str]) -> RequestIds:
    """The ids of the request being handled, now current for its log lines."""
    ids = request_ids(headers)
    CURRENT.set(ids)
    return ids


class RequestIdFilter(logging.Filter):
    """Adds `request_id` and `trace_id` ("-" outside a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = CURRENT.get()
        record.request_id = ids.request_id
        record.trace_id = ids.trace_id or "-"
        return True
