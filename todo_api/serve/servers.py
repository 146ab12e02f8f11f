"""The production servers' command lines (which frontend runs under which: todo_api.serve.frontends).

`todo-api serve` and the load benchmark both build them here, so what is measured is
what is deployed.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import signal
import sys

from core import settings_table as table

LISTEN_BACKLOG = 4096
CONNECTIONS_PER_WORKER = 10_000
HEADER_READ_TIMEOUT_SECONDS = 5
MAX_HEAD_BYTES = 32 * 1024
"""Request line and headers: past this, 431 (granian: its read buffer; uvicorn: see bounded_head)."""


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> None:
    """In a server process before it starts (Linux): SIGTERM when its parent dies, even by
    SIGKILL, so that a killed `serve` leaves no server holding the port."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


ENFORCES_WRITE_TIMEOUT = {"granian": False, "uvicorn": True}
"""granian has no write timeout of its own and takes no listening socket from outside, so
the kernel's (TCP_USER_TIMEOUT, see todo_api.serve.listening) cannot reach its connections
without patching its internals: under granian, a client that stops reading keeps its
answer in the worker's memory until a proxy in front gives up on it (docs/operating.md)."""


def server_command(
    server: str, app: str, interface: str, host: str, port: int, workers: int, threads: int = 1,
    reload: bool = False, grace: float = table.SHUTDOWN_GRACE_SECONDS.default,
) -> list[str]:
    """The command that serves `app` ("module:attribute"); interface is "wsgi" or "asgi".

    `threads` is how many requests a WSGI worker serves at once (ASGI ones are not limited).
    `grace`: seconds a stop waits for requests in flight before a worker is killed.
    Only public command lines and settings: granian's own, and uvicorn's through
    todo_api.serve.uvicorn_bounded (which adds WRITE_TIMEOUT_SECONDS and the bounds on request heads).
    """
    seconds = str(max(1, math.ceil(grace)))  # granian and uvicorn take whole seconds
    if server == "granian":
        command = [sys.executable, "-m", "granian", "--interface", interface, "--workers", str(workers),
                   "--host", host, "--port", str(port), "--no-access-log",
                   "--backlog", str(LISTEN_BACKLOG), "--backpressure", str(CONNECTIONS_PER_WORKER),
                   "--http1-header-read-timeout", str(HEADER_READ_TIMEOUT_SECONDS * 1000),
                   "--http1-buffer-size", str(MAX_HEAD_BYTES), "--workers-kill-timeout", seconds]
        if interface == "wsgi":
            command += ["--blocking-threads", str(threads)]
    elif server == "uvicorn":
        command = [sys.executable, "-m", "todo_api.serve.uvicorn_bounded", "--workers", str(workers),
                   "--host", host, "--port", str(port), "--timeout-graceful-shutdown", seconds]
    else:
        raise ValueError(f"unknown server {server!r}")
    if reload:
        command.append("--reload")
    return command + [app]
