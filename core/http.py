"""The request and response values that cross the seam between a frontend and the core."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from core.plan import Stream

MAX_BODY_BYTES = 64 * 1024
"""Request bodies larger than this are refused with 413 (a task is well under 2 KiB)."""
BODY_READ_LIMIT = MAX_BODY_BYTES + 1
"""How much of a body is read: one byte past the limit is enough to say 413."""


@attrs.frozen(slots=True)
class Request:
    """A parsed HTTP request, framework-neutral.

    `path` is the decoded path below where the API is mounted, and `base_path` that
    mount point (the WSGI `SCRIPT_NAME` or ASGI `root_path`, plus a host app's prefix),
    which the `Location` of a created task starts with. `headers` maps lower-case names
    to values (repeated ones joined: `lower_headers`); `query_string` is the raw,
    undecoded query so that both frontends hand over exactly the same thing. `body` is
    None when the frontend has not read it yet: the plan asks for it with `ReadBody` once
    the token has been checked, so a request refused from its head never waits for a body.
    """

    method: str
    path: str
    query_string: bytes = b""
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: bytes | None = b""
    base_path: str = ""


@attrs.frozen(slots=True)
class Response:
    """A complete HTTP response: the frontends copy it to the wire unchanged. A streamed
    one has a `stream` instead of a body: the driver runs it after the head is sent."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    stream: Stream | None = None

    def with_headers(self, extra: tuple[tuple[str, str], ...]) -> Response:
        return Response(self.status, self.headers + extra, self.body, self.stream)

    def has_header(self, name: str) -> bool:
        """Whether a header of this name (any case) is set."""
        lowered = name.lower()
        return any(key.lower() == lowered for key, _ in self.headers)


JSON_HEADERS = (("Content-Type", "application/json"),)


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(
    status: int, value: Any, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    return Response(status, JSON_HEADERS + headers, json_bytes(value))


def raw_json_response(
    status: int, body: bytes, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    """A response whose body is JSON already rendered (by PostgreSQL)."""
    return Response(status, JSON_HEADERS + headers, body)


BODILESS_STATUSES = frozenset({204, 304})


def framed(method: str, response: Response) -> Response:
    """The response as it goes on the wire: with its `Content-Length` (the frontends set
    none of their own), except where a status forbids one (RFC 9110 section 8.6), and for
    HEAD the length GET would have, without the body (section 9.3.2)."""
    if response.status in BODILESS_STATUSES or response.status < 200:
        return response
    if response.stream is not None:  # its length is not known: chunked, or until the close
        return Response(response.status, response.headers) if method == "HEAD" else response
    length = (("Content-Length", str(len(response.body))),)
    if method == "HEAD":
        return Response(response.status, response.headers + length)
    return response.with_headers(length)


def announces_body(headers: Mapping[str, str]) -> bool:
    """Whether a request has content (RFC 9112 section 6.3): only when a Content-Length
    other than 0 or a Transfer-Encoding says so. A WSGI frontend reads nothing otherwise
    (PEP 3333: wsgi.input may block past the end); an ASGI one is told the end."""
    return headers.get("content-length", "0") != "0" or "transfer-encoding" in headers


def lower_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-case header names; a repeated header's values joined by ", " (RFC 9110
    section 5.3), as WSGI servers hand them over, so that an ASGI frontend gives the core
    the same: two `Authorization` headers make one that no token matches (401)."""
    result: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        result[key] = f"{result[key]}, {value}" if key in result else value
    return result
