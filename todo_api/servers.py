"""The production servers each frontend runs under, and their command lines.

One table serves `todo-api serve` and the load benchmark, so what is measured is what
is deployed. The defaults were chosen from the benchmark (README, "Benchmarks").
"""

from __future__ import annotations

import sys

SERVERS: dict[str, tuple[str, ...]] = {
    "flask": ("granian", "gunicorn"),  # WSGI
    "quart": ("uvicorn", "granian", "hypercorn"),  # ASGI
}
DEFAULT_SERVER = {"flask": "granian", "quart": "uvicorn"}
APPS = {"flask": "web_flask.wsgi:app", "quart": "web_quart.asgi:app"}


def bind_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def server_command(
    server: str, app: str, interface: str, host: str, port: int, workers: int, reload: bool = False
) -> list[str]:
    """The command that serves `app` ("module:attribute"); interface is "wsgi" or "asgi"."""
    python = [sys.executable, "-m", server]
    if server == "gunicorn":
        command = python + ["--workers", str(workers), "--bind", f"{bind_host(host)}:{port}",
                            "--no-control-socket"]
    elif server == "granian":
        command = python + ["--interface", interface, "--workers", str(workers), "--host", host,
                            "--port", str(port), "--no-access-log"]
        if interface == "wsgi":
            # One thread per worker: more only contend for the GIL. Measured on the list route,
            # 2 workers: 1 thread 3,540 req/s, p99 18 ms; 2: 3,496, 21 ms; 4: 3,092, 26 ms.
            command += ["--blocking-threads", "1"]
    elif server == "hypercorn":
        command = python + ["--workers", str(workers), "--worker-class", "uvloop",
                            "--bind", f"{bind_host(host)}:{port}"]
    elif server == "uvicorn":
        command = python + ["--workers", str(workers), "--host", host, "--port", str(port),
                            "--no-access-log"]
    else:
        raise ValueError(f"unknown server {server!r}")
    if reload:
        command.append("--reload")
    return command + [app]
