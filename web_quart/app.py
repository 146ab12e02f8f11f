"""Quart glue: the async twin of `web_flask.app`: every request goes to the core, and
Quart's URL map is never consulted (the core owns routing).

The database pool belongs to the serving lifetime: it opens in `before_serving` (on the loop
that will use it) and closes in `after_serving`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

import quart
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.routing import MapAdapter

from core.http import BODY_READ_LIMIT, Request, Response, lower_headers
from storage import aio
from storage.migrate import migrate
from todo_api.keyfetch import fetch_keys_async
from todo_api.settings import Settings, load_settings
from todo_api.wiring import OVERSIZED_BODY, build_api, core_request, database_options

log = logging.getLogger("todo_api")


class ApiResponse(quart.Response):
    default_mimetype = None  # type: ignore[assignment]  # the core sets Content-Type; a 204 has none
    automatically_set_content_length = False  # and Content-Length (a HEAD's is GET's)


def to_quart(response: Response) -> ApiResponse:
    return ApiResponse(response.body, response.status, Headers(list(response.headers)))


def scope_headers(scope: Any) -> dict[str, str]:
    """The request headers the way the core reads them, straight from the ASGI scope."""
    pairs = scope["headers"]
    return lower_headers((name.decode("latin-1"), value.decode("latin-1")) for name, value in pairs)


BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


def may_carry_body(method: str, headers: dict[str, str]) -> bool:
    """Whether to wait for a body: not for a GET-like request that announces none (most of them)."""
    return method not in BODYLESS_METHODS or "content-length" in headers or "transfer-encoding" in headers


async def read_body(request: quart.Request) -> bytes:
    try:
        return cast(bytes, await request.get_data(cache=False, as_text=False))
    except RequestEntityTooLarge:
        return OVERSIZED_BODY


class ApiQuart(quart.Quart):
    """A Quart app whose every request is dispatched to `api_view`, with no URL matching."""

    response_class = ApiResponse
    api_view: Callable[[], Awaitable[ApiResponse]]
    refuse: Callable[[int, str], ApiResponse]

    def create_url_adapter(self, request: Any) -> MapAdapter | None:
        return None if request is not None else super().create_url_adapter(request)

    async def dispatch_request(self, request_context: Any = None) -> ApiResponse:
        return await self.api_view()

    async def dispatch_websocket(self, websocket_context: Any = None) -> ApiResponse:
        return self.refuse(404, "Not Found")  # the API has no websocket routes


def create_app(settings: Settings | None = None) -> quart.Quart:
    settings = settings or load_settings()
    api = build_api(settings)
    conninfo = settings.require_database_url()

    app = ApiQuart(__name__)
    app.config["MAX_CONTENT_LENGTH"] = BODY_READ_LIMIT
    app.config["BODY_TIMEOUT"] = settings.body_read_timeout  # then 408, and the worker is free
    state: dict[str, object] = {"api": api}
    app.extensions["todo_api"] = state

    @app.before_serving
    async def open_database() -> None:
        if settings.migrate_on_start:
            await asyncio.to_thread(migrate, conninfo)
        state["database"] = await aio.Database(conninfo, database_options(settings)).open()

    @app.after_serving
    async def close_database() -> None:
        await state["database"].close()  # type: ignore[attr-defined]

    async def dispatch() -> ApiResponse:
        request = quart.request
        headers = scope_headers(request.scope)
        body = None if may_carry_body(request.method, headers) else b""  # read once the head is accepted
        plan = api.handle(Request(request.method, request.path, request.query_string, headers, body))
        database = cast(aio.Database, state["database"])
        return to_quart(await database.run(plan, fetch_keys_async, lambda _: read_body(request)))

    async def framework_error(error: HTTPException) -> ApiResponse:
        request = quart.request
        refused = core_request(request.method, request.path, b"", request.headers.items())
        return to_quart(api.error(refused, error.code or 400, error.description or error.name))

    async def unexpected_error(error: Exception) -> ApiResponse:
        log.exception("unexpected error in the Quart frontend")
        refused = core_request(quart.request.method, quart.request.path, b"", quart.request.headers.items())
        return to_quart(api.error(refused, 500, "Internal Server Error"))

    def refuse(status: int, detail: str) -> ApiResponse:
        websocket = quart.websocket
        refused = core_request("GET", websocket.path, b"", scope_headers(websocket.scope).items())
        return to_quart(api.error(refused, status, detail))

    app.api_view = dispatch
    app.refuse = refuse
    app.register_error_handler(HTTPException, framework_error)
    app.register_error_handler(Exception, unexpected_error)
    return app
