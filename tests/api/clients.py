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
from urllib.parse import unquote_to_bytes

import attrs
import werkzeug.test
import werkzeug.wrappers
from werkzeug.datastructures import Headers

from tests.api import hosts
from tests.api.asgi_driver import BODY_METHODS, AsgiDriver
from todo_api.serve.frontends import FRONTENDS


@attrs.frozen
class Result:
    status: int
    headers: dict[str, str]
    body: bytes
    body_read: int = 0
    """How many bytes of the request body the app took from the server."""

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
    interface: str

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


def wsgi_environ(method: str, target: str, headers: Headers, body: bytes) -> dict[str, Any]:
    """The environ a WSGI server hands over for this request: repeated headers joined by
    ", " (PEP 3333), and a body sent with Transfer-Encoding read to its end
    (`wsgi.input_terminated`) with no CONTENT_LENGTH. Content-Length is sent as a client
    would when the call names none: for a body, or an empty POST, PUT or PATCH."""
    environ = werkzeug.test.EnvironBuilder(method=method, data=body).get_environ()
    path, _, query = target.partition("?")
    environ["PATH_INFO"] = unquote_to_bytes(path).decode("latin-1")  # as sent ("//" is no host)
    environ["QUERY_STRING"] = query
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        environ.pop(key, None)
    names = {name.lower() for name in headers.keys()}
    if "transfer-encoding" in names:
        environ["wsgi.input_terminated"] = True
    elif "content-length" not in names and (body or method in BODY_METHODS):
        environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        key = key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"
        value = value.encode().decode("latin-1")  # the bytes sent, as PEP 3333 hands them over
        environ[key] = f"{environ[key]}, {value}" if key in environ else value
    return environ


class WsgiClient:
    """Any WSGI callable, driven in-process by werkzeug's test client."""

    interface = "wsgi"

    def __init__(self, name: str, app: Any, base: str = "", on_close: Callable[[], None] | None = None) -> None:
        self.name = name
        self.base = base
        self.client = werkzeug.test.Client(app)
        self.on_close = on_close

    def send(self, call: Call) -> Result:
        environ = wsgi_environ(call.method, self.base + call.path, call.headers, call.body)
        response = self.client.open(werkzeug.wrappers.Request(environ))  # a dict would be rebuilt
        body_read = environ["wsgi.input"].tell()
        return Result(response.status_code, lower(response.headers), response.get_data(), body_read)

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

    interface = "asgi"

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
        answer = await self.driver.request(call.method, self.base + call.path, list(call.headers.items()), call.body)
        return Result(answer.status, lower(Headers(answer.headers)), answer.body, answer.body_read)

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
    """A client of a new app, driven in-process: `name` is a frontend (todo_api.serve.frontends),
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
    return in_process(name, served, base, app)


def in_process(name: str, served: Any, base: str, app: Any) -> WsgiClient | AsgiClient:
    """A client of `served` (an app, or a middleware in front of `app`), for the frontend
    `name` starts with; a WSGI app's pool is closed with the client (ASGI has a lifespan)."""
    if FRONTENDS[name.partition("-")[0]].interface == "wsgi":
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
