"""`todo-api serve` as a real process on a loopback port, for tests that need one."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from todo_api.serve.frontends import FRONTENDS as FRONTEND_TABLE

FRONTENDS = list(FRONTEND_TABLE)
TODO_API = str(Path(sys.executable).parent / "todo-api")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(port, method, path, headers=None, body=None, chunked=False):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        if chunked:  # no Content-Length: the body arrives in chunks
            connection.request(method, path, body=iter([body[:10], body[10:]]), headers=headers or {},
                               encode_chunked=True)
        else:
            connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def streams_open(port: int) -> float:
    """The event streams the server's workers hold now, from its /metrics."""
    text = call(port, "GET", "/metrics")[2].decode()
    return float(next(line.split()[1] for line in text.splitlines() if line.startswith("todo_api_event_streams ")))


class Server:
    """A `todo-api serve` process; its output is collected for assertions and diagnosis."""

    def __init__(self, frontend: str, cwd: Path, env: dict[str, str], workers: int = 1,
                 server: str | None = None, port: int | None = None) -> None:
        self.port = port or free_port()
        self.lines: list[str] = []
        base = {k: v for k, v in os.environ.items()
                if k not in {"DATABASE_URL", "BETTER_AUTH_SECRET", "BETTER_AUTH_URL", "CORS_ORIGINS"}}
        choice = ["--server", server] if server else []
        self.process = subprocess.Popen(
            [TODO_API, "serve", "--frontend", frontend, "--port", str(self.port), "--workers", str(workers),
             *choice],
            cwd=cwd, env={**base, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,  # a group of its own, as a shell's job
        )
        self.collector = threading.Thread(target=self._collect, daemon=True)
        self.collector.start()
        self._wait_until_healthy()

    def all_lines(self, timeout: float = 10) -> list[str]:
        """Every line, once the process and whatever it started have closed the output."""
        self.collector.join(timeout)
        return self.lines

    def _collect(self) -> None:
        for line in self.process.stdout:  # type: ignore[union-attr]
            self.lines.append(line.rstrip("\n"))

    def _wait_until_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("server exited:\n" + "\n".join(self.lines))
            try:
                if call(self.port, "GET", "/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError("server never became healthy:\n" + "\n".join(self.lines))

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
