"""The route table: which path and method reach which handler, and path parameters."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs

from core import settings_table as table
from core.http import Request, Response
from core.plan import Plan


@attrs.frozen(slots=True)
class Limits:
    """What one user may hold and get back at once (MAX_TASKS_PER_USER, LIST_MAX_ITEMS),
    whether a write must name the version it changes (REQUIRE_IF_MATCH), and how long an
    Idempotency-Key is remembered (IDEMPOTENCY_KEY_TTL_SECONDS), and how long and how many
deletions the change feed keeps (DELETIONS_KEPT_*), how event streams run (EVENTS_*), and
whether a read replica is there: the settings table's rows."""

    max_tasks_per_user: int = table.MAX_TASKS_PER_USER.default
    list_max_items: int = table.LIST_MAX_ITEMS.default
    require_if_match: bool = table.REQUIRE_IF_MATCH.default
    idempotency_key_ttl_seconds: float = table.IDEMPOTENCY_KEY_TTL_SECONDS.default
    deletions_kept_seconds: float = table.DELETIONS_KEPT_SECONDS.default
    deletions_kept_per_user: int = table.DELETIONS_KEPT_PER_USER.default
    events_heartbeat_seconds: float = table.EVENTS_HEARTBEAT_SECONDS.default
    events_per_user_max: int = table.EVENTS_PER_USER_MAX.default
    events_per_worker_max: int = table.EVENTS_PER_WORKER_MAX_ASGI
    read_replica: bool = False
    """DATABASE_REPLICA_URL is set: reads that have caught up may come from it (core.reads)."""


DEFAULT_LIMITS = Limits()


@attrs.frozen(slots=True)
class Context:
    """What a handler gets: the request, its path parameters, the verified user, the limits,
    when the user's token expires (an event stream ends then), and whether the process stops."""

    request: Request
    params: Mapping[str, str]
    user_id: str = ""
    limits: Limits = DEFAULT_LIMITS
    token_expires_at: float | None = None
    """The token's `exp` (seconds since the epoch), for an event stream's end."""
    stopping: bool = False
    """This process has begun to stop (`/ready` answers 503)."""

    @property
    def body(self) -> bytes:
        """The request body: read before a POST, PUT or PATCH handler runs; any other's is
        never read (a GET's body means nothing) and is empty here."""
        return self.request.body or b""


Handler = Callable[[Context], "Plan | Response"]


@attrs.frozen(slots=True)
class Operation:
    """One method of a route: its handler, and what the OpenAPI document says of it
    (`core.openapi` adds the errors every operation of its kind can answer)."""

    handler: Handler
    id: str
    summary: str
    answers: Mapping[int, str | None]
    """Its successful statuses and the schema of each body (None: no body)."""
    body: str | None = None
    """The schema of the request body it reads, if any."""
    body_required: bool = True
    list_query: bool = False
    """It takes the list's query parameters (`core.listing`)."""
    feed_query: bool = False
    """It takes the change feed's query parameters (`core.changes`)."""
    uses_database: bool = True
    if_match: bool = False
    """A write that `If-Match` makes conditional (412; 428 under REQUIRE_IF_MATCH)."""
    if_none_match: bool = False
    """A read that `If-None-Match` answers with 304 when nothing changed."""
    idempotency_key: bool = False
    """A create that an `Idempotency-Key` makes safe to retry."""
    errors: tuple[int, ...] = ()
    """Statuses of its own beyond those of its kind (409 for a create past the limit)."""
    media_type: str = "application/json"
    """What its successful answers are (`text/event-stream`: a stream of server-sent events)."""


@attrs.frozen(slots=True)
class Route:
    """A path pattern like "/api/{user_id}/tasks" and its operations by method.

    `documented` is false for the routes that serve the documentation itself."""

    pattern: str
    operations: Mapping[str, Operation]
    authenticated: bool
    documented: bool = True
    segments: tuple[str, ...] = attrs.field(init=False)

    @segments.default
    def _split(self) -> tuple[str, ...]:
        return tuple(self.pattern.split("/")[1:])

    def match(self, parts: list[str]) -> dict[str, str] | None:
        if len(parts) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for part, segment in zip(parts, self.segments, strict=True):
            if segment.startswith("{"):
                if not part:
                    return None
                params[segment[1:-1]] = part
            elif part != segment:
                return None
        return params

    def allow_header(self) -> str:
        methods = set(self.operations) | {"OPTIONS"}
        if "GET" in methods:
            methods.add("HEAD")
        return ", ".join(sorted(methods))


class RouteTable:
    """Routes grouped by their number of path segments: a path is tried only against its peers."""

    def __init__(self, routes: tuple[Route, ...]) -> None:
        self._routes = routes
        self._by_length: dict[int, list[Route]] = {}
        for route in routes:
            self._by_length.setdefault(len(route.segments), []).append(route)

    @property
    def roots(self) -> tuple[str, ...]:
        """Each route's first path segment ("" for "/"), once: the paths a host app hands
        to the API, everything under them included, when it mounts the API at its root."""
        return tuple(dict.fromkeys(route.segments[0] for route in self._routes))

    def find(self, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route and its parameters; none for a "." or ".." segment (a client resolves
        those before sending, RFC 3986 section 5.2.4: one that arrives names nothing)."""
        parts = (path or "/").split("/")[1:]
        if "." in parts or ".." in parts:
            return None
        for route in self._by_length.get(len(parts), ()):
            params = route.match(parts)
            if params is not None:
                return route, params
        return None
