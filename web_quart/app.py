"""Quart glue: the async twin of `web_flask.app`, the API inside any Quart app
(`init_app`) or as an app of its own (`create_app`).

No rule lives here: the glue claims the API's paths in the app's URL map
(`todo_api.glue.mounting`) and hands each request under them to the core. The database pool
belongs to the serving lifetime of the app: it opens in `before_serving` (on the loop
that will use it) and closes in `after_serving`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import quart
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, RequestTimeout
from werkzeug.routing import MapAdapter

from core.api import Api
from core.http import BODY_READ_LIMIT, Request, Response, lower_headers
from core.keys import FetchedKeys, FetchKeys
from storage import aio
from storage.migrate import migrate_or_log
from todo_api.config.settings import Settings, load_settings
from todo_api.glue.keyfetch import fetch_keys_async
from todo_api.glue.mounting import (
    BLUEPRINT,
    EXCHANGE,
    MountedApi,
    SoleRuleAdapter,
    api_alone,
    install,
    normalized_prefix,
    path_below,
    sole_api_rule,
    url_rules,
)
from todo_api.glue.wiring import build_api, core_request, database_options

log = logging.getLogger("todo_api")

REQUEST_SIGNALS = (quart.request_started, quart.request_finished, quart.got_request_exception)

AsgiApp = Callable[[Any, Any, Any], Awaitable[None]]


class ApiResponse(quart.Response):
    default_mimetype = None  # type: ignore[assignment]  # the core sets Content-Type; a 204 has none
    automatically_set_content_length = False  # and Content-Length (a HEAD's is GET's)


def to_quart(response: Response) -> ApiResponse:
    return ApiResponse(response.body, response.status, Headers(list(response.headers)))


def scope_headers(scope: Any) -> dict[str, str]:
    """The request headers the way the core reads them, straight from the ASGI scope."""
    pairs = scope["headers"]
    return lower_headers((name.decode("latin-1"), value.decode("latin-1")) for name, value in pairs)


def scope_path(scope: Any) -> str:
    """The path below the ASGI `root_path` (which `path` includes), as the server sent it."""
    path: str = scope["path"]
    return path.removeprefix(scope.get("root_path", ""))


async def read_body(request: quart.Request, max_bytes: int, timeout: float) -> bytes:
    """Up to `max_bytes` of the body, chunk by chunk; 408 when it takes longer than
    `timeout` seconds, which frees the worker.

    Quart takes the body from the server as it comes, and keeps at most the app's
    MAX_CONTENT_LENGTH of it unread (the limit itself in `create_app`'s app). When that
    trips, the body is known to be longer than `max_bytes` without reading it: the
    answer is then `max_bytes` bytes, as `ReadBody` allows. A host app's smaller limit
    is the host's 413."""
    received = bytearray()
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.body:
                received += chunk
                if len(received) >= max_bytes:
                    break
    except TimeoutError:
        raise RequestTimeout() from None
    except RequestEntityTooLarge:
        if (request.max_content_length or 0) < max_bytes:
            raise
        return bytes(max_bytes)
    return bytes(received[:max_bytes])


class Mounted(MountedApi[aio.Database]):
    """What `init_app` keeps in `app.extensions["todo_api"]`: the API and its database,
    open while the app serves. Pending migrations run before serving; while the database
    is down they are tried again by each request, which meanwhile gets the core's 503."""

    def __init__(self, api: Api, settings: Settings) -> None:
        super().__init__(api, settings)
        self._lock = asyncio.Lock()
        self.answer_directly: AsgiApp | None = None  # the API as a plain ASGI app, standalone only

    async def open(self) -> None:
        conninfo = self.settings.require_database_url()
        self._database = await aio.Database(conninfo, database_options(self.settings)).open()
        self.observer.watch_pool(self._database.usage)
        await self._migrate()

    async def database(self) -> aio.Database:
        if self._migrations_pending:
            await self._migrate()
        return self._database  # type: ignore[return-value]  # open while serving

    async def _migrate(self) -> None:
        async with self._lock:
            if self._migrations_pending:
                conninfo = self.settings.require_database_url()
                self._migrations_pending = not await asyncio.to_thread(migrate_or_log, conninfo)

    async def close(self) -> None:
        if self._database is not None:
            self.observer.forget_pool(self._database.usage)
            await self._database.close()
            self._database = None


def init_app(app: quart.Quart, url_prefix: str = "", settings: Settings | None = None) -> Mounted:
    """Serve the API from `app` under `url_prefix` ("" mounts its paths at the root)."""
    return mount(app, normalized_prefix(url_prefix), settings or load_settings(), everything=False)


class StandaloneQuart(quart.Quart):
    """The app `create_app` makes. While the API is all it serves, werkzeug's matching is
    skipped, and so is Quart's own request handling (`asgi_app`): Quart adds nothing to an
    answer then, and cost more than the API itself (#21). A route or a request hook added
    to the app brings both back; lifespan and websocket scopes are always Quart's."""

    async def asgi_app(self, scope: Any, receive: Any, send: Any) -> None:
        answer_directly: AsgiApp | None = self.extensions[BLUEPRINT].answer_directly
        if scope["type"] == "http" and answer_directly is not None and api_alone(self, REQUEST_SIGNALS):
            await answer_directly(scope, receive, send)
        else:
            await super().asgi_app(scope, receive, send)

    def create_url_adapter(self, request: Any) -> MapAdapter | None:
        rule = sole_api_rule(self.url_map) if isinstance(request, quart.Request) else None
        if rule is None:
            return super().create_url_adapter(request)
        return SoleRuleAdapter(rule, lambda: super(StandaloneQuart, self).create_url_adapter(request))  # type: ignore[return-value]


def create_app(settings: Settings | None = None) -> quart.Quart:
    """The API as an app of its own (what `todo-api serve` runs): every path is the API's,
    and so is every error Quart raises, a websocket upgrade's included."""
    app = StandaloneQuart(__name__, static_folder=None)  # no /static/ route of its own
    app.config["MAX_CONTENT_LENGTH"] = BODY_READ_LIMIT  # what Quart keeps of a body unread
    mounted = mount(app, "", settings or load_settings(), everything=True)
    mounted.answer_directly = direct_answers(mounted)
    return app


async def receive_body(receive: Any, max_bytes: int, timeout: float) -> bytes:
    """Up to `max_bytes` of the body, from the server's messages; 408 (as Quart's
    `read_body`) when it takes longer than `timeout` seconds."""
    received = bytearray()
    try:
        async with asyncio.timeout(timeout):
            while len(received) < max_bytes:
                message = await receive()
                if message["type"] != "http.request":
                    break  # http.disconnect
                received += message.get("body", b"")
                if not message.get("more_body", False):
                    break
    except TimeoutError:
        raise RequestTimeout() from None
    return bytes(received[:max_bytes])


def direct_answers(mounted: Mounted) -> AsgiApp:
    """The API as a plain ASGI app, for `StandaloneQuart`: what `dispatch` does, without
    Quart's request, response, tasks and timers in between. The same bytes on the wire (the
    equivalence tests compare it with the API embedded in a Quart app)."""
    api, observer, timeout = mounted.api, mounted.observer, mounted.settings.body_read_timeout_seconds

    async def counted_fetch(request: FetchKeys) -> FetchedKeys:
        return observer.keys_fetched(await fetch_keys_async(request))

    async def answer(scope: Any, receive: Any, send: Any) -> None:
        core = Request(scope["method"], scope_path(scope), scope["query_string"], scope_headers(scope),
                       None, scope.get("root_path", ""))
        exchange = api.begin(core)
        try:
            database = await mounted.database()
            with observer:  # in flight
                response = await database.run(api.handle(core, exchange), counted_fetch,
                                              lambda size: receive_body(receive, size, timeout),
                                              observer.exposition)
        except HTTPException as error:
            response = api.error(core, error.code or 400, error.description or error.name, exchange)
        except Exception:
            response = api.error(core, 500, "Internal Server Error", exchange)
            log.exception("unexpected error in the Quart frontend")
        observer.finished(exchange)
        await send({"type": "http.response.start", "status": response.status,
                    "headers": [(name.lower().encode(), value.encode()) for name, value in response.headers]})
        await send({"type": "http.response.body", "body": response.body})

    return answer


def mount(app: quart.Quart, prefix: str, settings: Settings, everything: bool) -> Mounted:
    api = build_api(settings)
    mounted = Mounted(api, settings)
    timeout = settings.body_read_timeout_seconds

    observer = mounted.observer

    async def counted_fetch(request: FetchKeys) -> FetchedKeys:
        return observer.keys_fetched(await fetch_keys_async(request))

    async def dispatch(rest: str = "") -> ApiResponse:
        request = quart.request._get_current_object()  # type: ignore[attr-defined]  # once, not per attribute
        scope = request.scope
        headers = scope_headers(scope)
        # Read once the head is accepted, whatever the headers announce: ASGI hands a body
        # over as messages, and Quart's own test client (like an HTTP/2 client) sends a
        # body with no Content-Length; a request without one reads as b"" at once.
        body = None
        path = path_below(scope_path(scope), prefix)
        base = request.root_path + prefix
        method = scope["method"]  # as sent: werkzeug upper-cases it, HTTP does not (RFC 9110 9.1)
        core = Request(method, path, request.query_string, headers, body, base)
        exchange = api.begin(core)
        setattr(quart.g, EXCHANGE, exchange)  # for `refused`, should Quart raise on the way
        database = await mounted.database()
        with observer:  # in flight
            answer = await database.run(api.handle(core, exchange), counted_fetch,
                                        lambda size: read_body(request, size, timeout), observer.exposition)
        quart.g.pop(EXCHANGE)
        observer.finished(exchange)
        return to_quart(answer)

    def refused(status: int, detail: str) -> ApiResponse:
        """The core's JSON error for what Quart refused; for a websocket upgrade (werkzeug
        calls one to an HTTP route a bad request), 404: the API has no websocket routes."""
        if quart.has_request_context():
            request = quart.request
            core = core_request(request.method, request.path, b"", request.headers.items())
        else:
            websocket = quart.websocket
            core = core_request("GET", websocket.path, b"", websocket.headers.items())
            status, detail = 404, "Not Found"
        exchange = quart.g.pop(EXCHANGE, None) or api.begin(core)
        answer = api.error(core, status, detail, exchange)
        observer.finished(exchange)
        return to_quart(answer)

    async def framework_error(error: HTTPException) -> ApiResponse:
        return refused(error.code or 400, error.description or error.name)

    async def unexpected_error(error: Exception) -> ApiResponse:
        answer = refused(500, "Internal Server Error")  # first: the log line gets its request id
        log.exception("unexpected error in the Quart frontend")
        return answer

    blueprint = quart.Blueprint(BLUEPRINT, __name__)
    error_handlers = {HTTPException: framework_error, Exception: unexpected_error}
    rules = url_rules(prefix, api.routes.roots, everything)
    install(app, blueprint, dispatch, error_handlers, rules, everything, mounted)
    app.before_serving(mounted.open)
    app.after_serving(mounted.close)
    return mounted
