"""The API as a whole: route a request, authenticate it, run its handler, shape the answer.

Frontends call `Api.handle` for every request, and `Api.error` for one their framework
refused before the core saw it. Whatever happens inside, a plan returns a `Response`:
client errors become their 4xx JSON, a database that cannot be reached becomes 503,
anything unexpected becomes a logged, bare 500 (what the client sent is logged quoted,
and tracebacks within a budget: see `core.logsafe`).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Generator, Iterable, Mapping
from typing import Any

import attrs

from core import caching as caching_rules
from core import events, handlers
from core.auth import Authenticator
from core.cors import CorsPolicy
from core.docs import docs_routes
from core.errors import (
    DATABASE_UNAVAILABLE,
    INTERNAL_ERROR,
    ApiError,
    ValidationFailed,
    not_found,
)
from core.http import BODY_READ_LIMIT, MAX_BODY_BYTES, Request, Response, framed
from core.logsafe import TracebackBudget, quoted
from core.metrics import metrics_routes
from core.plan import BodyTooLarge, Plan, ReadBody, StorageFailure
from core.routes import DEFAULT_LIMITS, Context, Limits, Operation, Route, RouteTable
from core.tracing import Exchange, begin

log = logging.getLogger("todo_api")

ROUTES = (
    Route("/", {"GET": Operation(handlers.root, "about", "The API's name and version", {200: "About"},
                                 uses_database=False)}, authenticated=False),
    Route("/health", {"GET": Operation(handlers.health, "health", "Liveness: answers without the database",
                                       {200: "Health"}, uses_database=False)}, authenticated=False),
    Route("/ready", {"GET": Operation(handlers.ready, "ready", "Readiness: the database answers",
                                      {200: "Ready"})}, authenticated=False),
    Route(
        "/api/{user_id}/tasks",
        {
            "GET": Operation(handlers.list_tasks, "listTasks", "The user's tasks, filtered and sorted",
                             {200: "TaskList", 304: None}, list_query=True, if_none_match=True),
            "POST": Operation(handlers.create_task, "createTask", "Create a task", {201: "Task"},
                              body="TaskCreate", idempotency_key=True, errors=(409,)),
        },
        authenticated=True,
    ),
    Route(
        "/api/{user_id}/tasks/{task_id}",
        {
            "GET": Operation(handlers.get_task, "getTask", "One task", {200: "Task", 304: None},
                             if_none_match=True),
            "PUT": Operation(handlers.update_task, "updateTask",
                             "Change the fields given (absent: unchanged, null: cleared)", {200: "Task"},
                             body="TaskUpdate", if_match=True),
            "DELETE": Operation(handlers.delete_task, "deleteTask", "Delete a task", {204: None},
                                if_match=True),
        },
        authenticated=True,
    ),
    Route(
        "/api/{user_id}/tasks/{task_id}/complete",
        {"PATCH": Operation(handlers.toggle_task, "toggleTask",
                            "Toggle between pending and completed; with a body, set the state",
                            {200: "Task"}, body="Completion", body_required=False, if_match=True)},
        authenticated=True,
    ),
    Route(
        "/api/{user_id}/changes",
        {"GET": Operation(handlers.list_changes, "listChanges",
                          "What changed after a revision: tasks written and ids deleted, in order",
                          {200: "Changes"}, feed_query=True, errors=(410,))},
        authenticated=True,
    ),
    Route(
        "/api/{user_id}/events",
        {"GET": Operation(events.subscribe_to_events, "streamEvents",
                          "Server-sent events: the user's revision now, then each time it moves",
                          {200: "EventStream"}, media_type="text/event-stream")},
        authenticated=True,
    ),
    Route(
        "/api/{user_id}/stats",
        {"GET": Operation(handlers.task_stats, "taskStats", "Counts of the user's tasks",
                          {200: "Stats", 304: None}, if_none_match=True)},
        authenticated=True,
    ),
)


CLOSE_CONNECTION = (("Connection", "close"),)
METHODS_WITH_CONTENT = frozenset({"POST", "PUT", "PATCH"})
"""The methods whose body the API reads; any other request's body is left unread."""
DECIMAL = re.compile(r"[0-9]+")


def too_large() -> ApiError:
    return ApiError(413, f"Request body is larger than {MAX_BODY_BYTES} bytes")


def read_content(request: Request) -> Generator[ReadBody, Any, bytes]:
    """The body, or 413 without reading on when it is over the limit. A Content-Length
    over it is refused before reading a byte; a chunked body as soon as one byte too many
    arrives (`ReadBody` asks for no more). A Content-Length that is not one number (two
    of them, joined) is a 400: servers refuse it first, but the rule is the API's."""
    length = request.headers.get("content-length")
    if length is not None:
        if not DECIMAL.fullmatch(length):
            raise ApiError(400, "Content-Length must be a single decimal number")
        digits = length.lstrip("0")
        if len(digits) > len(str(MAX_BODY_BYTES)) or int(digits or 0) > MAX_BODY_BYTES:
            raise too_large()
    body = request.body if request.body is not None else (yield from ReadBody(BODY_READ_LIMIT))
    if isinstance(body, BodyTooLarge) or len(body) > MAX_BODY_BYTES:
        raise too_large()
    return body


