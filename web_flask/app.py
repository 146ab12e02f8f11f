"""Flask glue: one catch-all view hands every request to the core and runs its plan.

No rule lives here. Flask's own routing only funnels requests into `dispatch`; its
errors (a method it does not know, a malformed request) are answered by the core too.
"""

from __future__ import annotations

import atexit
import logging
from typing import Any

import flask
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from core.http import Request, Response
from storage import sync
from storage.migrate import migrate
from todo_api.keyfetch import fetch_keys
from todo_api.settings import Settings, load_settings
from todo_api.wiring import BODY_READ_LIMIT, HTTP_METHODS, build_api, core_request

log = logging.getLogger("todo_api")


class ApiResponse(flask.Response):
    default_mimetype = None  # the core sets Content-Type; a 204 has none


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


def create_app(settings: Settings | None = None) -> flask.Flask:
    settings = settings or load_settings()
    api = build_api(settings)
    conninfo = settings.require_database_url()
    if settings.migrate_on_start:
        migrate(conninfo)
    pool = sync.open_pool(
        conninfo, max_size=settings.pool_max_size, timeout=settings.pool_timeout
    )
    atexit.register(pool.close)

    app = flask.Flask(__name__)
    app.response_class = ApiResponse
    app.url_map.merge_slashes = False  # "//x" is a 404 from the core, not a redirect
    app.extensions["todo_api"] = {"api": api, "pool": pool}

    def dispatch(path: str = "") -> ApiResponse:
        request = flask.request
        environ = request.environ
        body = request.stream.read(BODY_READ_LIMIT) if expects_body(environ) else b""
        plan = api.handle(
            Request(request.method, request.path, request.query_string, environ_headers(environ), body)
        )
        return to_flask(sync.run(plan, pool, fetch_keys))

    def framework_error(error: HTTPException) -> ApiResponse:
        if isinstance(error, MethodNotAllowed):  # a method outside HTTP_METHODS: the core says 404 or 405
            return dispatch()
        request = flask.request
        refused = core_request(request.method, request.path, b"", request.headers.items())
        return to_flask(api.error(refused, error.code or 400, error.description or error.name))

    def unexpected_error(error: Exception) -> ApiResponse:
        log.exception("unexpected error in the Flask frontend")
        refused = core_request(flask.request.method, flask.request.path, b"", flask.request.headers.items())
        return to_flask(api.error(refused, 500, "Internal Server Error"))

    for rule in ("/", "/<path:path>"):
        app.add_url_rule(rule, "dispatch", dispatch, methods=HTTP_METHODS, provide_automatic_options=False)
    app.register_error_handler(HTTPException, framework_error)
    app.register_error_handler(Exception, unexpected_error)
    return app
