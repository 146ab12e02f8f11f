"""Flask glue: every request goes to the core, which routes it and plans its queries.

No rule lives here. Flask keeps its request context, hooks and error handlers, but its
URL map is never consulted: the core owns routing, and skipping werkzeug's matcher saves
about 50 µs of CPU per request (measured in-process: 216 µs -> 165 µs on stats). Flask's
own errors (a malformed request) are answered by the core's JSON too.
"""

from __future__ import annotations

import atexit
import logging
from collections.abc import Callable
from typing import Any

import flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter

from core.http import Request, Response
from storage import sync
from storage.migrate import migrate
from todo_api.keyfetch import fetch_keys
from todo_api.settings import Settings, load_settings
from todo_api.wiring import build_api, core_request, database_options

log = logging.getLogger("todo_api")


class ApiResponse(flask.Response):
    default_mimetype = None  # the core sets Content-Type; a 204 has none
    automatically_set_content_length = False  # and Content-Length (a HEAD's is GET's)


def environ_headers(environ: dict[str, Any]) -> dict[str, str]:
    """The request headers the way the core reads them, straight from the WSGI environ."""
    headers = {
        key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key[:5] == "HTTP_"
    }
    if "CONTENT_TYPE" in environ:
        headers["content-type"] = environ["CONTENT_TYPE"]
    return headers


def expects_body(environ: dict[str, Any]) -> bool:
    """Werkzeug's own rule: a WSGI body needs a length, or a server that marks its end."""
    return environ.get("CONTENT_LENGTH", "") not in ("", "0") or bool(environ.get("wsgi.input_terminated"))


def to_flask(response: Response) -> ApiResponse:
    return ApiResponse(response.body, response.status, list(response.headers))


class ApiFlask(flask.Flask):
    """A Flask app whose every request is dispatched to `api_view`, with no URL matching."""

    response_class = ApiResponse
    api_view: Callable[[], ApiResponse]

    def create_url_adapter(self, request: flask.Request | None) -> MapAdapter | None:
        return None if request is not None else super().create_url_adapter(request)

    def dispatch_request(self) -> ApiResponse:
        return self.api_view()


def create_app(settings: Settings | None = None) -> flask.Flask:
    settings = settings or load_settings()
    api = build_api(settings)
    conninfo = settings.require_database_url()
    if settings.migrate_on_start:
        migrate(conninfo)
    database = sync.Database(conninfo, database_options(settings)).open()
    atexit.register(database.close)

    app = ApiFlask(__name__)
    app.extensions["todo_api"] = {"api": api, "database": database}

    def dispatch() -> ApiResponse:
        request = flask.request
        environ = request.environ
        body = None if expects_body(environ) else b""  # read once the head is accepted
        plan = api.handle(
            Request(request.method, request.path, request.query_string, environ_headers(environ), body)
        )
        return to_flask(database.run(plan, fetch_keys, request.stream.read))

    def framework_error(error: HTTPException) -> ApiResponse:
        request = flask.request
        refused = core_request(request.method, request.path, b"", request.headers.items())
        return to_flask(api.error(refused, error.code or 400, error.description or error.name))

    def unexpected_error(error: Exception) -> ApiResponse:
        log.exception("unexpected error in the Flask frontend")
        refused = core_request(flask.request.method, flask.request.path, b"", flask.request.headers.items())
        return to_flask(api.error(refused, 500, "Internal Server Error"))

    app.api_view = dispatch
    app.register_error_handler(HTTPException, framework_error)
    app.register_error_handler(Exception, unexpected_error)
    return app
