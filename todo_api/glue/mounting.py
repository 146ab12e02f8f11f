"""Where the API sits in a Flask or Quart app's URL map: shared by both glues, which
use werkzeug's routing alike.

The glue claims whole paths in the host's map and hands every request under them to
the core, which routes it (404, 405 with Allow, OPTIONS and HEAD are the core's), so
the host's own routes, hooks, error handlers and `url_for` keep working, and
`request.endpoint` is `ENDPOINT` for the API's requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any, Generic, TypeVar

from blinker import NamedSignal
from flask.sansio.app import App
from werkzeug.routing import BaseConverter, Map, MapAdapter, Rule

from core.api import Api
from todo_api.config.settings import Settings
from todo_api.observe.observer import Observer

Database = TypeVar("Database")

EXCHANGE = "todo_api_exchange"
"""Where a glue keeps the request's exchange (in the framework's `g`) for its error handlers."""
BLUEPRINT = "todo_api"
"""The blueprint holding the API's error handlers; also the key in `app.extensions`."""
ENDPOINT = f"{BLUEPRINT}.api"
CONVERTER = "todo_api_rest"


class MountedApi(Generic[Database]):
    """What each glue keeps in `app.extensions["todo_api"]`: the API, its settings, what
    observes its requests (access log, metrics), its database once open (None before),
    and whether migrations are still to run. Both glues migrate first, then open the pool;
    the Flask one on the first request (or `open()`), the Quart one before serving."""

    def __init__(self, api: Api, settings: Settings) -> None:
        self.api = api
        self.settings = settings
        self.observer = Observer(settings)
        self.open_database: Database | None = None
        self.migrations_pending = settings.migrate_on_start


class RestOfPath(BaseConverter):
    """Everything after the claimed root, empty segments and all: the core decides."""

    regex = "(?s:.*)"  # newlines too (a "%0A" in the path)
    part_isolating = False


def normalized_prefix(url_prefix: str) -> str:
    """"" or "/todo" (a trailing slash dropped); a prefix must start with "/"."""
    prefix = url_prefix.rstrip("/")
    if prefix and not prefix.startswith("/"):
        raise ValueError(f"url_prefix must start with '/': {url_prefix!r}")
    return prefix


def url_rules(prefix: str, roots: Iterable[str], *, standalone: bool = False) -> list[str]:
    """The rules (werkzeug syntax) the API claims: under a prefix, all of it; at the
    root, each of its top-level paths ("/", "/health", "/api" and what lies under them),
    or every path for a `standalone` app (one `create_app` made)."""
    rest = f"<{CONVERTER}:rest>"
    if prefix:
        return [prefix, f"{prefix}/{rest}"]
    if standalone:
        return [f"/{rest}"]
    rules = []
    for root in roots:
        rules += ["/"] if root == "" else [f"/{root}", f"/{root}/{rest}"]
    return rules


def install(
    app: Any,
    *,
    blueprint: Any,
    view: Callable[..., Any],
    refused: Callable[[Exception], Any],
    prefix: str,
    standalone: bool,
    mounted: MountedApi[Any],
) -> None:
    """Put the API into a Flask or Quart app (their app and blueprint APIs are alike):
    its rules (`url_rules`) for any method (the core answers 405 with Allow), "//" and a
    trailing "/" kept as sent; `refused` as the handler of every exception on the
    `todo_api` blueprint, and on the whole app when it is `standalone`; `mounted` in
    `app.extensions["todo_api"]`."""
    for handlers_of in (app, blueprint) if standalone else (blueprint,):
        handlers_of.register_error_handler(Exception, refused)
    app.register_blueprint(blueprint)
    app.url_map.converters[CONVERTER] = RestOfPath
    for rule in url_rules(prefix, mounted.api.routes.roots, standalone=standalone):
        app.url_map.add(app.url_rule_class(
            rule, endpoint=ENDPOINT, methods=None, strict_slashes=False, merge_slashes=False
        ))
    app.view_functions[ENDPOINT] = view
    app.extensions[BLUEPRINT] = mounted


def path_below(path: str, prefix: str) -> str:
    """The path as the core routes it: below the prefix, undecoded slashes kept (werkzeug's
    `request.path` folds leading ones, which would make "//health" a route)."""
    return path[len(prefix):] or "/"


class SoleRuleAdapter:
    """The URL adapter of an app that is the API alone while its URL map holds nothing but
    the API's catch-all rule: every request is the API's, so werkzeug's binding and
    matching (about 50 µs a request, measured) are skipped. Anything else asked of it
    (building a URL for `url_for`) goes to werkzeug's adapter, bound on first use."""

    def __init__(self, rule: Rule, bind: Callable[[], MapAdapter | None]) -> None:
        self.rule = rule
        self._bind = bind
        self._bound: MapAdapter | None = None

    def match(self, *args: Any, return_rule: bool = False, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        return (self.rule if return_rule else self.rule.endpoint), {}

    def __getattr__(self, name: str) -> Any:
        if self._bound is None:
            self._bound = self._bind()
        return getattr(self._bound, name)


def api_alone(app: App, request_signals: Iterable[NamedSignal]) -> bool:
    """Whether a standalone app serves the API and nothing else: no route, request hook or
    receiver of the framework's request signals (an error tracker's, say) of its own. Then
    its glue answers without the framework's request cycle, which would add nothing."""
    hooks = (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs,
             app.url_value_preprocessors)
    return (sole_api_rule(app.url_map) is not None and not any(any(funcs.values()) for funcs in hooks)
            and not any(signal.receivers for signal in request_signals))


def sole_api_rule(url_map: Map) -> Rule | None:
    """The API's rule, when the map holds it and nothing else (a route added brings
    werkzeug's matching back)."""
    rules = list(islice(url_map.iter_rules(), 2))
    return rules[0] if len(rules) == 1 and rules[0].endpoint == ENDPOINT else None
