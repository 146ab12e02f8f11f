"""Flask glue: the API inside any Flask app (`init_app`) or as an app of its own (`create_app`).

No rule lives here. The glue claims the API's paths in the app's URL map
(`todo_api.glue.mounting`) and hands each request under them to the core, with the path
below the mount point; the core routes, authenticates, validates and renders. Errors
Flask raises on the API's requests are answered with the core's JSON by the
`todo_api` blueprint's handlers; the host's own handlers keep the rest of the app.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

import flask
from werkzeug.routing import MapAdapter
from werkzeug.wsgi import get_input_stream

from core.api import Api
from core.http import Request, Response, announces_body
from core.plan import BodyReader, FetchedKeys, FetchKeys
from core.tracing import Exchange
from storage import sync
from storage.migrate import migrate_or_log
from todo_api.config.settings import Settings, load_settings
from todo_api.glue.failures import failure_response
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
)
from todo_api.glue.wiring import build_api, core_request, database_options
from todo_api.glue.wsgi import environ_headers, status_line, wsgi_text

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

REQUEST_SIGNALS = (flask.request_started, flask.request_finished, flask.got_request_exception)


class ApiResponse(flask.Response):
    default_mimetype = None  # the core sets Content-Type; a 204 has none
    automatically_set_content_length = False  # and Content-Length (a HEAD's is GET's)


def to_flask(response: Response, body: Iterable[bytes] | None = None) -> ApiResponse:
    """The core's answer; its body goes to the server as the one-item list it already is
    (direct passthrough), not wrapped in an iterator: granian writes a list in one piece.
    A stream's `body` is its chunks (`Mounted.body`), sent as they come."""
    return ApiResponse(response.body if body is None else body, response.status, list(response.headers),
                       direct_passthrough=True)


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
        if self.open_database is None or self.migrations_pending:
            self.open()
        return self.open_database  # type: ignore[return-value]

    def open(self) -> Mounted:
        with self._lock:
            conninfo = self.settings.require_database_url()
            if self.migrations_pending:
                self.migrations_pending = not migrate_or_log(conninfo)
            if self.open_database is None:
                self.open_database = sync.Database(conninfo, database_options(self.settings)).open()
                self.observer.watch_pool(self.open_database.usage)
                atexit.register(self.close)
        return self

    def close(self) -> None:
        with self._lock:
            if self.open_database is not None:
                self.observer.forget_pool(self.open_database.usage)
                self.open_database.close()
                self.open_database = None

    def fetch_keys(self, request: FetchKeys) -> FetchedKeys:
        return self.observer.keys_fetched(fetch_keys(request))

    def body(self, response: Response) -> Iterable[bytes]:
        """What the server sends: the body, or a stream's chunks as they come (each stream
        holds a server thread until it ends: EVENTS_PER_WORKER_MAX keeps some for requests)."""
        if response.stream is None:
            return [response.body]
        return self.database().stream(response.stream)

    def run(self, request: Request, exchange: Exchange, read_body: BodyReader) -> Response:
        """The core's answer, counted in flight."""
        database = self.database()
        with self.observer:
            return database.run(self.api.handle(request, exchange), fetch_keys=self.fetch_keys,
                                read_body=read_body, collect_metrics=self.observer.exposition)


def init_app(app: flask.Flask, url_prefix: str = "", settings: Settings | None = None) -> Mounted:
    """Serve the API from `app` under `url_prefix` ("" mounts its paths at the root)."""
    return mount(app, normalized_prefix(url_prefix), settings or load_settings(), standalone=False)


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
    mounted = mount(app, "", settings or load_settings(), standalone=True).open()
    mounted.answer_directly = direct_answers(mounted, app)
    return app


def environ_request(environ: WSGIEnvironment, path: str, base_path: str) -> Request:
    """The request as the core takes it; its body read later, once the head is accepted."""
    headers = environ_headers(environ)
    body = None if announces_body(headers) else b""
    method = environ["REQUEST_METHOD"]  # as sent: werkzeug upper-cases it, HTTP does not (RFC 9110 9.1)
    return Request(method, path, environ.get("QUERY_STRING", "").encode("latin-1"), headers, body, base_path)


def direct_answers(mounted: Mounted, app: flask.Flask) -> WSGIApplication:
    """The API as a plain WSGI app, for `StandaloneFlask`: what `dispatch` does, without
    Flask's request context, request and response objects in between. The same bytes on
    the wire (the equivalence tests compare it with the API embedded in a Flask app)."""
    api, observer = mounted.api, mounted.observer

    def answer(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        core = environ_request(environ, wsgi_text(environ.get("PATH_INFO", "")),
                               wsgi_text(environ.get("SCRIPT_NAME", "")).rstrip("/"))
        exchange = api.begin(core)
        try:
            stream = get_input_stream(environ, max_content_length=app.config["MAX_CONTENT_LENGTH"])
            response = mounted.run(core, exchange, stream.read)
        except Exception as error:
            response = failure_response(api, core, exchange, error, frontend="Flask")
        observer.finished(exchange)
        start_response(status_line(response.status), list(response.headers))
        return mounted.body(response)

    return answer


def mount(app: flask.Flask, prefix: str, settings: Settings, *, standalone: bool) -> Mounted:
    mounted = Mounted(build_api(settings, "wsgi"), settings)
    api, observer = mounted.api, mounted.observer

    def dispatch(rest: str = "") -> ApiResponse:
        request = flask.request._get_current_object()  # type: ignore[attr-defined]  # once, not per attribute
        environ = request.environ
        core = environ_request(environ, path_below(wsgi_text(environ.get("PATH_INFO", "")), prefix),
                               request.script_root + prefix)
        exchange = api.begin(core)
        setattr(flask.g, EXCHANGE, exchange)  # for `refused`, should Flask raise on the way
        answer = mounted.run(core, exchange, lambda size: request.stream.read(size))
        flask.g.pop(EXCHANGE)
        observer.finished(exchange)
        return to_flask(answer, mounted.body(answer) if answer.stream else None)

    def refused(error: Exception) -> ApiResponse:
        """The core's JSON for what Flask raised on the API's request (or, standalone, any)."""
        request = flask.request
        core = core_request(request.method, request.path, b"", request.headers.items())
        exchange = flask.g.pop(EXCHANGE, None) or api.begin(core)
        answer = failure_response(api, core, exchange, error, frontend="Flask")
        observer.finished(exchange)
        return to_flask(answer)

    blueprint = flask.Blueprint(BLUEPRINT, __name__)
    install(app, blueprint=blueprint, view=dispatch, refused=refused, prefix=prefix, standalone=standalone,
            mounted=mounted)
    return mounted
