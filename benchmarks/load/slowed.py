"""The API with every request made slower on purpose, to prove that the benchmark's gates bite.

Only the load benchmark loads this module, and only when `SLOWED_API_ENV` is set in its
environment (a test does so); `todo-api serve` never imports anything from `benchmarks`.
Each request first burns `SLOWED_API_ENV` milliseconds of CPU, as a regression in the
handler would, rather than sleeping, which a threaded or async server would hide.
"""

from __future__ import annotations

import functools
import importlib
import os
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from todo_api.serve.frontends import FRONTENDS

SLOWED_API_ENV = "TODO_BENCH_SLOWED_API_MS"


def burn() -> None:
    until = time.perf_counter() + float(os.environ.get(SLOWED_API_ENV, "0")) / 1000
    while time.perf_counter() < until:
        pass


@functools.cache
def frontend_app(framework: str) -> Any:
    """The frontend's own app, loaded on first use so that each server loads only its own."""
    module, attribute = FRONTENDS[framework].app.split(":")
    return getattr(importlib.import_module(module), attribute)


def flask(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    burn()
    return frontend_app("flask")(environ, start_response)  # type: ignore[no-any-return]


async def quart(scope: dict[str, Any], receive: Callable[[], Awaitable[Any]],
                send: Callable[[Any], Awaitable[None]]) -> None:
    if scope["type"] == "http":
        burn()
    await frontend_app("quart")(scope, receive, send)
