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
    server: str, app: str, interface: str, host: str, port: int, workers: int, threads: int = 1,
    reload: bool = False,
) -> list[str]:
    """The command that serves `app` ("module:attribute"); interface is "wsgi" or "asgi".

    `threads` is how many requests a WSGI worker serves at once (ASGI ones are not limited).
    """
    python = [sys.executable, "-m", server]
    if server == "gunicorn":
        command = python + ["--workers", str(workers), "--bind", f"{bind_host(host)}:{port}",
                            "--no-control-socket", "--threads", str(threads)]
    elif server == "granian":
        command = python + ["--interface", interface, "--workers", str(workers), "--host", host,
                            "--port", str(port), "--no-access-log"]
        if interface == "wsgi":
            command += ["--blocking-threads", str(threads)]
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
