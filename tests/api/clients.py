"""One synchronous client interface over in-process WSGI and ASGI apps.

The behaviour suite is written once against `ApiClient`; fixtures hand it a client of
each frontend, standalone or embedded in a host app. The clients know interfaces, not
frameworks: a new frontend needs no client of its own. Paths are the API's own
(`/api/...`); `base` is where the API is mounted, which `Location` starts with.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import attrs
import werkzeug.test
from werkzeug.datastructures import Headers

from tests.api import hosts
from tests.api.asgi_driver import AsgiDriver
from todo_api.frontends import FRONTENDS


@attrs.frozen
class Result:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@attrs.frozen
class Call:
    method: str
    path: str
    headers: Headers = attrs.field(factory=Headers)
    body: bytes = b""


HeaderInput = dict[str, str] | list[tuple[str, str]]
"""A dict, or pairs when a header is repeated."""


def make_call(method: str, path: str, headers: HeaderInput | None, json: Any, body: bytes | None) -> Call:
    headers = Headers(headers or {})
    if json is not None:
        body = jsonlib.dumps(json).encode()
        headers.setdefault("Content-Type", "application/json")
    return Call(method, path, headers, body or b"")


def lower(headers: Any) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, value in headers.items():
        result[name.lower()] = value
    return result


class ApiClient(Protocol):
    name: str
    base: str

    def send(self, call: Call) -> Result: ...

    def many(self, calls: list[Call]) -> list[Result]: ...


def request(
    client: ApiClient,
    method: str,
    path: str,
    *,
    headers: HeaderInput | None = None,
    json: Any = None,
    body: bytes | None = None,
) -> Result:
    return client.send(make_call(method, path, headers, json, body))


class WsgiClient:
    """Any WSGI callable, driven in-process by werkzeug's test client."""

    def __init__(self, name: str, app: Any, base: str = "", on_close: Callable[[], None] | None = None) -> None:
        self.name = name
        self.base = base
        self.client = werkzeug.test.Client(app)
        self.on_close = on_close

    def send(self, call: Call) -> Result:
        response = self.client.open(self.base + call.path, method=call.method, headers=call.headers, data=call.body)
        return Result(response.status_code, lower(response.headers), response.get_data())

    def many(self, calls: list[Call]) -> list[Result]:
        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(self.send, calls))

    def close(self) -> None:
        if self.on_close:
            self.on_close()


class AsgiClient:
    """Any ASGI callable, driven in-process by `tests.api.asgi_driver` on an event loop
    in a thread of its own, so the same sync test code drives it and `many` sends
    requests truly concurrently. The app's lifespan runs from construction to `close`."""

    def __init__(self, name: str, app: Any, base: str = "") -> None:
        self.name = name
        self.base = base
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.driver = AsgiDriver(app)
        self.run(self.driver.start())

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    async def _send(self, call: Call) -> Result:
        status, headers, body = await self.driver.request(
            call.method, self.base + call.path, list(call.headers.items()), call.body
        )
        return Result(status, lower(Headers(headers)), body)

    def send(self, call: Call) -> Result:
        return self.run(self._send(call))  # type: ignore[no-any-return]

    def many(self, calls: list[Call]) -> list[Result]:
        async def all_at_once() -> list[Result]:
            return list(await asyncio.gather(*(self._send(c) for c in calls)))

        return self.run(all_at_once())  # type: ignore[no-any-return]

    def close(self) -> None:
        self.run(self.driver.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


def make_client(name: str, settings: Any) -> WsgiClient | AsgiClient:
    """A client of a new app, driven in-process: `name` is a frontend (todo_api.frontends),
    standalone, or "<frontend>-embedded" (tests.api.hosts), or "<frontend>-hosted": the
    same host app without the middleware in front (what the micro benchmark compares)."""
    frontend, _, mount = name.partition("-")
    chosen = FRONTENDS[frontend]
    if not mount:
        app = served = chosen.create_app(settings)
        base = ""
    elif mount in ("embedded", "hosted"):
        app = served = hosts.host_app(frontend)
        chosen.init_app(app, hosts.API_PREFIX, settings)
        base = hosts.API_PREFIX
        if mount == "embedded":
            served, base = hosts.mounted(frontend, app), hosts.OUTER_PREFIX + base
    else:
        raise ValueError(f"no such mount: {mount}")
    if chosen.interface == "wsgi":
        return WsgiClient(name, served, base, app.extensions["todo_api"].close)
    return AsgiClient(name, served, base)


def api_path(client: ApiClient, location: str | None) -> str:
    """A `Location` the API answered, as a path for `request` (below the client's base)."""
    assert location is not None and location.startswith(client.base + "/"), location
    return location[len(client.base):]


def create_task(client: ApiClient, user: Any, **fields: Any) -> dict[str, Any]:
    """Create a task for `user` (defaults filled in) and return its JSON; asserts 201."""
    body = {"title": "A task", "priority": "medium", "category": "work", **fields}
    created = request(client, "POST", user.tasks, headers=user.headers, json=body)
    assert created.status == 201, created.body
    return created.json()  # type: ignore[no-any-return]
