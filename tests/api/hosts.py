"""Host apps the API is embedded in, the way a team with an app of its own would do it.

Each host has a route of its own, a blueprint, a `before_request` hook that reads
`request.endpoint`, and a route answering with `url_for` (the host's and the API's).
The API goes in with `init_app` at API_PREFIX; a middleware then mounts the host at
OUTER_PREFIX (WSGI `SCRIPT_NAME`, ASGI `root_path`), as a team serving several apps would.
"""

from __future__ import annotations

from typing import Any

API_PREFIX = "/todo"
OUTER_PREFIX = "/outer"


def host_app(frontend: str) -> Any:
    return {"flask": flask_host, "quart": quart_host}[frontend]()


def mounted(frontend: str, app: Any) -> Any:
    """The host behind a real third-party dispatching middleware, at OUTER_PREFIX."""
    if frontend == "flask":
        from werkzeug.middleware.dispatcher import DispatcherMiddleware
        from werkzeug.wrappers import Response

        return DispatcherMiddleware(Response("outside", 404), {OUTER_PREFIX: app})
    from hypercorn.middleware.dispatcher import AsyncioDispatcherMiddleware

    return AsyncioDispatcherMiddleware({OUTER_PREFIX: app})


def add_hello_route(frontend: str, app: Any) -> None:
    """/hello, answering URLs built by `url_for`: its own and one of the API's."""
    framework = __import__(frontend)

    def hello() -> dict[str, str]:
        url_for = framework.url_for
        return {"hello": url_for("hello"), "tasks": url_for("todo_api.api", rest="api/ann/tasks")}

    async def async_hello() -> dict[str, str]:
        return hello()

    app.add_url_rule("/hello", "hello", hello if frontend == "flask" else async_hello)


def flask_host() -> Any:
    import flask

    class HostFlask(flask.Flask):  # a subclass of the host's own, as many apps have
        pass

    app = HostFlask("flask_host")
    app.config["seen_endpoints"] = []
    pages = flask.Blueprint("pages", __name__, url_prefix="/pages")

    @pages.route("/about")
    def about() -> dict[str, str]:
        return {"page": "about", "self": flask.url_for("pages.about")}

    @app.before_request
    def remember_endpoint() -> None:
        app.config["seen_endpoints"].append(flask.request.endpoint)

    @app.errorhandler(404)
    def host_not_found(error: Exception) -> tuple[str, int]:
        return "host 404", 404

    app.register_blueprint(pages)
    add_hello_route("flask", app)
    return app


def quart_host() -> Any:
    import quart

    class HostQuart(quart.Quart):
        pass

    app = HostQuart("quart_host")
    app.config["seen_endpoints"] = []
    pages = quart.Blueprint("pages", __name__, url_prefix="/pages")

    @pages.route("/about")
    async def about() -> dict[str, str]:
        return {"page": "about", "self": quart.url_for("pages.about")}

    @app.before_request
    async def remember_endpoint() -> None:
        app.config["seen_endpoints"].append(quart.request.endpoint)

    @app.errorhandler(404)
    async def host_not_found(error: Exception) -> tuple[str, int]:
        return "host 404", 404

    app.register_blueprint(pages)
    add_hello_route("quart", app)
    return app
