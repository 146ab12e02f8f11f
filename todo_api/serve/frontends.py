"""The frontends, in one table read by `todo-api serve`, the tests and the load benchmark.

A frontend is a glue package with `create_app(settings)` (and `init_app(app, url_prefix,
settings)` when the API can live in a host app of its framework) and a module named for
its interface (`wsgi` or `asgi`) whose `app` the servers load. Adding one takes that
package, a row below, and a case wherever a test or the benchmark treats the two kinds
apart (`grep -rln web_quart tests` lists them, about a dozen files). The defaults were
chosen from the load benchmark's measurements.
"""

from __future__ import annotations

import importlib
from typing import Any, Literal

import attrs

from todo_api.config.settings import Settings


@attrs.frozen
class Frontend:
    name: str
    interface: Literal["wsgi", "asgi"]
    package: str
    servers: tuple[str, ...]
    """The production servers it runs under; the first is the default."""

    @property
    def default_server(self) -> str:
        return self.servers[0]

    @property
    def app(self) -> str:
        """What a server loads: "module:attribute"."""
        return f"{self.package}.{self.interface}:app"

    def create_app(self, settings: Settings) -> Any:
        """A new app (imported only when asked, so the CLI loads neither framework)."""
        return importlib.import_module(self.package).create_app(settings)

    def init_app(self, app: Any, url_prefix: str, settings: Settings) -> Any:
        """The API added to a host app of the frontend's framework, under `url_prefix`."""
        return importlib.import_module(self.package).init_app(app, url_prefix, settings)


FRONTENDS: dict[str, Frontend] = {
    frontend.name: frontend
    for frontend in (
        # gunicorn and hypercorn were dropped: docs/operating.md
        Frontend("flask", "wsgi", "web_flask", ("granian",)),
        Frontend("quart", "asgi", "web_quart", ("uvicorn", "granian")),
    )
}