class Api:
    """The configured API: the route table, who may call it, and from which origins."""

    def __init__(
        self,
        authenticator: Authenticator,
        cors_origins: Iterable[str] = (),
        routes: tuple[Route, ...] = ROUTES,
        limits: Limits = DEFAULT_LIMITS,
        docs_assets: Mapping[str, bytes] | None = None,
        clock: Callable[[], float] = time.perf_counter,
        metrics: bool = False,
        metrics_token: str | None = None,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        """`docs_assets` (Swagger UI's files by name) adds `/openapi.json` and `/docs`;
        `metrics` adds `/metrics` (for `metrics_token`'s bearer only, when given);
        `clock` times each exchange; `stopping` says whether this process has begun to stop
        (then `/ready` answers 503 and every answer closes its connection: a load balancer
        sends no more, and keeps no idle connection to a process about to close its port)."""
        self.authenticator = authenticator
        self.clock = clock
        self.stopping = stopping
        self.limits = limits
        self.cors = CorsPolicy(frozenset(cors_origins))
        if docs_assets is not None:
            routes = routes + docs_routes(routes, docs_assets)
        if metrics:
            routes = routes + metrics_routes(metrics_token)
        self.routes = RouteTable(routes)
        self._private_routes = frozenset(route.pattern for route in routes if route.authenticated)
        self.tracebacks = TracebackBudget()

    def begin(self, request: Request) -> Exchange:
        """The request's exchange, current from now on for its log lines; a frontend passes
        it to `handle` (or `error`) and reads it, complete, once the answer is made."""
        return begin(request.method, request.headers, self.clock())

    def handle(self, request: Request, exchange: Exchange | None = None) -> Plan:
        """The plan for one request. Drivers run it; it always returns a Response."""
        if exchange is None:
            exchange = self.begin(request)
        try:
            response = yield from self._dispatch(request, exchange)
        except (ApiError, ValidationFailed) as error:
            response = error.to_response()
        except StorageFailure as failure:
            exchange.database_error = failure.kind
            if failure.transient:
                cause = failure.sqlstate or "unreachable"
                log.warning("database unavailable (%s): %s", cause, quoted(failure.message))
                response = DATABASE_UNAVAILABLE.to_response()
            else:
                log.error("database error %s: %s", failure.sqlstate, quoted(failure.message))
                response = INTERNAL_ERROR.to_response()
        except Exception as error:
            self._log_unexpected(request, error)
            response = INTERNAL_ERROR.to_response()
        return self._finish(request, response, exchange)

    def _finish(self, request: Request, response: Response, exchange: Exchange) -> Response:
        """The answer as sent: CORS, caching, the request id, HEAD's empty body, and
        `Connection: close` while stopping; the exchange completed."""
        caching = caching_rules.PRIVATE if exchange.route in self._private_routes else caching_rules.SHARED
        if not response.has_header("cache-control"):
            response = response.with_headers(caching.headers)
        if self.stopping():
            response = response.with_headers(CLOSE_CONNECTION)
        response = framed(request.method, self.cors.apply(request, response, caching.vary).with_headers(
            (("X-Request-ID", exchange.request_id),)))
        exchange.status = response.status
        exchange.response_bytes = len(response.body)
        exchange.duration = self.clock() - exchange.started
        return response

    def _log_unexpected(self, request: Request, error: Exception) -> None:
        """A traceback while the budget lasts, then a counting line now and then."""
        verdict = self.tracebacks.verdict(error)
        where = f"{quoted(request.method)} {quoted(request.path)}"
        if verdict.traceback:
            log.error("unexpected error on %s", where, exc_info=error)
        elif verdict.line:
            log.error(
                "unexpected error on %s: %s, %d of this kind within %g s (tracebacks: the first %d)",
                where, type(error).__name__, verdict.seen, self.tracebacks.window, self.tracebacks.per_window,
            )

    def error(self, request: Request, status: int, detail: str, exchange: Exchange | None = None) -> Response:
        """A JSON error for a request the frontend's framework refused, completing its
        exchange (a new one, current from now on, when the core had not seen it)."""
        if exchange is None:
            exchange = self.begin(request)
        return self._finish(request, ApiError(status, detail).to_response(), exchange)

    def _dispatch(self, request: Request, exchange: Exchange) -> Plan:
        found = self.routes.find(request.path)
        if found is None:
            raise not_found()
        route, params = found
        exchange.route = route.pattern
        method = "GET" if request.method == "HEAD" else request.method
        if method == "OPTIONS":
            return Response(204, (("Allow", route.allow_header()),))
        operation = route.operations.get(method)
        if operation is None:
            raise ApiError(405, "Method Not Allowed", (("Allow", route.allow_header()),))
        user_id = ""
        if route.authenticated:
            user_id = yield from self.authenticator.authorize(request.headers, params["user_id"], exchange)
        if method in METHODS_WITH_CONTENT:
            request = attrs.evolve(request, body=(yield from read_content(request)))
        result = operation.handler(Context(request, params, user_id, self.limits, exchange.token_expires_at,
                                           self.stopping()))
        if isinstance(result, Response):
            return result
        return (yield from result)
