"""One synchronous client interface over both frontends' in-process test clients.

The behaviour suite is written once against `ApiClient`; fixtures hand it a Flask or
a Quart implementation. Quart's app runs on an event loop in a thread of its own, so
the same sync test code drives it, and `many` sends requests truly concurrently.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import attrs
from werkzeug.datastructures import Headers

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


class FlaskClient:
    name = "flask"

    def __init__(self, app: Any) -> None:
        self.app = app

    def send(self, call: Call) -> Result:
        response = self.app.test_client().open(
            call.path, method=call.method, headers=call.headers, data=call.body
        )
        return Result(response.status_code, lower(response.headers), response.get_data())

    def many(self, calls: list[Call]) -> list[Result]:
        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(self.send, calls))

    def close(self) -> None:
        self.app.extensions["todo_api"]["database"].close()


class QuartClient:
    name = "quart"

    def __init__(self, app: Any) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.lifespan = app.test_app()
        self.run(self.lifespan.__aenter__())

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    async def _send(self, call: Call) -> Result:
        response = await self.app.test_client().open(
            call.path, method=call.method, headers=call.headers, data=call.body
        )
        return Result(response.status_code, lower(response.headers), await response.get_data())

    def send(self, call: Call) -> Result:
        return self.run(self._send(call))  # type: ignore[no-any-return]

    def many(self, calls: list[Call]) -> list[Result]:
        async def all_at_once() -> list[Result]:
            return list(await asyncio.gather(*(self._send(c) for c in calls)))

        return self.run(all_at_once())  # type: ignore[no-any-return]

    def close(self) -> None:
        self.run(self.lifespan.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


def make_client(frontend: str, settings: Any) -> FlaskClient | QuartClient:
    """A client of a new app of that frontend (todo_api.frontends), driven in-process."""
    chosen = FRONTENDS[frontend]
    client = FlaskClient if chosen.interface == "wsgi" else QuartClient
    return client(chosen.create_app(settings))


def create_task(client: ApiClient, user: Any, **fields: Any) -> dict[str, Any]:
    """Create a task for `user` (defaults filled in) and return its JSON; asserts 201."""
    body = {"title": "A task", "priority": "medium", "category": "work", **fields}
    created = request(client, "POST", user.tasks, headers=user.headers, json=body)
    assert created.status == 201, created.body
    return created.json()  # type: ignore[no-any-return]
