"""Flask glue: the API inside any Flask app (`init_app`) or as an app of its own (`create_app`).

No rule lives here. The glue claims the API's paths in the app's URL map
(`todo_api.glue.mounting`) and hands each request under them to the core, with the path
below the mount point; the core routes, authenticates, validates and renders. Errors
Flask raises on the API's requests are answered with the core's JSON by the
`todo_api` blueprint's handlers; the host's own handlers keep the rest of the app.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import flask
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import MapAdapter
from werkzeug.wsgi import get_input_stream

from core.api import Api
from core.http import Request, Response, announces_body
from core.keys import FetchedKeys, FetchKeys
from storage import sync
from storage.migrate import migrate_or_log
from todo_api.config.settings import Settings, load_settings
from todo_api.glue.keyfetch import fetch_keys
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

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("todo_api")

REQUEST_SIGNALS = (flask.request_started, flask.request_finished, flask.got_request_exception)


class ApiResponse(flask.Response):
    default_mimetype = None  # the core sets Content-Type; a 204 has none
    automatically_set_content_length = False  # and Content-Length (a HEAD's is GET's)


def to_flask(response: Response) -> ApiResponse:
    """The core's answer; its body goes to the server as the one-item list it already is
    (direct passthrough), not wrapped in an iterator: granian writes a list in one piece."""
    return ApiResponse(response.body, response.status, list(response.headers), direct_passthrough=True)


def environ_headers(environ: dict[str, Any]) -> dict[str, str]:
    """The request headers the way the core reads them, straight from the WSGI environ
    (where the server has already joined repeated ones)."""
    headers = {
        key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key[:5] == "HTTP_"
    }
    for key, name in (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length")):
        if environ.get(key):
            headers[name] = environ[key]
    return headers


def wsgi_text(value: str) -> str:
    """A WSGI path string (bytes as latin-1, PEP 3333) as the UTF-8 text werkzeug makes of it."""
    return value.encode("latin-1").decode("utf-8", "replace")


class Mounted(MountedApi[sync.Database]):
    """What `init_app` keeps in `app.extensions["todo_api"]`: the API and its database.

    The pool opens on the first request that reaches the API (a server may import the
    app, then fork its workers: a pool made before would be shared by all of them), or
    at once with `open()`, as `create_app` does in the serving process. It closes at exit.
    Pending migrations run first; while the database is down they are tried again by each
    request, which meanwhile gets the core's 503.
    """

    def __init__(self, api: Api, settings: Settings) -> None:
        super().__init__(api, settings)
        self._lock = threading.Lock()
        self.answer_directly: WSGIApplication | None = None  # the API as a plain WSGI app, standalone only

    def database(self) -> sync.Database:
        if self._database is None or self._migrations_pending:
            self.open()
        return self._database  # type: ignore[return-value]

    def open(self) -> Mounted:
        with self._lock:
            conninfo = self.settings.require_database_url()
            if self._migrations_pending:
                self._migrations_pending = not migrate_or_log(conninfo)
            if self._database is None:
                self._database = sync.Database(conninfo, database_options(self.settings)).open()
                self.observer.watch_pool(self._database.usage)
                atexit.register(self.close)
        return self

    def close(self) -> None:
        with self._lock:
            if self._database is not None:
                self.observer.forget_pool(self._database.usage)
                self._database.close()
                self._database = None


def init_app(app: flask.Flask, url_prefix: str = "", settings: Settings | None = None) -> Mounted:
    """Serve the API from `app` under `url_prefix` ("" mounts its paths at the root)."""
    return mount(app, normalized_prefix(url_prefix), settings or load_settings(), everything=False)


class StandaloneFlask(flask.Flask):
    """The app `create_app` makes. While the API is all it serves, werkzeug's matching is
    skipped, and so is Flask's own request handling (`wsgi_app`): Flask adds nothing to an
    answer then, and its request context, response object and hooks cost a third of what
    the API spends on a stats request (#21). A route or a request hook added to the app
    brings both back."""

    def wsgi_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        answer_directly: WSGIApplication | None = self.extensions[BLUEPRINT].answer_directly
        if answer_directly is not None and api_alone(self, REQUEST_SIGNALS):
            return answer_directly(environ, start_response)
        return super().wsgi_app(environ, start_response)

    def create_url_adapter(self, request: flask.Request | None) -> MapAdapter | None:
        rule = sole_api_rule(self.url_map) if request is not None else None
        if rule is None:
            return super().create_url_adapter(request)
        return SoleRuleAdapter(rule, lambda: super(StandaloneFlask, self).create_url_adapter(request))  # type: ignore[return-value]


def create_app(settings: Settings | None = None) -> flask.Flask:
    """The API as an app of its own (what `todo-api serve` runs): every path is the API's,
    and so is every error Flask raises, even outside the API's routes (one added later)."""
    app = StandaloneFlask(__name__, static_folder=None)  # no /static/ route of its own
    mounted = mount(app, "", settings or load_settings(), everything=True).open()
    mounted.answer_directly = direct_answers(mounted, app)
    return app


def status_line(status: int) -> str:
    """As werkzeug writes it (a server reads the number)."""
    return f"{status} {HTTP_STATUS_CODES.get(status, 'unknown').upper()}"


def direct_answers(mounted: Mounted, app: flask.Flask) -> WSGIApplication:
    """The API as a plain WSGI app, for `StandaloneFlask`: what `dispatch` does, without
    Flask's request context, request and response objects in between. The same bytes on
    the wire (the equivalence tests compare it with the API embedded in a Flask app)."""
    api, observer = mounted.api, mounted.observer

    def counted_fetch(request: FetchKeys) -> FetchedKeys:
        return observer.keys_fetched(fetch_keys(request))

    def answer(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        headers = environ_headers(environ)
        body = None if announces_body(headers) else b""  # read once the head is accepted
        core = Request(environ["REQUEST_METHOD"], wsgi_text(environ.get("PATH_INFO", "")),
                       environ.get("QUERY_STRING", "").encode("latin-1"), headers, body,
                       wsgi_text(environ.get("SCRIPT_NAME", "")).rstrip("/"))
        exchange = api.begin(core)
        try:
            stream = get_input_stream(environ, max_content_length=app.config["MAX_CONTENT_LENGTH"])
            database = mounted.database()
            with observer:  # in flight
                response = database.run(api.handle(core, exchange), counted_fetch, stream.read,
                                        observer.exposition)
        except HTTPException as error:
            response = api.error(core, error.code or 400, error.description or error.name, exchange)
        except Exception:
            response = api.error(core, 500, "Internal Server Error", exchange)
            log.exception("unexpected error in the Flask frontend")
        observer.finished(exchange)
        start_response(status_line(response.status), list(response.headers))
        return [response.body]

    return answer


def mount(app: flask.Flask, prefix: str, settings: Settings, everything: bool) -> Mounted:
    api = build_api(settings)
    mounted = Mounted(api, settings)

    observer = mounted.observer

    def counted_fetch(request: FetchKeys) -> FetchedKeys:
        return observer.keys_fetched(fetch_keys(request))

    def dispatch(rest: str = "") -> ApiResponse:
        request = flask.request._get_current_object()  # type: ignore[attr-defined]  # once, not per attribute
        environ = request.environ
        headers = environ_headers(environ)
        body = None if announces_body(headers) else b""  # read once the head is accepted
        path = path_below(wsgi_text(environ.get("PATH_INFO", "")), prefix)
        base = request.script_root + prefix
        method = environ["REQUEST_METHOD"]  # as sent: werkzeug upper-cases it, HTTP does not (RFC 9110 9.1)
        core = Request(method, path, request.query_string, headers, body, base)
        exchange = api.begin(core)
        setattr(flask.g, EXCHANGE, exchange)  # for `refused`, should Flask raise on the way
        database = mounted.database()
        with observer:  # in flight
            answer = database.run(api.handle(core, exchange), counted_fetch,
                                  lambda size: request.stream.read(size), observer.exposition)
        flask.g.pop(EXCHANGE)
        observer.finished(exchange)
        return to_flask(answer)

    def refused(status: int, detail: str) -> ApiResponse:
        request = flask.request
        core = core_request(request.method, request.path, b"", request.headers.items())
        exchange = flask.g.pop(EXCHANGE, None) or api.begin(core)
        answer = api.error(core, status, detail, exchange)
        observer.finished(exchange)
        return to_flask(answer)

    def framework_error(error: HTTPException) -> ApiResponse:
        return refused(error.code or 400, error.description or error.name)

    def unexpected_error(error: Exception) -> ApiResponse:
        answer = refused(500, "Internal Server Error")  # first: the log line gets its request id
        log.exception("unexpected error in the Flask frontend")
        return answer

    blueprint = flask.Blueprint(BLUEPRINT, __name__)
    error_handlers = {HTTPException: framework_error, Exception: unexpected_error}
    rules = url_rules(prefix, api.routes.roots, everything)
    install(app, blueprint, dispatch, error_handlers, rules, everything, mounted)
    return mounted
