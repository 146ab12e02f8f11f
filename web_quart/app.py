"""Quart glue: the async twin of `web_flask.app`, the API inside any Quart app
(`init_app`) or as an app of its own (`create_app`).

No rule lives here: the glue claims the API's paths in the app's URL map
(`todo_api.glue.mounting`) and hands each request under them to the core. The database pool
belongs to the serving lifetime of the app: it opens in `before_serving` (on the loop
that will use it) and closes in `after_serving`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import quart
from werkzeug.datastructures import Headers
from werkzeug.exceptions import NotFound, RequestEntityTooLarge, RequestTimeout
from werkzeug.routing import MapAdapter

from core.api import Api
from core.http import BODY_READ_LIMIT, Request, Response
from core.plan import BODY_TOO_LARGE, AsyncBodyReader, BodyTooLarge, FetchedKeys, FetchKeys
from core.tracing import Exchange
from storage import aio
from storage.migrate import migrate_or_log
from storage.watch_aio import StreamChunks
from todo_api.config.settings import Settings, load_settings
from todo_api.glue.asgi import AsgiApp, receive_body, scope_headers, scope_path, send_response, send_stream
from todo_api.glue.failures import failure_response
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
)
from todo_api.glue.wiring import build_api, core_request, database_options

REQUEST_SIGNALS = (quart.request_started, quart.request_finished, quart.got_request_exception)


class ApiResponse(quart.Response):
    default_mimetype = None  # type: ignore[assignment]  # the core sets Content-Type; a 204 has none
    automatically_set_content_length = False  # and Content-Length (a HEAD's is GET's)


def to_quart(response: Response, chunks: StreamChunks | None = None) -> ApiResponse:
    """The core's answer; a stream's `chunks` are sent as they come, for as long as it lasts
    (Quart's RESPONSE_TIMEOUT would cut it)."""
    answer = ApiResponse(response.body if chunks is None else chunks, response.status,
                         Headers(list(response.headers)))
    if chunks is not None:
        answer.timeout = None
    return answer


async def read_body(request: quart.Request, max_bytes: int, timeout: float) -> bytes | BodyTooLarge:
    """Up to `max_bytes` of the body, chunk by chunk; 408 when it takes longer than
    `timeout` seconds, which frees the worker.

    Quart takes the body from the server as it comes, and keeps at most the app's
    MAX_CONTENT_LENGTH of it unread (the limit itself in `create_app`'s app). When that
    trips, the body is known to be longer than `max_bytes` without reading it:
    `BODY_TOO_LARGE`. A host app's smaller limit is the host's 413."""
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
        return BODY_TOO_LARGE
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
        await self._migrate()
        conninfo = self.settings.require_database_url()
        self.open_database = await aio.Database(conninfo, database_options(self.settings)).open()
        self.observer.watch_pool(self.open_database.usage)

    async def database(self) -> aio.Database:
        if self.migrations_pending:
            await self._migrate()
        return self.open_database  # type: ignore[return-value]  # open while serving

    async def _migrate(self) -> None:
        async with self._lock:
            if self.migrations_pending:
                conninfo = self.settings.require_database_url()
                self.migrations_pending = not await asyncio.to_thread(migrate_or_log, conninfo)

    async def close(self) -> None:
        if self.open_database is not None:
            self.observer.forget_pool(self.open_database.usage)
            await self.open_database.close()
            self.open_database = None

    async def fetch_keys(self, request: FetchKeys) -> FetchedKeys:
        return self.observer.keys_fetched(await fetch_keys_async(request))

    def chunks(self, response: Response) -> StreamChunks | None:
        """A stream's chunks as they come; None for an answer with a body."""
        if response.stream is None or self.open_database is None:
            return None
        return self.open_database.stream(response.stream)

    async def run(self, request: Request, exchange: Exchange, read_body: AsyncBodyReader) -> Response:
        """The core's answer, counted in flight."""
        database = await self.database()
        with self.observer:
            return await database.run(self.api.handle(request, exchange), fetch_keys=self.fetch_keys,
                                      read_body=read_body, collect_metrics=self.observer.exposition)


def init_app(app: quart.Quart, url_prefix: str = "", settings: Settings | None = None) -> Mounted:
    """Serve the API from `app` under `url_prefix` ("" mounts its paths at the root)."""
    return mount(app, normalized_prefix(url_prefix), settings or load_settings(), standalone=False)


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
    mounted = mount(app, "", settings or load_settings(), standalone=True)
    mounted.answer_directly = direct_answers(mounted)
    return app


def scope_request(scope: Any, path: str, base_path: str) -> Request:
    """The request as the core takes it. Its body is read once the head is accepted,
    whatever the headers announce: ASGI hands a body over as messages, and Quart's own
    test client (like an HTTP/2 client) sends one with no Content-Length; a request
    without one reads as b"" at once."""
    method = scope["method"]  # as sent: werkzeug upper-cases it, HTTP does not (RFC 9110 9.1)
    return Request(method, path, scope["query_string"], scope_headers(scope), None, base_path)


def direct_answers(mounted: Mounted) -> AsgiApp:
    """The API as a plain ASGI app, for `StandaloneQuart`: what `dispatch` does, without
    Quart's request, response, tasks and timers in between. The same bytes on the wire (the
    equivalence tests compare it with the API embedded in a Quart app)."""
    api, observer, timeout = mounted.api, mounted.observer, mounted.settings.body_read_timeout_seconds
    write_timeout = mounted.settings.write_timeout_seconds

    async def answer(scope: Any, receive: Any, send: Any) -> None:
        core = scope_request(scope, scope_path(scope), scope.get("root_path", ""))
        exchange = api.begin(core)
        try:
            response = await mounted.run(core, exchange, lambda size: receive_body(receive, size, timeout))
        except Exception as error:
            response = failure_response(api, core, exchange, error, frontend="Quart")
        observer.finished(exchange)
        chunks = mounted.chunks(response)
        if chunks is None:
            await send_response(send, response)
        else:
            await send_stream(send, receive, response, chunks, write_timeout)

    return answer


def mount(app: quart.Quart, prefix: str, settings: Settings, *, standalone: bool) -> Mounted:
    mounted = Mounted(build_api(settings, "asgi"), settings)
    api, observer, timeout = mounted.api, mounted.observer, settings.body_read_timeout_seconds

    async def dispatch(rest: str = "") -> ApiResponse:
        request = quart.request._get_current_object()  # type: ignore[attr-defined]  # once, not per attribute
        core = scope_request(request.scope, path_below(scope_path(request.scope), prefix),
                             request.root_path + prefix)
        exchange = api.begin(core)
        setattr(quart.g, EXCHANGE, exchange)  # for `refused`, should Quart raise on the way
        answer = await mounted.run(core, exchange, lambda size: read_body(request, size, timeout))
        quart.g.pop(EXCHANGE)
        observer.finished(exchange)
        return to_quart(answer, mounted.chunks(answer))

    async def refused(error: Exception) -> ApiResponse:
        """The core's JSON for what Quart raised on the API's request (or, standalone, any);
        for a websocket upgrade (werkzeug calls one to an HTTP route a bad request), 404:
        the API has no websocket routes."""
        if quart.has_request_context():
            request = quart.request
            core = core_request(request.method, request.path, b"", request.headers.items())
        else:
            websocket = quart.websocket
            core = core_request("GET", websocket.path, b"", websocket.headers.items())
            error = NotFound("Not Found")
        exchange = quart.g.pop(EXCHANGE, None) or api.begin(core)
        answer = failure_response(api, core, exchange, error, frontend="Quart")
        observer.finished(exchange)
        return to_quart(answer)

    blueprint = quart.Blueprint(BLUEPRINT, __name__)
    install(app, blueprint=blueprint, view=dispatch, refused=refused, prefix=prefix, standalone=standalone,
            mounted=mounted)
    app.before_serving(mounted.open)
    app.after_serving(mounted.close)
    return mounted
