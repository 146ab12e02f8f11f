"""The production servers' command lines (which frontend runs under which: todo_api.frontends).

`todo-api serve` and the load benchmark both build them here, so what is measured is
what is deployed.
"""

from __future__ import annotations

import math
import sys

LISTEN_BACKLOG = 4096
CONNECTIONS_PER_WORKER = 10_000
HEADER_READ_TIMEOUT_SECONDS = 5
MAX_HEAD_BYTES = 32 * 1024
"""Request line and headers: past this, 431 (granian: its read buffer; uvicorn: see uvicorn_bounded)."""
DEFAULT_SHUTDOWN_GRACE_SECONDS = 10.0


STOP_THE_WHOLE_GROUP = {"granian": False, "hypercorn": False, "uvicorn": True}
"""Whether `serve` passes a stop to every process of the server, or to its main process only.

granian's and hypercorn's main processes stop their workers at once, one signal each, and
a granian WSGI worker given a second SIGTERM while it handles the first can deadlock.
uvicorn's main process looks at signals every 0.5 s, while its workers would go on
accepting; they stop at once on a signal of their own and take a second one in their
stride."""


def bind_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def server_command(
    server: str, app: str, interface: str, host: str, port: int, workers: int, threads: int = 1,
    reload: bool = False, grace: float = DEFAULT_SHUTDOWN_GRACE_SECONDS,
) -> list[str]:
    """The command that serves `app` ("module:attribute"); interface is "wsgi" or "asgi".

    `threads` is how many requests a WSGI worker serves at once (ASGI ones are not limited).
    `grace`: seconds a stop waits for requests in flight before a worker is killed.
    """
    seconds = str(max(1, math.ceil(grace)))  # granian and uvicorn take whole seconds
    # Each server runs through its launcher in todo_api (`*_bounded`), which adds WRITE_TIMEOUT.
    python = [sys.executable, "-m", f"todo_api.{server}_bounded"]
    if server == "granian":
        command = python + ["--interface", interface, "--workers", str(workers), "--host", host,
                            "--port", str(port), "--no-access-log",
                            "--backlog", str(LISTEN_BACKLOG), "--backpressure", str(CONNECTIONS_PER_WORKER),
                            "--http1-header-read-timeout", str(HEADER_READ_TIMEOUT_SECONDS * 1000),
                            "--http1-buffer-size", str(MAX_HEAD_BYTES), "--workers-kill-timeout", seconds]
        if interface == "wsgi":
            command += ["--blocking-threads", str(threads)]
    elif server == "hypercorn":
        command = python + ["--workers", str(workers), "--worker-class", "uvloop",
                            "--bind", f"{bind_host(host)}:{port}", "--graceful-timeout", seconds]
    elif server == "uvicorn":  # also bounds the request head: see todo_api.uvicorn_bounded
        command = python + ["--workers", str(workers), "--host", host, "--port", str(port), "--no-access-log",
                            "--timeout-graceful-shutdown", seconds]
    else:
        raise ValueError(f"unknown server {server!r}")
    if reload:
        command.append("--reload")
    return command + [app]
